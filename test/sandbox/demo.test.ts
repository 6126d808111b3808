/**
 * `npm run demo` keeps telling the whole story (here with a 15-second grant instead of a minute).
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("runs from pull request to revoke, and ends with nothing assigned", { timeout: 120_000 }, () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", "src/sandbox/demo.ts"], {
      env: {
        PATH: process.env.PATH!,
        JITSUDO_DEMO_DURATION: "15s",
        ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
      },
      encoding: "utf8",
      timeout: 110_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const output = result.stdout;
    for (const expected of [
      'check run "jitsudo": success: 1 access request valid: waiting for code-owner approval',
      "### jitsudo: access request :white_check_mark: valid, waiting for code-owner approval",
      "### jitsudo: access approved :white_check_mark:",
      "| Status | **active** until",
      "1 missing assignment repaired, 0 unexpected",
      "| Drift | the assignment was deleted outside jitsudo; jitsudo created it again",
      "### jitsudo: access ended",
      "assignments: []",
    ]) {
      expect(output).toContain(expected);
    }
  });
});
