/**
 * Rulebook: "No commit of the PR changes CODEOWNERS (any location) or .github/jitsudo.yml, even if
 * a later commit changes it back", "a rebase merge of a PR whose first commit edits CODEOWNERS or
 * the policy and whose second commit reverts it (the net diff shows nothing)", "the PR edits
 * CODEOWNERS, or adds a pattern that makes the requester's friend an owner", "the PR edits
 * .github/jitsudo.yml to loosen a rule and requests under the loosened rule", and "Base means the
 * default branch exactly as it was just before the merge, whatever the merge method".
 *
 * The hole: for a rebase merge, merge_commit_sha is the last rebased commit, whose first parent is
 * the PR's own first commit, so CODEOWNERS and the policy were read from inside the PR.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { CODEOWNERS, POLICY, READ_ONLY, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];
/** mallory, a friend with write access who is not a code owner, appointed by the PR itself. */
const FRIENDLY_CODEOWNERS = "/access-requests/ @mallory\n";
const ADMIN_FOR_700H = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess").replace("2h", "700h");
const LOOSE_POLICY = POLICY.replace("max_duration: 8h", "max_duration: 800h").replace("    approvals: 2\n    require_ticket: true\n", "");

describe("governance changed inside the pull request", () => {
  const world = useSecurityWorld();
  // A merge that changed CODEOWNERS or the policy changed main for the tests after it.
  afterEach(() => world.restoreGovernance());

  it.each(METHODS)("grants a plain approved request merged with %s (the control)", async (method) => {
    const mark = world.mark();
    const number = world.openPull();
    world.review(number, "dave");
    await world.merge(number, method);
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
    expect(world.createsSince(mark)).toBe(1);
  });

  it.each(METHODS)("refuses CODEOWNERS appointing a friend in one commit and reverted in the next, merged with %s", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({
      commits: [
        { files: { ".github/CODEOWNERS": FRIENDLY_CODEOWNERS } },
        { files: { [path]: READ_ONLY } },
        { files: { ".github/CODEOWNERS": CODEOWNERS } },
      ],
    });
    world.review(number, "mallory");
    await world.merge(number, method);

    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    const verdict = await world.verdict(number);
    expect(verdict?.verdict).toBe("rejected");
    expect(verdict?.reasons).toContain(
      `commit ${firstCommit(world, number).slice(0, 7)} of this pull request changes .github/CODEOWNERS; even when a later commit changes it back, a pull request that touches code owners or policy grants nothing (a rebase merge lands every commit), so put such changes in their own pull request`,
    );
    // Read at the true base, CODEOWNERS says security owns the file, so mallory is not an owner.
    expect(verdict?.reasons).toContain(`${path}: @mallory is not a code owner of ${path}`);
    expect(world.comment(number)).toContain("### jitsudo: merge not approved, nothing was granted :no_entry:");
    expect(world.comment(number)).toContain("changes .github/CODEOWNERS; even when a later commit changes it back");
  });

  it.each(METHODS)("refuses a policy loosened in one commit and reverted in the next, merged with %s", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({
      commits: [
        { files: { ".github/jitsudo.yml": LOOSE_POLICY } },
        { files: { [path]: ADMIN_FOR_700H } },
        { files: { ".github/jitsudo.yml": POLICY } },
      ],
    });
    world.review(number, "dave");
    await world.merge(number, method);

    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    const reasons = (await world.verdict(number))?.reasons ?? [];
    expect(
      reasons.some((reason) =>
        reason.endsWith(
          "changes .github/jitsudo.yml; even when a later commit changes it back, a pull request that touches code owners or policy grants nothing (a rebase merge lands every commit), so put such changes in their own pull request",
        ),
      ),
    ).toBe(true);
    // Judged by the policy at the true base: 700h is far over that rule's limit.
    expect(reasons.some((reason) => reason.startsWith(`${path}: line 3: duration "700h" is longer than the 2h`))).toBe(true);
  });

  it.each(METHODS)("refuses a pull request that keeps its CODEOWNERS change, merged with %s", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY, CODEOWNERS: FRIENDLY_CODEOWNERS } }] });
    world.review(number, "mallory");
    world.review(number, "dave");
    await world.merge(number, method);
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    expect((await world.verdict(number))?.reasons).toContain(
      "this pull request also changes CODEOWNERS; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    );
  });

  it("judges a rebase merge by the default branch before the merge, not by the rebased commit's parent", async () => {
    // Without the attack's revert: the PR's first commit is an innocent README change. The parent
    // of merge_commit_sha is then that rebased commit, yet the base recorded is main's tip before.
    const mainBefore = world.access.branch("main")!;
    const path = world.newPath();
    const number = world.openPull({
      commits: [{ files: { "access-requests/README.md": "Requests live here.\n" } }, { files: { [path]: READ_ONLY } }],
    });
    world.review(number, "dave");
    const sha = await world.merge(number, "rebase");
    const row = (await world.db("merge_verdicts").where({ repo: world.access.fullName, pr_number: number }).first()) as {
      verdict: string;
      base_sha: string;
    };
    expect(row).toMatchObject({ verdict: "approved", base_sha: mainBefore });
    // The rebased request commit's parent is the rebased README commit, not main before the merge.
    expect(world.access.objects.require(sha).parents[0]).not.toBe(mainBefore);
    const approved = (await world
      .db("grant_events")
      .where({ repo: world.access.fullName, pr_number: number, type: "approved" })
      .first()) as { details: { base: unknown } };
    expect(approved.details.base).toEqual({
      sha: mainBefore,
      how: `GitHub's activity record of the merge (pr_merge, before ${mainBefore.slice(0, 7)})`,
    });
  });
});

/** The first commit of the pull request (GitHub keeps listing the original commits after a rebase merge). */
function firstCommit(world: SecurityWorld, number: number): string {
  const pull = world.access.pull(number);
  return world.access.changes(pull).commits[0]!.sha;
}
