/**
 * Security review finding: a review whose `commit_id` is null is dropped entirely
 * (`listReviews` in src/github/octokit-gateway.ts keeps only `review.user && review.commit_id`).
 * GitHub's own description of the field: "If the commit object was garbage collected or forcibly
 * deleted, then it no longer exists in Git and this value will be `null`" (@octokit/openapi,
 * components.schemas.pull-request-review.commit_id). Dropping it is fail-open when the review is
 * a CHANGES_REQUESTED that withdrew an approval: the earlier approval becomes the reviewer's
 * latest review again. The local GitHub never produces a null `commit_id`; the test sets it, as
 * GitHub does once the reviewed commit is gone.
 */
import { describe, expect, it } from "vitest";
import { READ_ONLY, useSecurityWorld } from "./support/security-world.js";

describe("a withdrawn approval whose review commit is gone", () => {
  const world = useSecurityWorld();

  it("keeps counting dave's CHANGES_REQUESTED after the commit it was given on disappears", async () => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    const pull = world.access.pull(number);
    const approvedHead = pull.headSha;
    world.review(number, "dave"); // approves H
    // alice pushes another commit; dave looks again and requests changes on it.
    world.access.commit(pull.headRef, { files: { "access-requests/notes.md": "more\n" }, author: "alice", pusher: "alice" });
    world.review(number, "dave", "CHANGES_REQUESTED");
    // alice force-pushes the branch back to the commit dave approved; the dropped commit is later
    // garbage collected (or purged on request), and GitHub then reports the review's commit_id as null.
    world.access.push(pull.headRef, approvedHead, { force: true, pusher: "alice" });
    world.access.purgeCommit(pull.reviews.at(-1)!.commitId);

    await world.merge(number, "merge", { by: "alice" });
    // dave's latest review requested changes: nothing may be granted.
    expect((await world.grants(number)).map((grant) => [grant.status, grant.approvers])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});
