/**
 * The service commands as users run them: a process with an environment, an exit code, and a
 * message on stderr when something is missing.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freshDatabase } from "../support/db.js";

function jitsudo(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", ...args], {
    env: { PATH: process.env.PATH!, LOG_LEVEL: "silent", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return {
    code: result.status,
    stderr: result.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/, ""),
  };
}

describe("jitsudo worker / migrate", () => {
  it("refuses to start the worker without an Identity Center instance, saying what to set", () => {
    const { code, stderr } = jitsudo(["worker"], { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(code).toBe(1);
    expect(stderr).toBe(
      [
        "jitsudo: invalid configuration:",
        "  - IC_INSTANCE_ARN is not set; the worker needs the Identity Center instance to provision in (arn:aws:sso:::instance/ssoins-…)",
        "  - AWS_REGION is not set; the worker needs the region of the Identity Center instance, e.g. us-east-1",
        "",
      ].join("\n"),
    );
  });

  it("applies migrations into a schema of its own and exits", async () => {
    const { url, schema } = await freshDatabase();
    const { code, stderr } = jitsudo(["migrate"], { DATABASE_URL: url, DATABASE_SCHEMA: `${schema}_cli` });
    expect([code, stderr]).toEqual([0, ""]);
  });
});
