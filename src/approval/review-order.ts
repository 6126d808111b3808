/**
 * Which reviews stand at the merge, and where each reviewer stood. Pure.
 *
 * A review stands only if GitHub's timeline of the pull request lists it before the merge AND its
 * submission time is not after the merge's. The timeline orders what timestamps cannot: GitHub's
 * have whole seconds, so an approval given 300 ms after an admin's merge shows the merge's very
 * second. The submission time guards the other way: a review is listed where it was started (a
 * draft), so one started before the merge and submitted after it is listed before the merge.
 * Without a timeline entry for the merge (GitHub not caught up), a review counts only if its
 * second is strictly before the merge's.
 *
 * - A review after the merge does not exist for the verdict: it neither approves nor withdraws.
 * - A review GitHub's timeline does not list, or with no submission time, is set aside (fail closed).
 * - The decisive review of a reviewer is their latest that is not a comment or a pending draft; a
 *   later CHANGES_REQUESTED or DISMISSED withdraws an earlier approval.
 * - An approval placed before the last base change (a retarget, or a force push of the base)
 *   approved a different diff: it is reported, and the verdict does not count it.
 */
import type { PullTimeline, Review } from "../github/types.js";

export interface Reviewer {
  login: string;
  userId?: number;
  /** The latest review that is not a comment and not pending: the one that says where they stand. */
  decisive: Review;
  approvedBefore: boolean;
  /** Set when the decisive review came before the pull request's last base change. */
  beforeBaseChange?: Date;
}

/** A review that stands for nothing, and why (for the PR comment). */
export interface SetAsideReview {
  login: string;
  state: Review["state"];
  why: "after-merge" | "not-in-timeline" | "no-time";
}

export interface StandingReviews {
  reviewers: Reviewer[];
  setAside: SetAsideReview[];
}

export function standingReviews(reviews: readonly Review[], timeline: PullTimeline | undefined, mergedAt: Date): StandingReviews {
  const place = placer(timeline, mergedAt);
  const byLogin = new Map<
    string,
    { login: string; userId?: number; decisive?: Review; approvedBefore: boolean; beforeBaseChange?: Date }
  >();
  const setAside: SetAsideReview[] = [];
  for (const review of reviews) {
    const decisive = review.state !== "COMMENTED" && review.state !== "PENDING";
    const placed = place(review);
    if (placed.kind !== "before-merge") {
      if (decisive) setAside.push({ login: review.login, state: review.state, why: placed.kind });
      continue;
    }
    // One person, however their login was spelled or renamed since.
    const key = review.userId !== undefined ? `id:${review.userId}` : `login:${review.login.toLowerCase()}`;
    const entry = byLogin.get(key) ?? {
      login: review.login,
      ...(review.userId !== undefined ? { userId: review.userId } : {}),
      approvedBefore: false,
    };
    byLogin.set(key, entry);
    if (!decisive) continue;
    if (entry.decisive?.state === "APPROVED") entry.approvedBefore = true;
    entry.decisive = review;
    entry.login = review.login;
    if (placed.beforeBaseChange) entry.beforeBaseChange = placed.beforeBaseChange;
    else delete entry.beforeBaseChange;
  }
  const reviewers = [...byLogin.values()].flatMap((entry) => {
    if (!entry.decisive) return [];
    const { decisive, ...rest } = entry;
    return [{ ...rest, decisive }];
  });
  return { reviewers, setAside };
}

type Placement =
  { kind: "before-merge"; beforeBaseChange?: Date } | { kind: "after-merge" } | { kind: "not-in-timeline" } | { kind: "no-time" };

/** Where a review stands against the merge and the last base change before it. */
function placer(timeline: PullTimeline | undefined, mergedAt: Date): (review: Review) => Placement {
  const entries = timeline?.entries ?? [];
  const mergedIndex = entries.findIndex((entry) => entry.kind === "merged");
  const ordered = mergedIndex >= 0;
  const limit = ordered ? mergedIndex : entries.length;
  let lastBaseChange: { index: number; at: Date } | undefined;
  entries.slice(0, limit).forEach((entry, index) => {
    if (entry.kind === "base-changed") lastBaseChange = { index, at: entry.at };
  });
  const reviewIndex = new Map(entries.flatMap((entry, index) => (entry.kind === "review" ? [[entry.id, index] as const] : [])));

  return (review) => {
    const submitted = Date.parse(review.submittedAt);
    if (Number.isNaN(submitted)) return { kind: "no-time" };
    if (ordered) {
      const index = reviewIndex.get(review.id);
      if (index === undefined) return { kind: "not-in-timeline" };
      if (index > mergedIndex || submitted > mergedAt.getTime()) return { kind: "after-merge" };
      return lastBaseChange && index < lastBaseChange.index
        ? { kind: "before-merge", beforeBaseChange: lastBaseChange.at }
        : { kind: "before-merge" };
    }
    // No merge in the timeline yet: only a review a whole second before the merge is surely before it.
    if (submitted >= mergedAt.getTime()) return { kind: "after-merge" };
    return lastBaseChange && submitted <= lastBaseChange.at.getTime()
      ? { kind: "before-merge", beforeBaseChange: lastBaseChange.at }
      : { kind: "before-merge" };
  };
}

export function setAsideReason(review: SetAsideReview): string {
  const state = review.state.toLowerCase().replace("_", " ");
  switch (review.why) {
    case "after-merge":
      return `@${review.login}'s review (${state}) was submitted after the merge, and only reviews given before a merge count`;
    case "not-in-timeline":
      return `@${review.login}'s review (${state}) is not in the pull request's timeline on GitHub, so jitsudo cannot place it before the merge`;
    case "no-time":
      return `@${review.login}'s review has no submission time from GitHub, so it does not count`;
  }
}
