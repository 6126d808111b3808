/**
 * A repository on the local GitHub with its pull requests: opened from a branch, reviewed,
 * retargeted, merged by one of GitHub's three methods or closed, each step changing state only
 * the way GitHub changes it and announcing it with the webhook GitHub sends.
 *
 * GitHub behaviours modelled here, from GitHub's documentation:
 * - "To merge pull requests, you must have write permissions in the repository" (About merge methods).
 * - Authors cannot approve or request changes on their own pull request (the API answers 422 "Can
 *   not approve your own pull request").
 * - Reviews can be submitted on closed and merged pull requests too; each records the head commit
 *   it was given on (`commit_id`) and when (`submitted_at`).
 * - Pushing to an open pull request's head branch updates it (`pull_request.synchronize`) and its
 *   `base.sha` is read again from the base branch; pushes to the base branch alone leave `base.sha`
 *   as it was (github/docs#431).
 * - Changing the base branch sends `pull_request.edited` with `changes.base` and adds a
 *   BaseRefChangedEvent to the timeline; force pushes add Base/HeadRefForcePushedEvent.
 * - After a merge the pull request's files and commits stay as they were (a rebase-merged pull
 *   request keeps listing its original, pre-rebase commits).
 */
import { canWrite } from "./accounts.js";
import { githubTime } from "./clock.js";
import { GitRepository, type GitWorld, type PushEvent, type RepositoryInit } from "./git-repository.js";
import { MergeConflictError, mergeCommits, threeWayTree } from "./merge-methods.js";
import { fileChanges } from "./pull-changes.js";
import {
  addReview,
  addTimelineEvent,
  dismiss,
  PullRequest,
  updatePull,
  type MergeMethod,
  type PullChanges,
  type Review,
  type ReviewState,
  type TimelineEvent,
} from "./pulls.js";
import { WEB_FLOW } from "./accounts.js";
import { Conversation, type ConversationEvent } from "./conversation.js";
import type { TreeEntry } from "./git-objects.js";
import type { CodeownersError } from "./codeowners-check.js";
import type { WebhookDelivery } from "./world.js";

/** What happened, for the webhook GitHub sends about it (built by webhook-payloads.ts). */
export type ModelEvent =
  | PushEvent
  | {
      kind: "pull_request";
      action: "opened" | "synchronize" | "reopened" | "closed" | "edited";
      repo: Repository;
      pull: PullRequest;
      sender: string;
      before?: string;
      changes?: Record<string, unknown>;
    }
  | { kind: "pull_request_review"; action: "submitted" | "dismissed"; repo: Repository; pull: PullRequest; review: Review; sender: string }
  | ConversationEvent<Repository>;

/** The GitHub a repository lives in (local-github.ts): it announces every event of the model. */
export interface RepositoryWorld extends GitWorld {
  emit(event: ModelEvent): WebhookDelivery;
}

export interface OpenPullSpec {
  head: string;
  base?: string;
  author: string;
  title?: string;
  body?: string;
  draft?: boolean;
}

export interface MergeOptions {
  method?: MergeMethod;
  by: string;
  /** Per path, the result of a clean textual three-way merge of concurrent edits (null: deleted). */
  mergedContent?: Record<string, string | Uint8Array | null>;
}

export interface MergeResult {
  /** merge_commit_sha: the merge or squash commit, or the last rebased commit. */
  sha: string;
  /** The commits that landed on the base branch, oldest first. */
  landed: string[];
  /** The webhooks GitHub sends for the merge. */
  closed: Record<string, unknown>;
  push: Record<string, unknown>;
}

export class PullRequestError extends Error {}

export type InjectedCodeownersError = Pick<CodeownersError, "line" | "kind" | "message"> &
  Partial<Pick<CodeownersError, "column" | "source" | "suggestion">> & {
    /** Only at this commit (default: at every ref). */
    commit?: string;
  };

