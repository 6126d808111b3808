/**
 * Cross-team approval (issue 14): a rule's `require_owners: ["@acme/security", "@acme/platform"]`
 * needs, among the approvals that count, an ACTIVE member of each team; one person in both teams
 * stands for both and is still one approval. Every attack runs through Probot's webhook pipeline
 * against the local GitHub, real PostgreSQL, the real worker and the local Identity Center, and
 * asserts no grant, no CreateAccountAssignment and the reason on the pull request; the controls run
 * the same steps with approvals that do count and see the access granted.
 *
 * People: dave and erin are active members of security, carol and erin of platform (so erin is in
 * both); pia is an active member of security whose platform invitation is pending; sid is in
 * security but the CODEOWNERS line below leaves security out, so sid is not a code owner.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { policyYaml } from "../support/policy-fixtures.js";
import { expectRefused, ORG, POLICY_FIXTURE, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const BOTH = ["@acme/security", "@acme/platform"];
/** The policy: ReadOnlyAccess anywhere, with an approving member of each of BOTH (and `approvals` in all). */
const groupsPolicy = (approvals = 1, requireOwners: readonly string[] = BOTH) =>
  policyYaml({
    ...POLICY_FIXTURE,
    rules: [{ permission_sets: ["ReadOnlyAccess"], accounts: ["*"], max_duration: "8h", approvals, require_owners: requireOwners }],
  });
/** Line of `require_owners` in groupsPolicy: aws (5 lines), users (3), rules (1), then the rule's fifth line. */
const WHERE = "require_owners of rules[0] (.github/jitsudo.yml line 14)";
const BOTH_TEAMS_OWN = "/access-requests/ @acme/security @acme/platform\n";

