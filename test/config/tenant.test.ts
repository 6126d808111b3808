import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseTenantConfig, principalFor } from "../../src/config/tenant.js";
import { formatProblem } from "../../src/parsing/problem.js";

const enc = (text: string) => new TextEncoder().encode(text);
const problems = (text: string) => {
  const result = parseTenantConfig(enc(text));
  return result.ok ? [] : result.problems.map(formatProblem);
};

describe("tenant config", () => {
  it("parses the documented example into the typed config", () => {
    const result = parseTenantConfig(readFileSync(new URL("../../.github/jitsudo.yml", import.meta.url)));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    const { config } = result;
    expect(config.aws).toEqual({
      roleArn: "arn:aws:iam::111111111111:role/jitsudo",
      region: "us-east-1",
      instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      identityStoreId: "d-0123456789",
    });
    expect([...config.users]).toEqual([
      ["alice", "alice@example.com"],
      ["bob", "bob@example.com"],
    ]);
    expect(
      config.rules.map((rule) => [
        rule.index,
        rule.line,
        rule.permissionSets,
        rule.accounts,
        rule.maxDurationMs,
        rule.minDurationMs,
        rule.approvals,
        rule.requireTicket,
      ]),
    ).toEqual([
      [0, 14, ["ReadOnlyAccess"], ["*"], 8 * 3_600_000, 60_000, 1, false],
      [1, 18, ["AdministratorAccess"], ["123456789012"], 2 * 3_600_000, 60_000, 2, true],
      [2, 23, ["PowerUserAccess"], ["staging"], 4 * 3_600_000, 30 * 60_000, 1, false],
    ]);
    expect(config.drift).toEqual({
      managedPermissionSets: ["ReadOnlyAccess", "AdministratorAccess"],
      unexpected: "flag",
      includeGroups: false,
    });
  });

  it("maps GitHub logins case-insensitively, and unmapped logins to themselves", () => {
    const result = parseTenantConfig(enc("users:\n  Alice: alice@example.com\n"));
    if (!result.ok) throw new Error("must parse");
    expect(principalFor(result.config, "ALICE")).toBe("alice@example.com");
    expect(principalFor(result.config, "bob")).toBe("bob");
  });

  it("keeps unquoted account ids with leading zeros as written", () => {
    const result = parseTenantConfig(
      enc("rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: [012345678901]\n    max_duration: 1h\n"),
    );
    if (!result.ok) throw new Error("must parse");
    expect(result.config.rules[0]!.accounts).toEqual(["012345678901"]);
  });

  it.each([
    ["an unknown top-level key", "rule:\n  - {}\n", ['.github/jitsudo.yml:1:1: unknown key "rule"; did you mean "rules"?']],
    [
      "an unknown rule key",
      "rules:\n  - permission_sets: [A]\n    accounts: ['*']\n    max_duration: 1h\n    aprovals: 2\n",
      ['.github/jitsudo.yml:5:5: unknown key "rules[0].aprovals"; did you mean "approvals"?'],
    ],
    [
      "a rule without max_duration",
      "rules:\n  - permission_sets: [A]\n    accounts: ['*']\n",
      ['.github/jitsudo.yml:2:5: missing required key "rules[0].max_duration"; add max_duration: <longest allowed, e.g. 8h>'],
    ],
    [
      "a bad role ARN",
      "aws:\n  role_arn: arn:aws:iam::1:user/x\n",
      ['.github/jitsudo.yml:2:13: aws.role_arn "arn:aws:iam::1:user/x" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)'],
    ],
    ["a bad region", "aws:\n  region: europe\n", ['.github/jitsudo.yml:2:11: aws.region "europe" is not an AWS region like us-east-1']],
    [
      "a bad duration",
      "rules:\n  - permission_sets: [A]\n    accounts: ['*']\n    max_duration: forever\n",
      ['.github/jitsudo.yml:4:19: rules[0].max_duration "forever" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H'],
    ],
    [
      "min above max",
      "rules:\n  - permission_sets: [A]\n    accounts: ['*']\n    max_duration: 1h\n    min_duration: 2h\n",
      [".github/jitsudo.yml:5:19: rules[0].min_duration is longer than its max_duration"],
    ],
    [
      "approvals out of range",
      "rules:\n  - permission_sets: [A]\n    accounts: ['*']\n    max_duration: 1h\n    approvals: 0\n",
      ['.github/jitsudo.yml:5:16: "rules[0].approvals" must be at least 1, not 0'],
    ],
    [
      "an unknown drift mode",
      "drift:\n  unexpected: delete\n",
      ['.github/jitsudo.yml:2:15: "drift.unexpected" must be one of flag, remove, not "delete"'],
    ],
    [
      "an alias",
      "rules:\n  - &r {permission_sets: [A], accounts: ['*'], max_duration: 1h}\n  - *r\n",
      [".github/jitsudo.yml:3:5: YAML aliases (*r) are not allowed here; write the value out in full"],
    ],
    ["an empty file", "", [".github/jitsudo.yml:1:1: file is empty; it needs at least one rule under rules:"]],
  ])("refuses %s", (_name, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });
});

