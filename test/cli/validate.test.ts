import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { validateCommand } from "../../src/cli/validate.js";
import { policyYaml, READ_ONLY_RULE, requestYaml } from "../support/policy-fixtures.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "../..");
const VALID = requestYaml({ reason: "Investigate the alarms" });

const workspaces: string[] = [];
afterAll(() => {
  for (const root of workspaces) rmSync(root, { recursive: true, force: true });
});

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "jitsudo-cli-"));
  workspaces.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

function run(args: string[], cwd: string) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = validateCommand(args, {
    cwd,
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    now: () => new Date("2026-11-25T12:00:00Z"),
  });
  return { code, stdout, stderr };
}

describe("jitsudo validate", () => {
  it("passes the repository's own examples against its example policy", () => {
    const result = run([], REPO);
    // The example that names its account by name is valid, with the warning that names are looked up.
    expect([result.code, result.stdout]).toEqual([
      0,
      [
        'access-requests/examples/scheduled-by-name.yml:8:10: warning: account "staging" is a name; policy rules are matched on the account\'s 12-digit id, which jitsudo looks up and checks again before provisioning (if the rule for that id asks for more, nothing is granted); write the id to see now which rule applies',
      ],
    ]);
    expect(result.stderr).toEqual(["3 request files checked: 0 errors"]);
  });

  it("checks every file under access-requests/ and prints path:line:col: message", () => {
    const root = workspace({
      "access-requests/ok.yaml": VALID,
      "access-requests/team/bad.yml": VALID.replace("2h", "2"),
      "access-requests/notes.txt": "ignored",
    });
    const result = run([], root);
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual(['access-requests/team/bad.yml:3:11: duration "2" has no unit; write 2m or 2h']);
    expect(result.stderr).toEqual([
      "note: no .github/jitsudo.yml here: files were checked against the schema only, not the policy",
      "2 request files checked: 1 error",
    ]);
  });

  it("applies the policy from --config and the requester from --requester", () => {
    const root = workspace({
      "policy.yml": policyYaml({ rules: [{ ...READ_ONLY_RULE, max_duration: "1h" }] }),
      "access-requests/r.yaml": `${VALID}principal: bob\n`,
    });
    const result = run(["--config", "policy.yml", "--requester", "alice"], root);
    expect([result.code, result.stdout]).toEqual([
      1,
      [
        'access-requests/r.yaml:3:11: duration "2h" is longer than the 1h that rules[0] (policy.yml line 2) allows; ask for 1h or less',
        'access-requests/r.yaml:5:12: principal "bob" is not the author\'s own (alice maps to "alice"); rules[0] (policy.yml line 2) does not allow requesting for someone else, so remove principal',
      ],
    ]);
  });

  it("prints JSON for tools, and exits 0 when only warnings remain", () => {
    const root = workspace({ "access-requests/r.yaml": `${VALID}starts_at: 2026-01-01T00:00:00Z\n` });
    const result = run(["--format", "json"], root);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.join("\n"));
    expect([report.errors, report.warnings, report.files[0].valid, report.files[0].problems[0].severity]).toEqual([0, 1, true, "warning"]);
  });

  it("refuses files outside access-requests/ and unknown paths", () => {
    const root = workspace({ "elsewhere/r.yaml": VALID });
    const result = run(["elsewhere/r.yaml", "access-requests/none.yaml"], root);
    expect([result.code, result.stdout]).toEqual([
      1,
      [
        "elsewhere/r.yaml:1:1: is not a request file: requests are .yaml or .yml files under access-requests/ at the repository root",
        "access-requests/none.yaml:1:1: no such file or directory",
      ],
    ]);
  });

  it("exits 2 on bad usage", () => {
    expect(run(["--format", "xml"], REPO).code).toBe(2);
    expect(run(["--bogus"], REPO).code).toBe(2);
  });
});
