/**
 * GitHub's data as jitsudo reads it: the shapes the gateway (`gateway.ts`) answers in and the
 * domain (the PR check, the merge verdict, the revoke command) judges. A leaf: it imports nothing,
 * so the domain and the gateway can both depend on it without depending on each other.
 */
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
  /** The head branch's name, and the id of the repository it lives in (another one for a fork; absent once the fork is deleted). */
  headRef?: string;
  headRepositoryId?: number;
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

/** Who moved a branch, by GitHub's repository activity records (pushes, force pushes, its creation), newest first. */
export type BranchPushers =
  | { kind: "found"; actors: (string | null)[]; complete: boolean }
  /** The API is not there (an older GitHub Enterprise Server) or not allowed. */
  | { kind: "unavailable"; reason: string };

/** GitHub's own list of CODEOWNERS problems at a ref (it ignores the lines and owners it lists). */
export type CodeownersErrorReport =
  { kind: "ok"; errors: { line: number; kind: string; message: string; path: string }[] } | { kind: "no-file" };

export interface Review {
  id: number;
  login: string;
  /** GitHub's numeric user id: logins can be renamed and reused, ids cannot. */
  userId?: number;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
  /** The commit reviewed; null when GitHub no longer has it (garbage collected or purged). */
  commitId: string | null;
  submittedAt: string;
}

/** GitHub user logins when GitHub linked the commit's e-mail addresses to accounts; undefined when not. */
export interface PullCommit {
  sha: string;
  /** As GitHub lists them: a merge commit inside the PR has two. */
  parents: string[];
  authorLogin?: string;
  committerLogin?: string;
  authorId?: number;
  committerId?: number;
}

export type TeamMembership = "active" | "pending" | "none";
/**
 * Whether a team exists (GET /orgs/{org}/teams/{slug}): a renamed or deleted team is "not-found";
 * "has-child-teams" when it has child teams, whose members GitHub counts as the team's own.
 */
export type TeamExistence = "found" | "not-found" | "has-child-teams";
export type RepoPermission = "admin" | "maintain" | "write" | "triage" | "read" | "none";
