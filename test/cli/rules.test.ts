/**
 * `jitsudo rules` against the repository's example policy: from a clone without a token, and
 * through the local GitHub with one (the token's person by default, anyone with --login); and the
 * listing itself, including rules an earlier rule makes unreachable.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { listRules, formatRuleListing } from "../../src/cli/rule-listing.js";
import { rulesCommand } from "../../src/cli/rules.js";
import { parseTenantConfig } from "../../src/config/tenant.js";
import {
  ACCESS_CODEOWNERS,
  baseEnv,
  cliIo,
  cloneWith,
  EXAMPLE_POLICY,
  gitIn,
  removeScratch,
  startAccessGitHub,
} from "../support/access-clone.js";
import { policyYaml, READ_ONLY_RULE } from "../support/policy-fixtures.js";

afterAll(removeScratch);

async function rules(args: string[], env: Record<string, string>, cwd: string) {
  const run = cliIo(cwd, env);
  const code = await rulesCommand(args, run.io);
  return { code, stdout: run.stdout, stderr: run.stderr };
}

const EXAMPLE_RULES = [
  "",
  "rules[0] (.github/jitsudo.yml line 14): ReadOnlyAccess on any account",
  "  up to 8h · 1 code-owner approval",
  "",
  "rules[1] (.github/jitsudo.yml line 18): AdministratorAccess on account 123456789012",
  "  up to 2h · 2 code-owner approvals · ticket required",
  "",
  "rules[2] (.github/jitsudo.yml line 23): PowerUserAccess on account staging",
  "  30m to 4h · 1 code-owner approval",
  "",
];

describe("jitsudo rules", () => {
  it("lists the example policy's rules for a login, from the clone's default branch", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY, ".github/CODEOWNERS": ACCESS_CODEOWNERS });
    const alice = await rules(["--login", "alice"], baseEnv(), clone);
    expect([alice.code, alice.stdout]).toEqual([
      0,
      [
        'alice is granted access as Identity Center user "alice@example.com" (users: in .github/jitsudo.yml)',
        ...EXAMPLE_RULES,
        "approvers of alice's requests (access-requests/alice/): @bob, @acme/platform (.github/CODEOWNERS line 1, a team through its active members)",
      ],
    ]);
    // carol is in no users: entry, and her directory has an owner of its own.
    gitIn(clone, "config", "github.user", "carol");
    const carol = await rules([], baseEnv(), clone);
    expect([carol.stdout[0], carol.stdout.at(-1)]).toEqual([
      'carol is granted access as Identity Center user "carol" (not in users: of .github/jitsudo.yml, so the login itself)',
      "approvers of carol's requests (access-requests/carol/): @alice (.github/CODEOWNERS line 2)",
    ]);
  });

  it("lists the token's person's rules through the GitHub API, or anyone's with --login", async () => {
    const github = await startAccessGitHub();
    try {
      const mine = await rules(["--repo", "acme/access"], github.env("alice"), "/");
      expect([mine.code, mine.stdout[0], mine.stderr[0]]).toEqual([
        0,
        'alice is granted access as Identity Center user "alice@example.com" (users: in .github/jitsudo.yml)',
        `policy and CODEOWNERS: acme/access main (the default branch) at ${github.repo.branch("main")!.slice(0, 7)}, read through the GitHub API`,
      ]);
      expect(mine.stdout.slice(1, -1)).toEqual(EXAMPLE_RULES);
      const bobs = await rules(["--repo", "acme/access", "--login", "bob"], github.env("alice"), "/");
      expect(bobs.stdout[0]).toBe('bob is granted access as Identity Center user "bob@example.com" (users: in .github/jitsudo.yml)');
      // In a clone, the repository is its origin's; the policy is still GitHub's, not the clone's.
      const clone = cloneWith({ ".github/jitsudo.yml": policyYaml() }, `git@${github.host.split(":")[0]}:acme/access.git`);
      const fromOrigin = await rules([], github.env("alice"), clone);
      expect(fromOrigin.stdout.slice(1, -1)).toEqual(EXAMPLE_RULES);
    } finally {
      await github.stop();
    }
  });

  it("judges teams of another organisation as the pull request check does, from a clone and through the API", async () => {
    // require_owners naming a team jitsudo cannot read memberships of: the app refuses the policy.
    const foreign = policyYaml({ rules: [{ ...READ_ONLY_RULE, require_owners: ["@evil/security"] }] });
    const refusal = 'is a team of "evil", not of "acme" where this repository is';
    const clone = cloneWith({ ".github/jitsudo.yml": foreign, ".github/CODEOWNERS": ACCESS_CODEOWNERS }, "git@github.com:acme/access.git");
    const fromClone = await rules(["--login", "alice"], baseEnv(), clone);
    expect([...fromClone.stdout, ...fromClone.stderr].join("\n")).toContain(refusal);
    const github = await startAccessGitHub();
    try {
      github.repo.commit("main", { files: { ".github/jitsudo.yml": foreign }, author: "acme" });
      const throughApi = await rules(["--repo", "acme/access", "--login", "alice"], github.env("alice"), "/");
      expect([...throughApi.stdout, ...throughApi.stderr].join("\n")).toContain(refusal);
    } finally {
      await github.stop();
    }
  });

  it("says what to pass when it cannot tell whose rules, or the login is not one", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY });
    const nobody = await rules([], baseEnv(), clone);
    expect([nobody.code, nobody.stderr.slice(1)]).toEqual([
      2,
      [
        "jitsudo rules: whose rules? pass --login <GitHub login>, or set GITHUB_TOKEN (or run gh auth login) to list your own",
        "usage: jitsudo rules [--login <GitHub login>] [--repo <owner/name>]",
      ],
    ]);
    const odd = await rules(["--login", "../../etc"], baseEnv(), clone);
    expect([odd.code, odd.stderr[1]]).toEqual([2, 'jitsudo rules: "../../etc" is not a GitHub login; pass --login <GitHub login>']);
  });

  it("refuses an invalid policy at the default branch, listing its problems at their lines", async () => {
    const clone = cloneWith({ ".github/jitsudo.yml": 'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n' });
    const result = await rules(["--login", "alice"], baseEnv(), clone);
    expect([result.code, result.stdout, result.stderr.slice(1)]).toEqual([
      1,
      [],
      [
        [
          "jitsudo rules: .github/jitsudo.yml on the base branch is invalid, so nothing can be granted until an admin fixes it (problems listed below)",
          '  .github/jitsudo.yml:2:5: missing required key "rules[0].max_duration"; add max_duration: <longest allowed, e.g. 8h>',
        ].join("\n"),
      ],
    ]);
  });

  it("runs as the jitsudo command does, in a process of its own", () => {
    const clone = cloneWith({ ".github/jitsudo.yml": EXAMPLE_POLICY, ".github/CODEOWNERS": ACCESS_CODEOWNERS });
    // tsx by its own path: the clone is outside this repository, where `tsx` alone would not resolve.
    const tsx = import.meta.resolve("tsx");
    const result = spawnSync(
      process.execPath,
      ["--import", tsx, fileURLToPath(new URL("../../src/cli.ts", import.meta.url)), "rules", "--login", "alice"],
      {
        cwd: clone,
        env: baseEnv(),
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect([result.status, result.stdout.split("\n").slice(1, 3)]).toEqual([
      0,
      ["", "rules[0] (.github/jitsudo.yml line 14): ReadOnlyAccess on any account"],
    ]);
  });
});

describe("the rule listing", () => {
  it("says when a rule never applies because earlier rules decide everything it lists", () => {
    const parsed = parseTenantConfig(
      new TextEncoder().encode(
        policyYaml({
          rules: [
            { permission_sets: ["ReadOnlyAccess"], accounts: ["*"], max_duration: "8h" },
            { permission_sets: ["AdministratorAccess"], accounts: ["111111111111"], max_duration: "1h", approvals: 2 },
            { permission_sets: ["ReadOnlyAccess", "AdministratorAccess"], accounts: ["111111111111"], max_duration: "12h" },
            { permission_sets: ["*"], accounts: ["111111111111"], max_duration: "1h", allow_other_principal: true },
          ],
        }),
      ),
    );
    if (!parsed.ok) throw new Error("the policy must parse");
    const listing = listRules(parsed.config, "dave");
    expect(listing.rules.map((rule) => rule.shadowedBy)).toEqual([[], [], [0, 1], []]);
    expect(formatRuleListing(listing, ".github/jitsudo.yml").filter((line) => line.startsWith("  "))).toEqual([
      "  up to 8h · 1 code-owner approval",
      "  up to 1h · 2 code-owner approvals",
      "  up to 12h · 1 code-owner approval · never applies: rules[0] and rules[1] come first for everything it lists",
      "  up to 1h · 1 code-owner approval · may be requested for someone else (principal)",
    ]);
  });

  it("shows break-glass, lead time and the minimum where a rule sets them", () => {
    const parsed = parseTenantConfig(
      new TextEncoder().encode(
        [
          "rules:",
          "  - permission_sets: [AdministratorAccess]",
          '    accounts: ["123456789012"]',
          "    max_duration: 4h",
          "    min_duration: 15m",
          "    max_lead_time: 2d",
          "    approvals: 2",
          '    break_glass: { teams: ["@acme/oncall"], max_duration: 1h }',
          "",
        ].join("\n"),
      ),
    );
    if (!parsed.ok) throw new Error("the policy must parse");
    expect(formatRuleListing(listRules(parsed.config, "alice"), ".github/jitsudo.yml").at(-1)).toBe(
      "  15m to 4h · 2 code-owner approvals · starts at most 2d ahead · break-glass for active members of @acme/oncall: up to 1h without approval, reviewed within 1d",
    );
  });
});
