/**
 * The events jitsudo acts on: GitHub's webhooks the handlers (`github/handlers.ts`) register, and
 * jitsudo's own merge_found, which the catch-up scan puts into the inbox. A leaf, so the inbox and
 * the jobs that feed it can name events without depending on the handlers that act on them.
 */

/** The events jitsudo acts on, by `name.action` (or `name` for events without actions). */
export const HANDLED_EVENTS = [
  "pull_request.opened",
  "pull_request.synchronize",
  "pull_request.reopened",
  "pull_request.ready_for_review",
  "pull_request.edited",
  "pull_request.closed",
  "check_run.rerequested",
  "pull_request_review.submitted",
  "issue_comment.created",
  "push",
] as const;

/** Not GitHub's: a merge the catch-up scan found without a verdict, put into the inbox like a delivery. */
export const MERGE_FOUND = "jitsudo.merge_found";

export interface MergeFoundPayload {
  installation: { id: number };
  repository: { id: number; name: string; full_name: string; default_branch: string; owner: { login: string } };
  pull_request: { number: number; merge_commit_sha: string };
}
