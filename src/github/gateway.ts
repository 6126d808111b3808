/**
 * The small surface jitsudo needs from GitHub, for one repository of one installation. The domain
 * code talks to this interface only; `octokit-gateway.ts` implements it over the REST and GraphQL
 * APIs, and tests drive the real implementation with the HTTP layer intercepted.
 */
import type { PullCommit, RepoPermission, Review, TeamMembership } from "../approval/approval.js";

export type PullFileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";

export interface PullFile {
  path: string;
  status: PullFileStatus;
  /** Set for renames: the path the file had at the base. */
  previousPath?: string;
}

export interface FileAt {
  ref: string;
  path: string;
  /** Bigger files are reported as too large and never downloaded whole. */
  maxBytes: number;
}

export type FileBytes =
  | { kind: "file"; bytes: Uint8Array; blobSha: string }
  /** Not read because it is bigger than the caller's limit; `size` is what GitHub reports. */
  | { kind: "too-large"; size: number; blobSha: string }
  | { kind: "missing" }
  /** A directory, submodule or symlink where a file was expected (git modes 040000, 160000, 120000). */
  | { kind: "not-a-file"; entry: "directory" | "submodule" | "symlink" | "other" };

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column?: number;
  end_column?: number;
  annotation_level: "notice" | "warning" | "failure";
  title?: string;
  message: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  annotations?: CheckAnnotation[];
}

export interface CheckRunInput {
  name: string;
  headSha: string;
  conclusion: "success" | "failure" | "neutral" | "action_required";
  output: CheckRunOutput;
  externalId?: string;
}

export interface IssueComment {
  id: number;
  body: string;
  authorLogin: string;
}

export interface PullRequestInfo {
  number: number;
  headSha: string;
  baseSha: string;
  baseRef: string;
  authorLogin: string;
  /** GitHub's numeric id of the author. */
  authorId?: number;
  state: "open" | "closed";
  /** How many files GitHub says the PR changes (only in a single PR's details; lists omit it). */
  changedFiles?: number;
  /** How many commits GitHub says the PR has (only in a single PR's details; lists omit it). */
  commitCount?: number;
  /** Set once the pull request is merged. */
  merge?: PullRequestMerge;
}

export interface PullRequestMerge {
  commitSha: string;
  mergedAt: Date;
  mergedBy?: string;
  /** How many commits GitHub says the PR has (only in a single PR's details; lists omit it). */
  commitCount?: number;
}

/** A closed pull request as the pull request list shows it, newest update first. */
export interface ClosedPullRequest extends PullRequestInfo {
  updatedAt: Date;
}

/** Shapes the merge verdict reads; defined with it in src/approval/approval.ts. */
export type { PullCommit, RepoPermission, Review, TeamMembership };

/** One entry of a pull request's timeline that the verdict orders reviews by. */
export type TimelineEntry =
  | { kind: "review"; id: number; at: Date }
  | { kind: "merged"; at: Date }
  /** The base branch changed (a retarget) or was force-pushed: approvals before it saw another diff. */
  | { kind: "base-changed"; at: Date };

export interface PullTimeline {
  entries: TimelineEntry[];
  /** False when the timeline was too long to read whole. */
  complete: boolean;
}

/** GitHub's record of a branch update, from the repository activity API. */
export type BranchUpdate =
  | { kind: "found"; before: string; after: string; activityType: string; at: Date }
  | { kind: "not-found" }
  /** The API is not there (an older GitHub Enterprise Server) or not allowed: another source must prove it. */
  | { kind: "unavailable"; reason: string };

/** GitHub's own list of CODEOWNERS problems at a ref (it ignores the lines and owners it lists). */
export type CodeownersErrorReport =
  { kind: "ok"; errors: { line: number; kind: string; message: string; path: string }[] } | { kind: "no-file" };

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
  codeownersErrors(ref: string): Promise<CodeownersErrorReport>;
  teamMembership(org: string, slug: string, login: string): Promise<TeamMembership>;
  repoPermission(login: string): Promise<RepoPermission>;
  reactToComment(commentId: number, content: "+1" | "-1" | "confused" | "eyes"): Promise<void>;
  /** The parents of a commit; the first parent of a merge commit is the base branch before the merge. */
  commitParents(sha: string): Promise<string[]>;
  /** Closed pull requests updated at or after `since`, newest first, at most `maxPages` pages of 100. */
  closedPullRequestsSince(since: Date, maxPages: number): Promise<{ pulls: ClosedPullRequest[]; complete: boolean }>;
}

/** The key that serialises all work on one pull request (validation, merge, commands) across replicas. */
/**
 * A branch by its full ref name. A bare name is resolved as git resolves it, where a tag of the
 * same name comes before the branch: anyone who can push a tag called `main` would otherwise
 * choose the CODEOWNERS jitsudo reads "at main".
 */
export function branchRef(name: string): string {
  return `refs/heads/${name}`;
}

export function pullRequestKey(repositoryId: number, pullNumber: number): string {
  return `${repositoryId}#${pullNumber}`;
}