export class Repository extends GitRepository {
  private readonly pullsByNumber = new Map<number, PullRequest>();
  readonly conversation: Conversation<Repository>;
  /** Errors GitHub reports for the CODEOWNERS file in use, beyond what the checker finds (for tests of odd reports). */
  readonly injectedCodeownersErrors: InjectedCodeownersError[] = [];
  private nextNumber = 1;

  /** The same world as the git side's, which also takes the pull request and conversation events. */
  declare protected readonly world: RepositoryWorld;

  constructor(world: RepositoryWorld, init: RepositoryInit) {
    super(world, init);
    this.conversation = new Conversation(world, this);
  }

  get pulls(): ReadonlyMap<number, PullRequest> {
    return this.pullsByNumber;
  }

  pull(number: number): PullRequest {
    const pull = this.pullsByNumber.get(number);
    if (!pull) throw new PullRequestError(`${this.fullName} has no pull request #${number}`);
    return pull;
  }

  openPull(spec: OpenPullSpec): number {
    const base = spec.base ?? this.defaultBranch;
    const baseTip = this.branch(base);
    const headTip = this.branch(spec.head);
    if (!baseTip || !headTip) throw new PullRequestError(`cannot open a pull request from ${spec.head} into ${base}: no such branch`);
    if (this.objects.commitsBetween(baseTip, headTip).length === 0)
      throw new PullRequestError(`No commits between ${base} and ${spec.head}`);
    if ([...this.pulls.values()].some((pull) => pull.state === "open" && pull.headRef === spec.head && pull.baseRef === base)) {
      throw new PullRequestError(`A pull request already exists for ${this.owner}:${spec.head}.`);
    }
    const number = this.nextNumber++;
    const pull = new PullRequest(
      number,
      this.world.nextId(),
      this.world.accounts.get(spec.author).login,
      spec.head,
      base,
      spec.title ?? `Changes from ${spec.head}`,
      spec.body ?? "",
      spec.draft ?? false,
      this.world.clock.tick(),
      { head: headTip, base: baseTip },
    );
    this.pullsByNumber.set(number, pull);
    this.world.emit({ kind: "pull_request", action: "opened", repo: this, pull, sender: pull.author });
    return number;
  }

  /** Files and commits of the pull request: live while it is open, as they were once it closed. */
  changes(pull: PullRequest): PullChanges {
    if (pull.frozen) return pull.frozen;
    const baseTip = this.branch(pull.baseRef) ?? pull.baseSha;
    const mergeBase = this.objects.mergeBase(baseTip, pull.headSha);
    const from = mergeBase ? this.objects.require(mergeBase).tree : new Map<string, TreeEntry>();
    return {
      files: fileChanges(this.objects, from, this.objects.require(pull.headSha).tree),
      commits: this.objects.commitsBetween(baseTip, pull.headSha),
    };
  }

  /** Whether GitHub's test merge into the base branch would succeed (the pull request's `mergeable`). */
  mergeable(pull: PullRequest): boolean {
    const baseTip = this.branch(pull.baseRef);
    const mergeBase = baseTip ? this.objects.mergeBase(baseTip, pull.headSha) : undefined;
    if (!baseTip || !mergeBase) return false;
    try {
      threeWayTree(
        this.objects.require(baseTip).tree,
        this.objects.require(mergeBase).tree,
        this.objects.require(pull.headSha).tree,
        new Map(),
      );
      return true;
    } catch (error) {
      if (error instanceof MergeConflictError) return false;
      throw error;
    }
  }

