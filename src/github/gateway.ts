/**
 * The small surface jitsudo needs from GitHub, for one repository of one installation. The domain
 * code talks to this interface only; `octokit-gateway.ts` implements it over the REST and GraphQL
 * APIs, and tests drive the real implementation with the HTTP layer intercepted.
 */
import type {
  BranchUpdate,
  BranchPushers,
  CheckRunInput,
  ClosedPullRequest,
  CodeownersErrorReport,
  FileAt,
  FileBytes,
  IssueComment,
  PullCommit,
  PullFile,
  PullRequestInfo,
  PullTimeline,
  RepoPermission,
  Review,
  TeamExistence,
  TeamMembership,
} from "./types.js";

export interface GitHubGateway {
  readonly owner: string;
  readonly repo: string;
  listPullRequestFiles(pullNumber: number): Promise<PullFile[]>;
  /** Reads many files in as few calls as possible, in the order asked. */
  readFiles(files: readonly FileAt[]): Promise<FileBytes[]>;
  getPullRequest(pullNumber: number): Promise<PullRequestInfo>;
  pullRequestsForCommit(sha: string): Promise<PullRequestInfo[]>;
  /** Creates a completed check run; annotations beyond GitHub's 50 per call are sent in further updates. */
  publishCheckRun(input: CheckRunInput): Promise<{ id: number; calls: number }>;
  listIssueComments(issueNumber: number): Promise<IssueComment[]>;
  createIssueComment(issueNumber: number, body: string): Promise<IssueComment>;
  updateIssueComment(commentId: number, body: string): Promise<void>;
  /** `<slug>[bot]`: the login our comments are written under. */
  botLogin(): Promise<string>;
  /** Every review of the pull request, oldest first. */
  listReviews(pullNumber: number): Promise<Review[]>;
  /** Every commit of the pull request (GitHub lists at most 250). */
  listPullRequestCommits(pullNumber: number): Promise<PullCommit[]>;
  /** The git object id at each path of each commit (null where absent), in the order of `paths`. */
  objectIdsAt(commits: readonly string[], paths: readonly string[]): Promise<Map<string, (string | null)[]>>;
  /** The pull request's reviews, merge and base changes in the order GitHub's timeline has them. */
  pullTimeline(pullNumber: number): Promise<PullTimeline>;
  /** The update of `branch` that moved it to `after`, looked up no further back than `since`. */
  branchUpdate(branch: string, after: string, since: Date): Promise<BranchUpdate>;
  /** Who pushed to a branch, from the repository activity API (at most a few pages). */
  branchPushers(branch: string): Promise<BranchPushers>;
  codeownersErrors(ref: string): Promise<CodeownersErrorReport>;
  teamMembership(org: string, slug: string, login: string): Promise<TeamMembership>;
  /** Whether the team exists: the membership endpoint answers 404 alike for a non-member and for a renamed or deleted team. */
  teamExistence(org: string, slug: string): Promise<TeamExistence>;
  repoPermission(login: string): Promise<RepoPermission>;
  reactToComment(commentId: number, content: "+1" | "-1" | "confused" | "eyes"): Promise<void>;
  /** The parents of a commit; the first parent of a merge commit is the base branch before the merge. */
  commitParents(sha: string): Promise<string[]>;
  /** Closed pull requests updated at or after `since`, newest first, at most `maxPages` pages of 100. */
  closedPullRequestsSince(since: Date, maxPages: number): Promise<{ pulls: ClosedPullRequest[]; complete: boolean }>;
}

/**
 * A branch by its full ref name. A bare name is resolved as git resolves it, where a tag of the
 * same name comes before the branch: anyone who can push a tag called `main` would otherwise
 * choose the CODEOWNERS jitsudo reads "at main".
 */
export function branchRef(name: string): string {
  return `refs/heads/${name}`;
}

/** The key that serialises all work on one pull request (validation, merge, commands) across replicas. */
export function pullRequestKey(repositoryId: number, pullNumber: number): string {
  return `${repositoryId}#${pullNumber}`;
}
