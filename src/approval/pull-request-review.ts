/**
 * What jitsudo says about an open pull request, computed from data already fetched: the changed
 * files, the request files at the head, and CODEOWNERS + `.github/jitsudo.yml` at the base. Pure,
 * so every rule here is unit-testable and the PR check, the comment and `jitsudo validate` agree.
 */
import { ownership, type Codeowners, type CodeownersOwner } from "./codeowners.js";
import type { GovernanceChange } from "./commit-history.js";
import {
  isGovernancePath,
  governanceCommitBlockers,
  incompleteListBlockers,
  governanceOf,
  type Blocker,
  type GovernanceEvidence,
} from "./governance.js";
import type { TenantConfig } from "../config/tenant.js";
import type { FileBytes, PullFile, PullRequestInfo } from "../github/types.js";
import { isRequestFilePath, REQUESTS_DIR, requestPathProblem, tooManyRequestFiles, unreadableRequest } from "../requests/access-request.js";
import { printable } from "../parsing/printable.js";
import { byPosition, type Problem } from "../parsing/problem.js";
import { validateRequest, type RequestReview } from "../requests/validate-request.js";

export interface FileReview extends RequestReview {
  /** Code owners of the path at the base (who may approve it), minus nobody: the verdict excludes the author later. */
  owners: CodeownersOwner[];
}

export interface PullRequestReview {
  pr: PullRequestInfo;
  defaultBranch: string;
  requests: FileReview[];
  /** Request files this PR deletes (or renames away): merging ends their live grants early. */
  removals: { path: string; owners: CodeownersOwner[] }[];
  /** Files under access-requests/ that are not request files, so are ignored. */
  ignored: string[];
  blockers: Blocker[];
  config: TenantConfig;
  configProblems: Problem[];
  codeowners?: Codeowners;
  /** No request file added, changed or removed: nothing for jitsudo to say on the PR. */
  touchesRequests: boolean;
  conclusion: "success" | "failure";
}

/** What the review judges. The governance files (`GovernanceEvidence`) are those at the base. */
export interface PullRequestEvidence extends GovernanceEvidence {
  pr: PullRequestInfo;
  defaultBranch: string;
  files: readonly PullFile[];
  /** Request file path → its content at the head. */
  requestFiles: ReadonlyMap<string, FileBytes>;
  /** Request files already validated (with the base config, the author and `now`), off the event loop's critical path. */
  validated?: ReadonlyMap<string, RequestReview>;
  /** How many commits GitHub listed (its list stops at 250). */
  listedCommits: number;
  /** Commits of the PR that change CODEOWNERS or the policy, each judged against its parents. */
  governanceChanges: readonly GovernanceChange[];
  now: Date;
}

/** Whether any changed file is, or was (deleted or renamed away), a request file. */
export function touchesRequestFiles(files: readonly PullFile[]): boolean {
  return files.some((file) => isRequestFilePath(file.path) || (file.previousPath !== undefined && isRequestFilePath(file.previousPath)));
}

/** The files to read at the head for a PR's changed files. */
export function requestPathsOf(files: readonly PullFile[]): string[] {
  return files.filter((file) => file.status !== "removed" && isRequestFilePath(file.path)).map((file) => file.path);
}

/** The PR check: the governance at the base, each request file at the head, and what stops the pull request. */
export function reviewPullRequest(evidence: PullRequestEvidence): PullRequestReview {
  const { pr, files } = evidence;
  const { config, configProblems, codeowners, blockers: governance } = governanceOf(evidence);
  const blockers: Blocker[] = [...governance];
  const ownersFor = (path: string) => (codeowners ? ownership(codeowners, path).owners : []);
  const removals = removalsOf(files, ownersFor);

  const requestPaths = requestPathsOf(files);
  const tooMany = tooManyRequestFiles(requestPaths.length);
  if (tooMany) blockers.push({ message: tooMany });
  const requests = (tooMany ? [] : requestPaths).map((path) => reviewRequestFile(path, ownersFor(path), config, evidence));

  const incomplete = incompleteListBlockers(
    { files: files.length, commits: evidence.listedCommits },
    {
      ...(pr.changedFiles !== undefined ? { changedFiles: pr.changedFiles } : {}),
      ...(pr.commitCount !== undefined ? { commits: pr.commitCount } : {}),
    },
  );
  // A pull request jitsudo cannot see whole may hold requests in the part it cannot see.
  const touchesRequests = requestPaths.length > 0 || removals.length > 0 || incomplete.length > 0;
  if (touchesRequests) {
    blockers.push(
      ...incomplete,
      ...governanceBlockers(files),
      ...governanceCommitBlockers(evidence.governanceChanges),
      ...requestBlockers(requests, codeowners),
      ...baseBranchBlockers(pr, evidence.defaultBranch),
    );
  }

  const failed = blockers.length > 0 || requests.some((request) => !request.valid);
  return {
    pr,
    defaultBranch: evidence.defaultBranch,
    requests,
    removals,
    ignored: ignoredFiles(files),
    blockers,
    config,
    configProblems,
    ...(codeowners ? { codeowners } : {}),
    touchesRequests,
    conclusion: touchesRequests && failed ? "failure" : "success",
  };
}