  /** A review by `login`; "DISMISSED" stands for an approval a maintainer then dismissed. Returns the review id. */
  review(number: number, login: string, state: ReviewState, options: { commitId?: string; body?: string } = {}): number {
    const pull = this.pull(number);
    if (state !== "COMMENTED" && login.toLowerCase() === pull.author.toLowerCase()) {
      throw new PullRequestError(
        state === "CHANGES_REQUESTED" ? "Can not request changes on your own pull request" : "Can not approve your own pull request",
      );
    }
    const commitId = options.commitId ?? pull.headSha;
    if (!this.changes(pull).commits.some((commit) => commit.sha === commitId))
      throw new PullRequestError(`${commitId} is not a commit of #${number}`);
    const submittedAt = this.world.clock.tick();
    const review = {
      id: this.world.nextId(),
      login: this.world.accounts.get(login).login,
      state: state === "DISMISSED" ? "APPROVED" : state,
      commitId,
      submittedAt,
      body: options.body ?? "",
    } as const;
    addReview(pull, { ...review });
    // GitHub's timeline lists the review in order with the merge and base changes around it.
    addTimelineEvent(pull, { type: "PullRequestReview", id: review.id, createdAt: submittedAt, actor: review.login });
    updatePull(pull, { updatedAt: submittedAt });
    this.world.emit({
      kind: "pull_request_review",
      action: "submitted",
      repo: this,
      pull,
      review: pull.reviews.at(-1)!,
      sender: review.login,
    });
    if (state === "DISMISSED") this.dismissReview(number, review.id, this.owner);
    return review.id;
  }

  /** Only approvals and change requests can be dismissed, by someone with write access. */
  dismissReview(number: number, reviewId: number, by: string): void {
    const pull = this.pull(number);
    const review = pull.review(reviewId);
    if (!review || (review.state !== "APPROVED" && review.state !== "CHANGES_REQUESTED"))
      throw new PullRequestError(`review ${reviewId} on #${number} cannot be dismissed`);
    this.requireWrite(by, "dismiss a review");
    dismiss(review);
    updatePull(pull, { updatedAt: this.world.clock.tick() });
    this.world.emit({ kind: "pull_request_review", action: "dismissed", repo: this, pull, review, sender: by });
  }

  /** Changes the base branch of an open pull request. */
  retarget(number: number, newBase: string, actor: string): void {
    const pull = this.openPullRequest(number);
    const tip = this.branch(newBase);
    if (!tip || newBase === pull.headRef || newBase === pull.baseRef)
      throw new PullRequestError(`cannot retarget #${number} to ${newBase}`);
    const at = this.world.clock.tick();
    const from = { ref: pull.baseRef, sha: pull.baseSha };
    this.addTimeline(pull, { type: "BaseRefChangedEvent", createdAt: at, actor, previousRefName: from.ref, currentRefName: newBase });
    updatePull(pull, { baseRef: newBase, baseSha: tip, updatedAt: at });
    this.world.emit({
      kind: "pull_request",
      action: "edited",
      repo: this,
      pull,
      sender: actor,
      changes: { base: { ref: { from: from.ref }, sha: { from: from.sha } } },
    });
  }

  merge(number: number, options: MergeOptions): MergeResult {
    const pull = this.openPullRequest(number);
    if (pull.draft) throw new PullRequestError("Pull Request is still a draft");
    this.requireWrite(options.by, "merge pull requests");
    const baseTip = this.require(pull.baseRef);
    const head = this.require(pull.headSha);
    const mergeBase = this.objects.mergeBase(baseTip.sha, head.sha);
    if (!mergeBase) throw new PullRequestError(`${pull.baseRef} and ${pull.headRef} have no history in common`);
    const at = this.world.clock.tick();
    const stamp = githubTime(at);
    const changes = this.changes(pull);
    const method = options.method ?? "merge";
    const landed = mergeCommits(this.objects, {
      method,
      baseTip,
      head,
      mergeBase: this.objects.require(mergeBase),
      commits: changes.commits,
      mergedContent: this.mergedEntries(options.mergedContent ?? {}),
      merger: this.world.accounts.signature(options.by, stamp),
      prAuthor: this.world.accounts.signature(pull.author, stamp),
      webFlow: { name: WEB_FLOW.name, email: WEB_FLOW.email, date: stamp, login: WEB_FLOW.login },
      message:
        method === "merge"
          ? `Merge pull request #${number} from ${this.owner}/${pull.headRef}\n\n${pull.title}`
          : `${pull.title} (#${number})`,
    });
    const sha = landed.at(-1)!.sha;
    updatePull(pull, {
      frozen: changes,
      state: "closed",
      closedAt: at,
      updatedAt: at,
      merged: { at, by: this.world.accounts.get(options.by).login, commitSha: sha, method, landed: landed.map((commit) => commit.sha) },
    });
    this.addTimeline(pull, { type: "MergedEvent", createdAt: at, actor: options.by, commit: sha, mergeRefName: pull.baseRef });
    this.addTimeline(pull, { type: "ClosedEvent", createdAt: at, actor: options.by });
    const push = this.updateBranch(pull.baseRef, sha, options.by, "pr_merge");
    const closed = this.world.emit({ kind: "pull_request", action: "closed", repo: this, pull, sender: options.by });
    return { sha, landed: landed.map((commit) => commit.sha), closed: closed.payload, push: push.payload };
  }

