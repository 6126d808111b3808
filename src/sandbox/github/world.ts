/**
 * What a repository shares with the rest of the local GitHub: accounts, the clock, id numbering,
 * permissions, and the outbox of webhook deliveries its operations cause.
 */
import type { Accounts, Role } from "./accounts.js";
import type { GitHubClock } from "./clock.js";
import type { Commit } from "./git-objects.js";
import type { PullRequest, Review } from "./pulls.js";
import type { CheckRun, IssueComment } from "./issues.js";
import type { GitRepository } from "./git-repository.js";
import type { Repository } from "./repository.js";

/** What happened, for the webhook GitHub sends about it (built by webhook-payloads.ts). */
export type ModelEvent =
  | {
      kind: "push";
      repo: GitRepository;
      ref: string;
      before: string;
      after: string;
      /** The commits new to the branch, parents first. */
      commits: Commit[];
      /** Commits already pushed to the repository before (GitHub's `distinct: false`). */
      known: ReadonlySet<string>;
      pusher: string;
      created: boolean;
      deleted: boolean;
      forced: boolean;
    }
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
  | { kind: "issue_comment"; action: "created"; repo: Repository; pull: PullRequest; comment: IssueComment }
  | { kind: "check_run"; action: "rerequested"; repo: Repository; run: CheckRun; sender: string };

export interface WebhookDelivery {
  /** The X-GitHub-Event header: `pull_request`, `push`, ... */
  name: string;
  payload: Record<string, unknown>;
}

export interface World {
  readonly accounts: Accounts;
  readonly clock: GitHubClock;
  nextId(): number;
  emit(event: ModelEvent): WebhookDelivery;
  /** The strongest role `login` has in `repo` (owner, collaborator, or through an active team membership). */
  roleOf(repo: GitRepository, login: string): Role | undefined;
  /** The repository `owner/name` (case-insensitive), if one has that name now. */
  findRepository(owner: string, name: string): GitRepository | undefined;
}
