/**
 * Where grant changes are told to people: the sticky comment of the grant's pull request (see
 * `src/github/grant-comments.ts`). The workers only say "this grant changed"; reporting is
 * asynchronous and never holds up provisioning or revoking, and a reporter that fails loses no
 * state: the next change renders the whole comment again from the database.
 */
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