describe("cross-team approval (require_owners)", () => {
  const world = useSecurityWorld();

  beforeAll(() => {
    const { github, access } = world;
    for (const login of ["carol", "erin", "pia", "sid"]) access.setPermission(login, "write");
    github.setTeamMembership(ORG, "platform", "carol", "active");
    github.setTeamMembership(ORG, "platform", "erin", "active");
    github.setTeamMembership(ORG, "security", "pia", "active");
    github.setTeamMembership(ORG, "platform", "pia", "pending");
    github.setTeamMembership(ORG, "security", "sid", "active");
    github.grantTeam(ORG, "platform", access, "write");
  });
  afterEach(() => {
    world.github.failures.length = 0;
  });

  /** A request alice opens, approved by `approvers`, merged with `method` under `policy` and `codeowners`. */
  async function request(
    approvers: string[],
    options: { policy?: string; codeowners?: string; method?: MergeMethod; commits?: Parameters<typeof world.openPull>[0] } = {},
  ): Promise<{ number: number; path: string; mark: number }> {
    return world.withGovernance(
      { policy: options.policy ?? groupsPolicy(), codeowners: options.codeowners ?? BOTH_TEAMS_OWN },
      async () => {
        const mark = world.mark();
        const path = world.newPath();
        const number = world.openPull(options.commits ?? { commits: [{ files: { [path]: READ_ONLY } }] });
        for (const login of approvers) world.review(number, login);
        await world.merge(number, options.method ?? "squash");
        return { number, path, mark };
      },
    );
  }

  it("says on the pull request which teams must approve, before the merge", async () => {
    await world.withGovernance({ policy: groupsPolicy(), codeowners: BOTH_TEAMS_OWN }, async () => {
      const number = world.openPull();
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      expect(world.comment(number)).toContain(
        "| Owner groups | still needed: an approving code owner who is an active member of each of `@acme/security`, `@acme/platform` (one person may stand for several) |",
      );
    });
  });

  it("grants when a member of each team approves, and the comment says who stood for each (the control)", async () => {
    const { number, mark } = await request(["dave", "carol"]);
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
    expect(world.createsSince(mark)).toBe(1);
    expect(world.comment(number)).toContain("| Owner groups | `@acme/security`: approved by @dave; `@acme/platform`: approved by @carol |");
    expect((await world.grants(number))[0]!.approver_sets![0]!.groups).toEqual([
      { team: "@acme/security", approvers: ["dave"] },
      { team: "@acme/platform", approvers: ["carol"] },
    ]);
  });

  it("refuses while a team has not approved, and the comment shows it still needed", async () => {
    const { number, path, mark } = await request(["dave"]);
    await expectRefused(
      world,
      number,
      mark,
      `${path}: needs an approval from an active member of @acme/platform (${WHERE}), and has none among the approvals that count (@dave)`,
    );
    expect(world.comment(number)).toContain("`@acme/security`: approved by @dave; `@acme/platform`: **still needed**");
  });

  it("does not count a member whose invitation to a required team is pending", async () => {
    const { number, path, mark } = await request(["pia"]);
    await expectRefused(world, number, mark, `${path}: @pia's membership of @acme/platform is pending`);
  });

  it("counts one person in both teams for both, and once toward approvals", async () => {
    const alone = await request(["erin"], { policy: groupsPolicy(2) });
    await expectRefused(world, alone.number, alone.mark, `${alone.path}: needs 2 code-owner approvals, has 1 (@erin)`);
    expect(world.comment(alone.number)).toContain("`@acme/security`: approved by @erin; `@acme/platform`: approved by @erin");

    const withAnother = await request(["erin", "dave"], { policy: groupsPolicy(2) });
    expect((await world.grants(withAnother.number)).map((grant) => grant.status)).toEqual(["active"]);
    const single = await request(["erin"], { policy: groupsPolicy(1) });
    expect((await world.grants(single.number)).map((grant) => grant.status)).toEqual(["active"]);
  });

  it("does not count a team member who authored a commit of the pull request", async () => {
    const path = world.newPath();
    const { number, mark } = await request(["dave", "carol"], {
      commits: {
        commits: [{ files: { [path]: READ_ONLY } }, { files: { [path]: READ_ONLY.replace("2h", "1h") }, author: "carol" }],
      },
    });
    await expectRefused(world, number, mark, (reason) => reason.startsWith(`${path}: @carol authored a commit in this pull request`));
    await expectRefused(
      world,
      number,
      mark,
      `${path}: needs an approval from an active member of @acme/platform (${WHERE}), and has none among the approvals that count (@dave)`,
    );
  });

  it("does not let the requester's own membership stand for a team", async () => {
    world.github.setTeamMembership(ORG, "platform", "alice", "active");
    try {
      // GitHub refuses a review by the pull request's author, so alice cannot approve; her membership alone is not an approval.
      const { number, path, mark } = await request(["dave"]);
      await expectRefused(
        world,
        number,
        mark,
        `${path}: needs an approval from an active member of @acme/platform (${WHERE}), and has none among the approvals that count (@dave)`,
      );
    } finally {
      world.github.setTeamMembership(ORG, "platform", "alice", null);
    }
  });

  it("does not count a team's approval given before a later push (stale)", async () => {
    await world.withGovernance({ policy: groupsPolicy(), codeowners: BOTH_TEAMS_OWN }, async () => {
      const mark = world.mark();
      const path = world.newPath();
      const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
      world.review(number, "carol");
      const approved = world.access.pull(number).headSha;
      world.access.commit(world.access.pull(number).headRef, { files: { [path]: READ_ONLY.replace("2h", "8h") }, author: "alice" });
      world.review(number, "dave");
      await world.merge(number, "merge");
      const head = world.access.pull(number).headSha;
      await expectRefused(world, number, mark, `${path}: @carol approved ${approved.slice(0, 7)}, not the merged head ${head.slice(0, 7)}`);
      await expectRefused(
        world,
        number,
        mark,
        `${path}: needs an approval from an active member of @acme/platform (${WHERE}), and has none among the approvals that count (@dave)`,
      );
    });
  });

  it("does not count a team member who is not a code owner of the file", async () => {
    // Platform alone owns the file here: sid (security) approves, but is no code owner.
    const { number, path, mark } = await request(["sid", "carol"], { codeowners: "/access-requests/ @acme/platform\n" });
    await expectRefused(world, number, mark, `${path}: @sid is not a code owner of ${path}`);
    await expectRefused(
      world,
      number,
      mark,
      `${path}: needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@carol)`,
    );
  });

  it("fails closed, saying so, when a required team was renamed (GitHub answers 404 for it)", async () => {
    world.github.renameTeam(ORG, "platform", "platform-engineering");
    try {
      // Security alone owns the file, so CODEOWNERS stays valid; the policy still names @acme/platform.
      const { number, path, mark } = await request(["dave", "erin"], { codeowners: "/access-requests/ @acme/security\n" });
      await expectRefused(
        world,
        number,
        mark,
        `${path}: @acme/platform, named in ${WHERE}, does not exist on GitHub (renamed or deleted?), so no approval can count for it; an admin must name an existing team there`,
      );
    } finally {
      world.github.renameTeam(ORG, "platform-engineering", "platform");
    }
  });

  it("fails closed, saying so, when a required team has child teams (GitHub counts their members as its own)", async () => {
    // mallory is in a child team of @acme/platform: GitHub's membership endpoint answers "active"
    // for her in @acme/platform, though whoever manages the child team decided it.
    world.github.nestTeam(ORG, "platform-contractors", "platform");
    world.github.setTeamMembership(ORG, "platform-contractors", "mallory", "active");
    try {
      const { number, path, mark } = await request(["dave", "carol"]);
      await expectRefused(
        world,
        number,
        mark,
        `${path}: @acme/platform, named in ${WHERE}, has child teams, and GitHub counts their members as its own, so jitsudo cannot tell who is in @acme/platform itself and no approval can count for it; an admin must name a team without child teams there`,
      );
    } finally {
      world.github.nestTeam(ORG, "platform-contractors", null);
    }
  });

  it("fails closed, saying why, when GitHub does not answer a membership", async () => {
    world.github.failures.push({ method: "GET", path: /^\/orgs\/acme\/teams\/platform\/memberships\/carol$/, status: 403 });
    const { number, path, mark } = await request(["dave", "carol"]);
    await expectRefused(
      world,
      number,
      mark,
      `${path}: jitsudo could not read whether @carol is a member of @acme/platform: GitHub answered 403 (the app needs the "members: read" permission); so their approval does not count`,
    );
  });

  it("refuses a team of another organisation in the policy, at its line", async () => {
    const { number, mark } = await request(["dave", "carol"], { policy: groupsPolicy(1, ["@acme/security", "@evil/friends"]) });
    await expectRefused(
      world,
      number,
      mark,
      `.github/jitsudo.yml line 14: rules[0].require_owners[1] "@evil/friends" is a team of "evil", not of "acme" where this repository is; jitsudo can only read memberships of "acme"'s teams, so name one of them`,
    );
  });
});
