/**
 * Security review finding: a review submitted after the merge but within the same second counts.
 * GitHub's REST timestamps have whole seconds, and `reviewersOf` (src/approval/approval.ts) keeps a
 * review when `submitted_at <= merged_at`. An admin merges with no approval; a code owner (or a
 * script on their account) approves a few hundred milliseconds later; the merge webhook arrives
 * after that and jitsudo reads the review as given before the merge. The local GitHub's clock
 * ticks one second per event, so it never produces this case on its own: the test holds GitHub's
 * clock for the approval, as GitHub's second-granular timestamps do.
 */
import { describe, expect, it } from "vitest";
import type { SimulatedClock } from "../../src/sandbox/github.js";
import { useSecurityWorld } from "./support/security-world.js";

describe("a review submitted after the merge, in the same second", () => {
  const world = useSecurityWorld();

  it("does not count an approval given after an admin's unapproved merge", async () => {
    const mark = world.mark();
    const number = world.openPull();
    const merged = world.access.merge(number, { method: "merge", by: "admin" });
    const release = (world.github.clock as SimulatedClock).freeze(); // the approval lands ~300 ms after the merge: same second on GitHub
    try {
      world.review(number, "dave");
    } finally {
      release();
    }
    const pull = world.access.pull(number);
    expect(pull.reviews.at(-1)!.submittedAt.getTime()).toBe(pull.merged!.at.getTime());
    // Now the merge webhook arrives.
    expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
    expect(await world.harness.deliver("push", merged.push)).toBe(200);
    await world.settle();
    expect((await world.grants(number)).map((grant) => [grant.status, grant.approvers])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});
