/**
 * Where grant changes are told to people: the sticky comment of the grant's pull request (see
 * `src/github/grant-comments.ts`). The workers only say "this grant changed"; reporting is
 * asynchronous and never holds up provisioning or revoking, and a reporter that fails loses no
 * state: the next change renders the whole comment again from the database.
 */
import type { BreakGlassGrant } from "./break-glass-store.js";
import type { GrantRow } from "./grant-repository.js";

export interface GrantReporter {
  changed(grant: Pick<GrantRow, "id" | "tenant" | "repository_id" | "repo" | "pr_number">): void;
  /** Waits for reports in flight (tests, shutdown), at most `timeoutMs`. */
  flush(timeoutMs?: number): Promise<void>;
}

export const NO_REPORTS: GrantReporter = {
  changed: () => undefined,
  flush: () => Promise.resolve(),
};

/**
 * Where a grant's expiry reminder is posted: a new comment on its pull request mentioning the
 * requester (`src/github/reminder-comments.ts`). Posting twice must be harmless to call: a post
 * whose success was not recorded is found by the poster and not repeated.
 */
export interface ReminderPoster {
  post(grant: GrantRow): Promise<void>;
}

/** Where a break-glass review reminder is posted: a comment on the grant's pull request calling its code owners. */
export interface ReviewReminderPoster {
  post(grant: BreakGlassGrant): Promise<void>;
}
