/**
 * One logger, one format: JSON lines in production, readable lines on a terminal, the same
 * redaction either way, and errors with their stack.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/config/env.js";
import { createLogger } from "../../src/observability/logger.js";

function sink(isTTY = false): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { isTTY?: boolean };
  if (isTTY) stream.isTTY = true;
  return { stream, text: () => chunks.join("") };
}

describe("the logger", () => {
  it("writes JSON lines by default off a terminal, with an error's type, message and stack under err", () => {
    const out = sink();
    createLogger({ destination: out.stream }).error({ err: new TypeError("boom") }, "it failed");
    const line = JSON.parse(out.text().trim()) as { msg: string; name: string; err: { type: string; message: string; stack: string } };
    expect(line).toMatchObject({ msg: "it failed", name: "jitsudo", err: { type: "TypeError", message: "boom" } });
    expect(line.err.stack).toContain("logger.test.ts");
  });

  it("writes readable lines on a terminal, and when asked with LOG_FORMAT=pretty", () => {
    const terminal = sink(true);
    createLogger({ destination: terminal.stream }).info({ grant: "g-1" }, "grant active");
    expect(terminal.text()).toMatch(/INFO.*grant active/);
    expect(() => JSON.parse(terminal.text())).toThrow();

    const asked = sink();
    createLogger({ destination: asked.stream, format: "pretty" }).warn("careful");
    expect(asked.text()).toMatch(/WARN.*careful/);
  });

  it("redacts secrets by key in both formats", () => {
    for (const format of ["json", "pretty"] as const) {
      const out = sink();
      createLogger({ destination: out.stream, format }).info({ config: { privateKey: "-----BEGIN", token: "ghs_abc" } }, "configured");
      expect(out.text()).not.toContain("BEGIN");
      expect(out.text()).not.toContain("ghs_abc");
      expect(out.text()).toContain("[redacted]");
    }
  });

  it("takes LOG_FORMAT from the environment, and refuses a value it does not know", () => {
    expect(parseEnv({ LOG_FORMAT: "pretty" }).logFormat).toBe("pretty");
    expect(parseEnv({}).logFormat).toBeUndefined();
    const unknown: Record<string, string> = { LOG_FORMAT: "xml" };
    expect(() => parseEnv(unknown)).toThrow(/LOG_FORMAT="xml" must be one of json, pretty/);
  });
});
