/**
 * Security review (round 2) finding (pure): once GitHub's timeline has a MergedEvent,
 * `standingReviews` (src/approval/review-order.ts, `placer`) places a review ONLY by its position
 * in the timeline and no longer looks at the review's own `submitted_at`. Before the fix a review
 * with `submitted_at > merged_at` never counted; now an approval whose REST `submitted_at` is an
 * hour after the merge counts whenever the timeline lists it before the MergedEvent.
 *
 * That can happen on GitHub: a review is an object created when the reviewer STARTS it (a pending
 * review: "Start a review" in the UI, or `POST /pulls/{n}/reviews` without `event`) and submitted
 * later. GraphQL's `PullRequestReview.createdAt` is when the object was created and `submittedAt`
 * when it was submitted; GitHub does not document which of the two orders a review among the
 * timeline items (the app itself reads `createdAt`). A code owner who starts a pending review before
 * an admin's unapproved merge and submits it as APPROVE after the merge gives a review that GitHub
 * may well list before the MergedEvent. The merge is then judged with it if the judgement happens
 * after the submission: a deferred verdict (squash or rebase merge waiting up to 10 minutes for
 * GitHub's activity record), a redelivered webhook, or the catch-up scan. The rulebook: "a review
 * submitted after the merge (it does not count, also for the catch-up scan)".
 *
 * The local GitHub cannot reproduce this end to end (it has no pending reviews and sets a review's
 * timeline `createdAt` to its submission time), so the test feeds the verdict's review placement
 * exactly what GitHub's REST and GraphQL answers would say.
 *
 * Suggested fix: count a review only when BOTH hold: it is before the MergedEvent in the timeline
 * AND its `submitted_at` second is not after `merged_at` (strictly before it when in doubt); either
 * source saying "after the merge" sets it aside.
 */
import { describe, expect, it } from "vitest";
import { standingReviews } from "../../src/approval/review-order.js";
import type { PullTimeline, Review } from "../../src/github/types.js";

const HEAD = "a".repeat(40);
const MERGED_AT = new Date("2026-11-25T10:00:00Z");
const STARTED_AT = new Date("2026-11-25T09:55:00Z"); // dave opened a pending review five minutes before the merge
const SUBMITTED_AT = "2026-11-25T11:00:00Z"; // and submitted it as an approval an hour after the merge

describe("a review whose submission time is after the merge", () => {
  it("does not count although the timeline lists it before the MergedEvent", () => {
    const approval: Review = { id: 101, login: "dave", userId: 4, state: "APPROVED", commitId: HEAD, submittedAt: SUBMITTED_AT };
    const timeline: PullTimeline = {
      complete: true,
      entries: [
        { kind: "review", id: 101, at: STARTED_AT },
        { kind: "merged", at: MERGED_AT },
      ],
    };
    const { reviewers, setAside } = standingReviews([approval], timeline, MERGED_AT);
    expect(reviewers.map((reviewer) => [reviewer.login, reviewer.decisive.state])).toEqual([]);
    expect(setAside.map((review) => [review.login, review.why])).toEqual([["dave", "after-merge"]]);
  });
});