describe("require_owners and max_session_duration", () => {
  const RULE = "rules:\n  - permission_sets: [AdministratorAccess]\n    accounts: ['*']\n    max_duration: 2h\n";
  const parse = (extra: string, organization?: string) =>
    parseTenantConfig(enc(`${RULE}${extra}`), ".github/jitsudo.yml", organization === undefined ? {} : { organization });
  const problemsOf = (extra: string, organization?: string) => {
    const result = parse(extra, organization);
    return result.ok ? [] : result.problems.map(formatProblem);
  };

  it("reads the teams each rule requires, with the line each is written on, and the session cap", () => {
    const result = parse('    require_owners:\n      - "@acme/security"\n      - "@Acme/platform"\n    max_session_duration: 1h\n', "acme");
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    const [rule] = result.config.rules;
    expect(rule!.requireOwners).toEqual([
      { org: "acme", slug: "security", line: 6 },
      { org: "Acme", slug: "platform", line: 7 },
    ]);
    expect(rule!.maxSessionDurationMs).toBe(3_600_000);
  });

  it("leaves rules without them uncapped and without teams", () => {
    const result = parse("");
    if (!result.ok) throw new Error("must parse");
    expect([result.config.rules[0]!.requireOwners, result.config.rules[0]!.maxSessionDurationMs]).toEqual([[], null]);
  });

  it("refuses a team of another organisation than the repository's, at its line", () => {
    expect(problemsOf('    require_owners: ["@acme/security", "@evil/friends"]\n', "acme")).toEqual([
      '.github/jitsudo.yml:5:40: rules[0].require_owners[1] "@evil/friends" is a team of "evil", not of "acme" where this repository is; jitsudo can only read memberships of "acme"\'s teams, so name one of them',
    ]);
  });

  it.each([
    [
      "a user instead of a team",
      '    require_owners: ["@alice"]\n',
      '.github/jitsudo.yml:5:22: require_owners team "@alice" is not a GitHub team; write it as @org/team-slug (GitHub tells jitsudo who is an active member of a team, not of anything else)',
    ],
    [
      // Octokit would put ".." in the URL, which resolves to the organisation's membership: any member.
      "a path segment for a slug",
      '    require_owners: ["@acme/.."]\n',
      '.github/jitsudo.yml:5:22: require_owners team "@acme/.." is not a GitHub team; write it as @org/team-slug (GitHub tells jitsudo who is an active member of a team, not of anything else)',
    ],
    ["no team at all", "    require_owners: []\n", '.github/jitsudo.yml:5:21: "rules[0].require_owners" must list at least one entry'],
    [
      "a cap shorter than any session AWS allows",
      "    max_session_duration: 30m\n",
      '.github/jitsudo.yml:5:27: rules[0].max_session_duration "30m" is shorter than 1h, the shortest session duration AWS lets a permission set have, so nothing could be granted under this rule; write 1h or more',
    ],
    [
      "a cap longer than any session AWS allows",
      "    max_session_duration: 1d\n",
      '.github/jitsudo.yml:5:27: rules[0].max_session_duration "1d" is longer than 12h, the longest session duration AWS lets a permission set have, so it caps nothing; write 12h or less, or remove it',
    ],
    [
      "a cap that is not a duration",
      "    max_session_duration: short\n",
      '.github/jitsudo.yml:5:27: rules[0].max_session_duration "short" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H',
    ],
  ])("refuses %s", (_name, extra, expected) => {
    expect(problemsOf(extra, "acme")).toEqual([expected]);
  });
});
