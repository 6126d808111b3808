/**
 * What jitsudo says about an open pull request, computed from data already fetched: the changed
 * files, the request files at the head, and CODEOWNERS + `.github/jitsudo.yml` at the base. Pure,
 * so every rule here is unit-testable and the PR check, the comment and `jitsudo validate` agree.
 */
import {
  CODEOWNERS_LOCATIONS,
  ownersOf,
  parseCodeowners,
  type Codeowners,
  type CodeownersOwner,
} from "../approval/codeowners.js";
import { EMPTY_TENANT_CONFIG, parseTenantConfig, TENANT_CONFIG_PATH, type TenantConfig } from "../config/tenant.js";
import type { FileBytes, PullFile, PullRequestInfo } from "../github/gateway.js";
import { isRequestFilePath, REQUEST_FILE_MAX_BYTES, REQUESTS_DIR } from "./access-request.js";
import { byPosition, type Problem } from "./problem.js";
import { validateRequest, type RequestReview } from "./validate-request.js";

/** Files a PR with access requests must not touch: they decide who may approve what. */
export const GOVERNANCE_PATHS: readonly string[] = [...CODEOWNERS_LOCATIONS, TENANT_CONFIG_PATH];

export interface FileReview extends RequestReview {
  /** Code owners of the path at the base (who may approve it), minus nobody: the verdict excludes the author later. */
  owners: CodeownersOwner[];
}

/** A reason the whole PR cannot be granted, independent of any one file's content. */
export interface Blocker {
  message: string;
  /** Where to annotate, when the cause is a file in the PR. */
  path?: string;
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

export interface PullRequestEvidence {
  pr: PullRequestInfo;
  defaultBranch: string;
  files: readonly PullFile[];
  /** `.github/jitsudo.yml` at the base. */
  configFile: FileBytes;
  /** Each CODEOWNERS location at the base, in GitHub's order. */
  codeownersFiles: readonly FileBytes[];
  /** Request file path → its content at the head. */
  requestFiles: ReadonlyMap<string, FileBytes>;
  now: Date;
}

/** The files to read at the head for a PR's changed files. */
export function requestPathsOf(files: readonly PullFile[]): string[] {
  return files.filter((file) => file.status !== "removed" && isRequestFilePath(file.path)).map((file) => file.path);
}

export function reviewPullRequest(evidence: PullRequestEvidence): PullRequestReview {
  const { pr, files } = evidence;
  const blockers: Blocker[] = [];

  const { config, configProblems } = readConfig(evidence.configFile, blockers);
  const codeowners = readCodeowners(evidence.codeownersFiles, blockers);
  const ownersFor = (path: string) => (codeowners ? ownersOf(codeowners, path) : []);

  const removals = files.flatMap((file) => {
    const removedPath = file.status === "removed" ? file.path : file.status === "renamed" ? file.previousPath : undefined;
    return removedPath && isRequestFilePath(removedPath) ? [{ path: removedPath, owners: ownersFor(removedPath) }] : [];
  });
  const ignored = files
    .filter((file) => file.status !== "removed" && file.path.startsWith(REQUESTS_DIR) && !isRequestFilePath(file.path))
    .filter((file) => !/\.md$/i.test(file.path))
    .map((file) => file.path);

  const requests: FileReview[] = requestPathsOf(files).map((path) => {
    const owners = ownersFor(path);
    const content = evidence.requestFiles.get(path) ?? { kind: "missing" as const };
    if (content.kind !== "file") return { file: path, owners, valid: false, problems: [unreadable(path, content)] };
    const review = validateRequest(path, content.bytes, { config, requester: pr.authorLogin, now: evidence.now });
    return { ...review, problems: [...review.problems].sort(byPosition), owners };
  });

  const touchesRequests = requests.length > 0 || removals.length > 0;
  if (touchesRequests) {
    for (const file of files) {
      const paths = [file.path, file.previousPath].filter((path): path is string => path !== undefined);
      const governance = paths.find((path) => GOVERNANCE_PATHS.includes(path));
      if (governance) {
        blockers.push({
          ...(file.status === "removed" ? {} : { path: file.path }),
          message: `this pull request also changes ${governance}; changes to code owners or policy must be merged in their own pull request, before or after the access request`,
        });
      }
    }
    if (pr.baseRef !== evidence.defaultBranch) {
      blockers.push({
        message: `this pull request targets ${pr.baseRef}, not the default branch ${evidence.defaultBranch}; only merges into ${evidence.defaultBranch} grant access`,
      });
    }
    for (const request of requests) {
      if (request.owners.length === 0 && codeowners) {
        blockers.push({ path: request.file, message: `${request.file} has no code owners in ${codeowners.path}, so nobody can approve it` });
      }
    }
  }

  const failed = blockers.length > 0 || requests.some((request) => !request.valid);
  return {
    pr,
    defaultBranch: evidence.defaultBranch,
    requests,
    removals,
    ignored,
    blockers,
    config,
    configProblems,
    ...(codeowners ? { codeowners } : {}),
    touchesRequests,
    conclusion: touchesRequests && failed ? "failure" : "success",
  };
}

export function readConfig(file: FileBytes, blockers: Blocker[]): { config: TenantConfig; configProblems: Problem[] } {
  if (file.kind === "missing") {
    blockers.push({ message: `${TENANT_CONFIG_PATH} does not exist on the base branch, so no policy allows any request; an admin must add it` });
    return { config: EMPTY_TENANT_CONFIG, configProblems: [] };
  }
  if (file.kind !== "file") {
    blockers.push({ message: `${TENANT_CONFIG_PATH} on the base branch cannot be read (${file.kind}); nothing can be granted until it is a regular file` });
    return { config: EMPTY_TENANT_CONFIG, configProblems: [] };
  }
  const parsed = parseTenantConfig(file.bytes);
  if (parsed.ok) return { config: parsed.config, configProblems: [] };
  blockers.push({ message: `${TENANT_CONFIG_PATH} on the base branch is invalid, so nothing can be granted until an admin fixes it (problems listed below)` });
  return { config: EMPTY_TENANT_CONFIG, configProblems: parsed.problems };
}

export function readCodeowners(files: readonly FileBytes[], blockers: Blocker[]): Codeowners | undefined {
  const index = files.findIndex((file) => file.kind !== "missing");
  const path = CODEOWNERS_LOCATIONS[index];
  const file = files[index];
  if (!file || !path) {
    blockers.push({ message: "the base branch has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS), so nobody can approve requests" });
    return undefined;
  }
  if (file.kind !== "file") {
    blockers.push({ message: `${path} on the base branch cannot be read (${file.kind === "too-large" ? "over 3 MB" : file.kind}), so nobody can approve requests` });
    return undefined;
  }
  const codeowners = parseCodeowners(new TextDecoder().decode(file.bytes), path);
  for (const error of codeowners.errors) {
    // GitHub skips an invalid line, which can hand a path to a broader earlier rule: fail closed.
    blockers.push({ message: `${path} line ${error.line} on the base branch is invalid (${error.message}); no request can be approved until it is fixed` });
  }
  return codeowners;
}

function unreadable(path: string, content: Exclude<FileBytes, { kind: "file" }>): Problem {
  const message =
    content.kind === "too-large"
      ? `file is ${content.size} bytes, over the limit of ${REQUEST_FILE_MAX_BYTES} bytes; keep only the request in it`
      : content.kind === "not-a-file"
        ? "is not a regular file (a symlink, directory or submodule); write the request as a plain YAML file"
        : "could not be found at the head commit; push again";
  return { file: path, line: 1, column: 1, severity: "error", message };
}
