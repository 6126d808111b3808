/**
 * A pull request's own state on the local GitHub: what it points at, its reviews and its
 * timeline. What it changes (files, commits) is derived from the git objects by the repository,
 * never stored by hand, and frozen when the pull request closes, as GitHub keeps showing a
 * merged pull request's original commits and files after the branches move on.
 */
import type { Commit } from "./git-objects.js";

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
export type MergeMethod = "merge" | "squash" | "rebase";

export interface Review {
  readonly id: number;
  readonly login: string;
  readonly state: ReviewState;
  /** The head commit the reviewer saw. */
  readonly commitId: string;
  readonly submittedAt: Date;
  readonly body: string;
}

/** Timeline events the model records, as GraphQL's PullRequest.timelineItems names them. */
export type TimelineEvent =
  | { type: "BaseRefChangedEvent"; id: number; createdAt: Date; actor: string; previousRefName: string; currentRefName: string }
  | {
      type: "BaseRefForcePushedEvent" | "HeadRefForcePushedEvent";
      id: number;
      createdAt: Date;
      actor: string;
      ref: string;
      beforeCommit: string;
      afterCommit: string;
    }
  | { type: "MergedEvent"; id: number; createdAt: Date; actor: string; commit: string; mergeRefName: string }
  | { type: "ClosedEvent" | "ReopenedEvent"; id: number; createdAt: Date; actor: string }
  /** A submitted review, in order with the events around it (its id is the review's). */
  | { type: "PullRequestReview"; id: number; createdAt: Date; actor: string };

/** GraphQL's PullRequestTimelineItemsItemType value for each recorded event type. */
export const TIMELINE_ITEM_TYPES: Record<TimelineEvent["type"], string> = {
  BaseRefChangedEvent: "BASE_REF_CHANGED_EVENT",
  BaseRefForcePushedEvent: "BASE_REF_FORCE_PUSHED_EVENT",
  HeadRefForcePushedEvent: "HEAD_REF_FORCE_PUSHED_EVENT",
  MergedEvent: "MERGED_EVENT",
  ClosedEvent: "CLOSED_EVENT",
  ReopenedEvent: "REOPENED_EVENT",
  PullRequestReview: "PULL_REQUEST_REVIEW",
};

export interface FileChange {
  filename: string;
  status: "added" | "removed" | "modified" | "renamed";
  previousFilename?: string;
  /** The blob at the head (null for a removed file, or a submodule's gitlink). */
  sha: string | null;
  additions: number;
  deletions: number;
}

export interface PullChanges {
  files: FileChange[];
  commits: Commit[];
}

export interface MergeRecord {
  at: Date;
  by: string;
  /** For a rebase merge, the last of the rebased commits (what the base branch was updated to). */
  commitSha: string;
  method: MergeMethod;
  /** The commits the merge put on the base branch, oldest first. */
  landed: string[];
}

/** What changes over a pull request's life; only the repository's operations change it (see `updatePull`). */
export interface PullState {
  state: "open" | "closed";
  headSha: string;
  /** The base branch's tip when the pull request was opened or its head last updated. */
  baseSha: string;
  baseRef: string;
  updatedAt: Date;
  closedAt: Date | null;
  merged: MergeRecord | null;
  /** Files and commits as they were when the pull request closed. */
  frozen: PullChanges | null;
}

export class PullRequest implements Readonly<PullState> {
  readonly state: "open" | "closed" = "open";
  readonly headSha: string;
  readonly baseSha: string;
  readonly updatedAt: Date;
  readonly closedAt: Date | null = null;
  readonly merged: MergeRecord | null = null;
  readonly frozen: PullChanges | null = null;
  readonly reviews: readonly Review[] = [];
  readonly timeline: readonly TimelineEvent[] = [];

  constructor(
    readonly number: number,
    readonly id: number,
    readonly author: string,
    readonly headRef: string,
    readonly baseRef: string,
    readonly title: string,
    readonly body: string,
    readonly draft: boolean,
    readonly createdAt: Date,
    tips: { head: string; base: string },
  ) {
    this.headSha = tips.head;
    this.baseSha = tips.base;
    this.updatedAt = createdAt;
  }

  /** The review with this id, if any. */
  review(id: number): Review | undefined {
    return this.reviews.find((review) => review.id === id);
  }
}

/**
 * The only ways a pull request changes, for the repository's operations. They are not exported
 * from `src/sandbox/github.ts`: tests change pull requests by operating on the repository.
 */
export function updatePull(pull: PullRequest, changes: Partial<PullState>): void {
  Object.assign(pull, changes);
}

export function addReview(pull: PullRequest, review: Review): void {
  (pull.reviews as Review[]).push(review);
}

export function dismiss(review: Review): void {
  Object.assign(review, { state: "DISMISSED" });
}

export function addTimelineEvent(pull: PullRequest, event: TimelineEvent): void {
  (pull.timeline as TimelineEvent[]).push(event);
}
