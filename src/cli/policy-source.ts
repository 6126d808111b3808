/**
 * The policy and CODEOWNERS a new request will be judged by: those of the repository's default
 * branch (the pull request's base), never the working tree's, which may hold local edits or an old
 * checkout. With a token they are read through the GitHub API at the default branch's current
 * commit (and GitHub's own CODEOWNERS error report with them); without one, from the clone's copy
 * of the default branch (`origin/HEAD`) with git, as fresh as the last `git fetch`. Either way the
 * files are judged by `judgeGovernance`, the function the pull request check uses (through the API,
 * read by `readGovernance` too).
 */
import { CODEOWNERS_LOCATIONS, CODEOWNERS_MAX_BYTES } from "../approval/codeowners.js";
import { judgeGovernance, readGovernance, type Governance, type GovernanceRead } from "../approval/governance.js";
import { TENANT_CONFIG_PATH } from "../config/tenant.js";
import { OctokitGateway } from "../github/octokit-gateway.js";
import type { CodeownersErrorReport, FileBytes } from "../github/types.js";
import { failure, fullName, type GitHubToken, type Octokit, type RepoName } from "./github-api.js";
import { CliError, git, runProgram, type ToolIo } from "./tool-io.js";

export interface DefaultBranchPolicy {
  governance: Governance;
  /** The default branch's name and the commit read: a pull request branches from exactly this commit. */
  branch: string;
  sha: string;
  /** For the person: where the policy was read, and how. */
  source: string;
}

const GOVERNANCE_READS = [TENANT_CONFIG_PATH, ...CODEOWNERS_LOCATIONS];

/**
 * Through the API: the default branch's tip, then the governance files there read and judged by
 * `readGovernance`, exactly as the pull request check reads them (one GraphQL query whose tree
 * entry modes tell files from links and submodules, GitHub's CODEOWNERS report, the organisation
 * that `require_owners` and break-glass teams must belong to).
 */
export async function policyFromGitHub(octokit: Octokit, repo: RepoName, branch: string, token: GitHubToken): Promise<DefaultBranchPolicy> {
  const at = `reading ${fullName(repo)}'s default branch ${branch}`;
  let sha: string;
  try {
    const { data } = await octokit.rest.git.getRef({ owner: repo.owner, repo: repo.name, ref: `heads/${branch}` });
    sha = data.object.sha;
  } catch (error) {
    throw failure(error, at, token, `${fullName(repo)} has no branch ${branch}; it is empty, so it has no policy yet`);
  }
  // Only the file reads and the CODEOWNERS report are used: no pull request, no bot login.
  const gateway = new OctokitGateway(octokit, repo.owner, repo.name, () => Promise.reject(new Error("the CLI has no bot login")));
  let read: GovernanceRead;
  try {
    read = await readGovernance(gateway, sha);
  } catch (error) {
    throw failure(error, at, token);
  }
  return {
    governance: read.governance,
    branch,
    sha,
    source: `${fullName(repo)} ${branch} (the default branch) at ${sha.slice(0, 7)}, read through the GitHub API`,
  };
}

/**
 * From the clone: origin/HEAD, the remote's default branch as of the last fetch. `organization`
 * (the origin's owner, when it can be told) is the one teams must belong to, as in the app.
 */
export function policyFromClone(io: ToolIo, root: string, organization?: string): DefaultBranchPolicy {
  const head = git(io, ["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"], root);
  if (!head)
    throw new CliError(
      "without a GitHub token, the policy is read from your clone's copy of the default branch, but origin/HEAD is not set; run git remote set-head origin --auto (or set GITHUB_TOKEN, or run gh auth login)",
    );
  const sha = git(io, ["rev-parse", "--verify", "--quiet", `${head}^{commit}`], root);
  if (!sha) throw new CliError(`${head} does not name a commit in your clone; run git fetch origin`);
  const files = GOVERNANCE_READS.map((path) => fileFromGit(io, root, sha, path));
  // GitHub's own CODEOWNERS error report needs the API; the pull request's check will consult it.
  const present = files.slice(1).some((file) => file.kind !== "missing");
  const report: CodeownersErrorReport = present ? { kind: "ok", errors: [] } : { kind: "no-file" };
  const branch = head.replace(/^refs\/remotes\//, "");
  return {
    governance: judgeGovernance({
      configFile: files[0]!,
      codeownersFiles: files.slice(1),
      githubCodeowners: report,
      ...(organization !== undefined ? { organization } : {}),
    }),
    branch,
    sha,
    source: `${branch} (origin/HEAD, the default branch as of your last git fetch) at ${sha.slice(0, 7)}, read from your clone with git: no GitHub token`,
  };
}

/** A file at `sha` in the clone, its git mode telling a file from a link, a submodule or a directory. */
function fileFromGit(io: ToolIo, root: string, sha: string, path: string): FileBytes {
  const listed = git(io, ["ls-tree", "-z", "--full-tree", sha, "--", path], root) ?? "";
  const entry = listed.split("\0").find((line) => line.endsWith(`\t${path}`));
  if (!entry) return { kind: "missing" };
  const [mode = "", , blobSha = ""] = entry.split("\t")[0]!.split(" ");
  if (mode === "120000") return { kind: "not-a-file", entry: "symlink" };
  if (mode === "160000") return { kind: "not-a-file", entry: "submodule" };
  if (mode === "040000") return { kind: "not-a-file", entry: "directory" };
  if (mode !== "100644" && mode !== "100755") return { kind: "not-a-file", entry: "other" };
  const size = Number(git(io, ["cat-file", "-s", blobSha], root));
  if (size > CODEOWNERS_MAX_BYTES) return { kind: "too-large", size, blobSha };
  const blob = runProgram(io, "git", ["cat-file", "blob", blobSha], root);
  if (!blob.ok) throw new CliError(`git could not read ${path} at ${sha.slice(0, 7)} in your clone: ${blob.stderr}`);
  return { kind: "file", bytes: new Uint8Array(blob.stdout), blobSha };
}
