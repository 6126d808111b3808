/**
 * The local GitHub (see `github/local-github.ts`): a model of GitHub's repositories, pull requests,
 * reviews, merges and people, answering GitHub's REST and GraphQL API for jitsudo's tests and demo.
 */
import { DEFAULT_REPOSITORY } from "./github/local-github.js";

export {
  APP_ID,
  APP_SLUG,
  BOT_LOGIN,
  DEFAULT_REPOSITORY,
  INSTALLATION_ID,
  LocalGitHub,
  type CreateRepositorySpec,
  type LocalGitHubOptions,
  type RecordedCall,
} from "./github/local-github.js";
export {
  Repository,
  PullRequestError,
  type MergeOptions,
  type MergeResult,
  type OpenPullSpec,
  type InjectedCodeownersError,
} from "./github/repository.js";
export type { CommitSpec, FileSpec } from "./github/git-repository.js";
export type { PersonSpec, Role } from "./github/accounts.js";
export { SimulatedClock, WallClock, githubTime, type GitHubClock } from "./github/clock.js";
export { MergeConflictError } from "./github/merge-methods.js";
export { gitBlobId, ZERO_SHA } from "./github/git-objects.js";
export type { MergeMethod, PullRequest, Review, ReviewState } from "./github/pulls.js";
export type { WebhookDelivery } from "./github/world.js";
export type { CheckRun, IssueComment, Reaction } from "./github/issues.js";
export type { CodeownersError } from "./github/codeowners-check.js";
export { PULL_COMMITS_LIMIT, PULL_FILES_LIMIT } from "./github/rest-repo-routes.js";

/** The id GitHub's example payloads give Codertocat/Hello-World. */
export const REPOSITORY_ID: number = DEFAULT_REPOSITORY.id;
