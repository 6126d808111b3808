/**
 * Security review finding: team memberships and repository permissions are read when the merge
 * is JUDGED, not as they were at the merge. A merge whose judgement is deferred (GitHub's activity
 * record of a squash/rebase merge lags, so the inbox looks at the delivery again minutes later, or
 * the catch-up scan finds it; or jitsudo was down and the catch-up scan finds it) counts the
 * approval of someone who was only a PENDING member of the owning team at the merge and accepted
 * the invitation afterwards. Rulebook: "a pending (not yet accepted) team member approves" must be
 * refused; "a review submitted after the merge" does not count, and for the same reason neither
 * should a membership that only began after it.
 */
import { describe, expect, it } from "vitest";
import { ORG, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

describe("a merge judged later than it happened", () => {
  const world = useSecurityWorld();

  it("does not count paula, a pending member of @acme/security at the merge who accepted afterwards", async () => {
    const mark = world.mark();
    const number = world.openPull({
      commits: [{ files: { "access-requests/notes.md": "context\n" } }, { files: { [world.newPath()]: READ_ONLY } }],
    });
    world.review(number, "paula"); // pending member: must not count
    world.access.activity.withhold(); // GitHub's record of the rebase merge lags behind the webhook
    const merged = world.access.merge(number, { method: "rebase", by: "bob" });
    // The webhook cannot be judged yet (no record proves the base): jitsudo keeps it in its inbox
    // to look again, and records nothing.
    expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
    expect(await world.verdict(number)).toBeUndefined();
    expect(await world.db("webhook_inbox").where({ event: "pull_request", action: "closed" }).pluck("status")).toContain("pending");

    // After the merge, paula accepts her invitation; GitHub's record then appears.
    world.github.setTeamMembership(ORG, "security", "paula", "active");
    world.access.activity.release();
    await world.catchUp();
    await world.settle();

    expect((await world.grants(number)).map((grant) => [grant.status, grant.approvers])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});