/** Request files the PR deletes or renames away, with the owners who may approve ending their grants. */
function removalsOf(files: readonly PullFile[], ownersFor: (path: string) => CodeownersOwner[]): PullRequestReview["removals"] {
  return files.flatMap((file) => {
    const removedPath = file.status === "removed" ? file.path : file.status === "renamed" ? file.previousPath : undefined;
    return removedPath && isRequestFilePath(removedPath) ? [{ path: removedPath, owners: ownersFor(removedPath) }] : [];
  });
}

/** Files under access-requests/ that are not request files (nor documentation), which jitsudo ignores. */
function ignoredFiles(files: readonly PullFile[]): string[] {
  return files
    .filter((file) => file.status !== "removed" && file.path.startsWith(REQUESTS_DIR) && !isRequestFilePath(file.path))
    .filter((file) => !/\.md$/i.test(file.path))
    .map((file) => file.path);
}

/** A request file at the head, validated against the base policy (or as the caller already validated it). */
function reviewRequestFile(path: string, owners: CodeownersOwner[], config: TenantConfig, evidence: PullRequestEvidence): FileReview {
  const content = evidence.requestFiles.get(path) ?? { kind: "missing" as const };
  if (content.kind !== "file")
    return {
      file: path,
      owners,
      valid: false,
      problems: [unreadableRequest(path, content, "could not be found at the head commit; push again")],
    };
  const review =
    evidence.validated?.get(path) ??
    validateRequest(path, content.bytes, { config, requester: evidence.pr.authorLogin, now: evidence.now });
  const named = requestPathProblem(path);
  return { ...review, valid: review.valid && !named, problems: [...review.problems].sort(byPosition), owners };
}

/** Only merges into the default branch grant, and only its governance files decide who approves. */
function baseBranchBlockers(pr: PullRequestInfo, defaultBranch: string): Blocker[] {
  if (pr.baseRef === defaultBranch) return [];
  return [
    {
      message: `this pull request targets ${pr.baseRef}, not the default branch ${defaultBranch}; only merges into ${defaultBranch} grant access`,
    },
  ];
}

/** Governance files the pull request changes: those changes belong in pull requests of their own. */
function governanceBlockers(files: readonly PullFile[]): Blocker[] {
  return files.flatMap((file) => {
    const paths = [file.path, file.previousPath].filter((path): path is string => path !== undefined);
    const governance = paths.find(isGovernancePath);
    if (!governance) return [];
    return [
      {
        ...(file.status === "removed" ? {} : { path: file.path }),
        message: `this pull request also changes ${governance}; changes to code owners or policy must be merged in their own pull request, before or after the access request`,
      },
    ];
  });
}

/** What stops a request file from ever being approved: its name, no owners, owners GitHub may read otherwise. */
function requestBlockers(requests: readonly FileReview[], codeowners: Codeowners | undefined): Blocker[] {
  return requests.flatMap((request): Blocker[] => {
    const named = requestPathProblem(request.file);
    // A name with a line break cannot carry an annotation; the message shows it escaped.
    if (named) return [{ message: `${printable(request.file)}: ${named}` }];
    if (!codeowners) return [];
    if (request.owners.length === 0)
      return [
        { path: request.file, message: `${printable(request.file)} has no code owners in ${codeowners.path}, so nobody can approve it` },
      ];
    const { ambiguity } = ownership(codeowners, request.file);
    return ambiguity ? [{ path: request.file, message: ambiguity.message }] : [];
  });
}