  /** Closes without merging (by default as its author); returns the `pull_request.closed` webhook. */
  closePull(number: number, actor: string = this.pull(number).author): Record<string, unknown> {
    const pull = this.openPullRequest(number);
    const at = this.world.clock.tick();
    updatePull(pull, { frozen: this.changes(pull), state: "closed", closedAt: at, updatedAt: at });
    this.addTimeline(pull, { type: "ClosedEvent", createdAt: at, actor });
    return this.world.emit({ kind: "pull_request", action: "closed", repo: this, pull, sender: actor }).payload;
  }

  reopenPull(number: number, actor: string = this.pull(number).author): Record<string, unknown> {
    const pull = this.pull(number);
    const head = this.branch(pull.headRef);
    if (pull.state === "open" || pull.merged || !head) throw new PullRequestError(`#${number} cannot be reopened`);
    const at = this.world.clock.tick();
    updatePull(pull, {
      state: "open",
      closedAt: null,
      updatedAt: at,
      frozen: null,
      headSha: head,
      baseSha: this.branch(pull.baseRef) ?? pull.baseSha,
    });
    this.addTimeline(pull, { type: "ReopenedEvent", createdAt: at, actor });
    return this.world.emit({ kind: "pull_request", action: "reopened", repo: this, pull, sender: actor }).payload;
  }

  protected override onBranchUpdated(branch: string, before: string, after: string, forced: boolean, actor: string): void {
    const now = this.world.clock.now();
    for (const pull of this.pulls.values()) {
      if (pull.state !== "open") continue;
      if (pull.baseRef === branch && forced) {
        this.addTimeline(pull, {
          type: "BaseRefForcePushedEvent",
          createdAt: now,
          actor,
          ref: branch,
          beforeCommit: before,
          afterCommit: after,
        });
      }
      if (pull.headRef !== branch || after === pull.headSha) continue;
      if (forced)
        this.addTimeline(pull, {
          type: "HeadRefForcePushedEvent",
          createdAt: now,
          actor,
          ref: branch,
          beforeCommit: before,
          afterCommit: after,
        });
      updatePull(pull, { headSha: after, baseSha: this.branch(pull.baseRef) ?? pull.baseSha, updatedAt: now });
      this.world.emit({ kind: "pull_request", action: "synchronize", repo: this, pull, sender: actor, before });
    }
  }

  private openPullRequest(number: number): PullRequest {
    const pull = this.pull(number);
    if (pull.state !== "open") throw new PullRequestError(`#${number} is closed`);
    return pull;
  }

  private requireWrite(login: string, what: string): void {
    if (!canWrite(this.world.roleOf(this, login)))
      throw new PullRequestError(`@${login} needs write access to ${this.fullName} to ${what}`);
  }

  private addTimeline(pull: PullRequest, event: DistributiveOmit<TimelineEvent, "id">): void {
    addTimelineEvent(pull, { ...event, id: this.world.nextId() });
  }

  private mergedEntries(contents: Record<string, string | Uint8Array | null>): Map<string, TreeEntry | undefined> {
    return new Map(
      Object.entries(contents).map(([path, content]) => [
        path,
        content === null
          ? undefined
          : {
              mode: "100644" as const,
              sha: this.objects.putBlob(typeof content === "string" ? new TextEncoder().encode(content) : content),
            },
      ]),
    );
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
