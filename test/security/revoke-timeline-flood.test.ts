/**
 * Security review (round 2) finding: a revoke by deletion can still be blocked by the grantee.
 *
 * The first review's finding 2 (test/security/revoke-fails-open.test.ts) was that the early-revoke
 * paths fail closed, which for a revoke keeps access alive, on something the requester can cause.
 * The fix makes a merged deletion fail open on policy and CODEOWNERS problems, but `judge`
 * (src/approval/approval.ts) still passes `blocked = incomplete.length > 0` to `judgeRevoke`, and
 * `incomplete` includes "GitHub's timeline of this pull request is longer than jitsudo reads":
 * `pullTimeline` (src/github/octokit-gateway.ts) reads at most 10 pages of 100 items of the types
 * PULL_REQUEST_REVIEW, MERGED_EVENT and BASE_REF_*. Anyone who can read the repository can submit
 * COMMENT reviews on any pull request, including the grantee on security's deletion PR. A thousand
 * comment reviews (a short script) make the timeline "incomplete", the deletion is rejected, the
 * request file is gone from main (so no second deletion PR is possible) and the access runs to its
 * expiry unless someone knows to use `/jitsudo revoke` on the ORIGINAL pull request.
 *
 * The same flood lets anyone with read access block any grant (griefing, lower severity).
 *
 * Suggested fix: for a revoke, an incomplete timeline should not block: count an approval of the
 * deleted path's owner that REST shows submitted before `merged_at` (the safe direction needs no
 * certainty about withdrawals); or read the reviews of the timeline without COMMENTED ones (GraphQL
 * `reviews(states: [APPROVED, CHANGES_REQUESTED, DISMISSED])` and the MergedEvent separately), so
 * comment spam cannot exhaust the budget.
 */
import { describe, expect, it } from "vitest";
import { READ_ONLY, useSecurityWorld } from "./support/security-world.js";

describe("a deletion PR flooded with comment reviews by the grantee", () => {
  const world = useSecurityWorld();

  it("still ends alice's access when security's deletion of her request file is approved and merged", async () => {
    const path = world.newPath("alice");
    const number = await world.grant({ author: "alice", commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });

    // Security removes the request file; erin (a code owner) approves the removal.
    const removal = world.openPull({ author: "dave", commits: [{ files: { [path]: null } }] });
    // alice, who can read the repository, floods the removal with comment reviews.
    for (let i = 0; i < 1000; i++) world.access.review(removal, "alice", "COMMENTED", { body: `nit ${i}` });
    world.review(removal, "erin");
    await world.merge(removal, "merge", { by: "dave" });

    expect((await world.grants(number)).map((grant) => grant.status)).not.toEqual(["active"]);
  });
});
