/**
 * Validation of an open pull request, end to end: fetch what the pure review needs in as few
 * GitHub calls as possible, judge it, then publish the check run and the sticky comment.
 */
import { randomUUID } from "node:crypto";
import { commitsToInspect, governanceChangesOf } from "../approval/commit-history.js";
import { GOVERNANCE_PATHS, readGovernance } from "../approval/governance.js";
import { validateEach } from "../requests/validate-files.js";
import { EMPTY_DIRECTORY, type KnownSessionDuration } from "../requests/policy.js";
import type { TenantConfig } from "../config/tenant.js";
import { REQUEST_FILE_MAX_BYTES, tooManyRequestFiles } from "../requests/access-request.js";
import { requestPathsOf, reviewPullRequest, type PullRequestReview } from "../approval/pull-request-review.js";
import { checkRunFor, errorCheckRun } from "./check-run.js";
import { branchRef, type GitHubGateway } from "./gateway.js";
import type { FileAt, PullRequestInfo } from "./types.js";
import type { Log } from "../observability/logger.js";
import { renderReviewComment, upsertStickyComment } from "./sticky-comment.js";

export interface ValidateDeps {
  now: () => Date;
  log: Log;
  /** Told of a review whose check passed (notifications: the request waits for approval). A failure here is logged, never fails validation. */
  onPassed?: (review: PullRequestReview) => Promise<void>;
  /**
   * Session durations the worker read recently for this repository's grants, for rules with
   * max_session_duration (read only when one has it); unset (no database): never known here.
   */
  sessionDurations?: (config: TenantConfig) => Promise<ReadonlyMap<string, KnownSessionDuration>>;
}

export async function validatePullRequest(
  gateway: GitHubGateway,
  pr: PullRequestInfo,
  defaultBranch: string,
  deps: ValidateDeps,
): Promise<PullRequestReview> {
  try {
    const [files, commits] = await Promise.all([gateway.listPullRequestFiles(pr.number), gateway.listPullRequestCommits(pr.number)]);
    // Beyond the limit nothing is read: the review refuses the pull request with one message.
    const requestPaths = tooManyRequestFiles(requestPathsOf(files).length) ? [] : requestPathsOf(files);
    // A pull request into another branch grants nothing; it is checked against the default
    // branch's governance, never against files its author could push to that other branch.
    const governanceRef = pr.baseRef === defaultBranch ? pr.baseSha : branchRef(defaultBranch);
    // One batched read: the policy and CODEOWNERS at the base, every request file at the head;
    // beside it, GitHub's own CODEOWNERS errors and every commit's governance files.
    const atHead = requestPaths.map((path): FileAt => ({ ref: pr.headSha, path, maxBytes: REQUEST_FILE_MAX_BYTES }));
    const [read, ids] = await Promise.all([
      readGovernance(gateway, governanceRef, atHead),
      gateway.objectIdsAt(commitsToInspect(commits), GOVERNANCE_PATHS),
    ]);
    const { also: atHeadContents, ...governanceEvidence } = read;
    const requestFiles = new Map(requestPaths.map((path, index) => [path, atHeadContents[index]!]));

    const now = deps.now();
    // An unusable policy is the empty one here, as in the review: no rule allows anything.
    const { config } = read.governance;
    const readable = [...requestFiles].flatMap(([path, content]) => (content.kind === "file" ? [{ path, bytes: content.bytes }] : []));
    const capped = deps.sessionDurations && config.rules.some((rule) => rule.maxSessionDurationMs !== null);
    const directory = capped ? { ...EMPTY_DIRECTORY, sessionDurations: await deps.sessionDurations!(config) } : undefined;
    const validated = await validateEach(readable, { config, requester: pr.authorLogin, now, ...(directory ? { directory } : {}) });
    const review = reviewPullRequest({
      pr,
      defaultBranch,
      files,
      ...governanceEvidence,
      requestFiles,
      validated,
      listedCommits: commits.length,
      governanceChanges: governanceChangesOf(commits, GOVERNANCE_PATHS, ids),
      now,
    });

    await gateway.publishCheckRun(checkRunFor(review));
    // A PR that never held a request gets no comment; one that used to gets its comment updated.
    await upsertStickyComment(gateway, pr.number, renderReviewComment(review), { createIfMissing: review.touchesRequests });
    deps.log.info(
      { pr: pr.number, head: pr.headSha, conclusion: review.conclusion, requests: review.requests.length },
      "pull request validated",
    );
    if (deps.onPassed && review.conclusion === "success" && review.touchesRequests)
      await deps
        .onPassed(review)
        .catch((error: unknown) => deps.log.warn({ err: error, pr: pr.number }, "could not queue the waiting-for-approval notification"));
    return review;
  } catch (error) {
    const reference = randomUUID();
    deps.log.error({ err: error, pr: pr.number, head: pr.headSha, reference }, "pull request validation failed");
    // Fail closed and visibly: a red check instead of silence. If GitHub itself is down this may fail too.
    await gateway.publishCheckRun(errorCheckRun(pr.headSha, reference)).catch(() => undefined);
    throw error;
  }
}
