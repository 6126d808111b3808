/**
 * Where `jitsudo request` and `jitsudo rules` stand: the clone they run in (if any), GitHub as the
 * token's person sees it (if there is a token), and the policy and CODEOWNERS of the repository's
 * default branch, read through the API when there is a token and from the clone's origin/HEAD when
 * there is not. Every failure says what to change.
 */
import {
  failure,
  findToken,
  connect,
  fullName,
  parseRepoName,
  parseRemote,
  apiHostMatches,
  statusOf,
  type GitHubToken,
  type Octokit,
  type RepoName,
} from "./github-api.js";
import type { Governance } from "../approval/governance.js";
import { policyFromClone, policyFromGitHub, type DefaultBranchPolicy } from "./policy-source.js";
import { CliError, git, type ToolIo } from "./tool-io.js";

export interface SessionOptions {
  /** --repo owner/name; otherwise the clone's origin. */
  repo?: string;
  /** The command works through GitHub (--open-pr): a token is required. */
  requireGitHub: boolean;
  /** The command writes into the clone: it must run in one. */
  requireClone: boolean;
}

export interface GitHubSession {
  octokit: Octokit;
  token: GitHubToken;
  repo: RepoName;
  /** The token's own login (`GET /user`). */
  viewer: string;
  /** From the repository's `permissions` for the token's person; undefined when GitHub does not say. */
  canPush?: boolean;
}

export interface Session {
  /** The clone's top directory, when run inside one. */
  root?: string;
  github?: GitHubSession;
  policy: DefaultBranchPolicy;
}

export async function openSession(io: ToolIo, options: SessionOptions): Promise<Session> {
  const root = git(io, ["rev-parse", "--show-toplevel"]);
  if (options.requireClone && !root)
    throw new CliError(
      "the request file is written into a clone of the access repository; run it inside one, or pass --open-pr to open the pull request through GitHub",
    );
  const token = findToken(io);
  if (!token) {
    if (options.requireGitHub)
      throw new CliError(
        "--open-pr opens the pull request through the GitHub API and needs a token: set GITHUB_TOKEN to a token that can push to the access repository, or install the GitHub CLI and run gh auth login",
      );
    if (!root)
      throw new CliError(
        "the policy is read from the default branch: run it inside a clone of the access repository (it reads origin/HEAD), or set GITHUB_TOKEN (or run gh auth login) to read it through the GitHub API",
      );
    // Teams named by the policy must be of the repository's organisation, as the app checks.
    const origin = git(io, ["remote", "get-url", "origin"], root);
    const organization = (options.repo !== undefined ? parseRepoName(options.repo) : origin ? parseRemote(origin)?.repo : undefined)?.owner;
    return { root, policy: policyFromClone(io, root, organization) };
  }
  const github = await openGitHub(io, token, repoName(io, options.repo, root));
  const policy = await policyFromGitHub(github.octokit, github.repo, github.defaultBranch, token);
  return { ...(root ? { root } : {}), github, policy };
}

function repoName(io: ToolIo, flag: string | undefined, root: string | undefined): RepoName {
  if (flag !== undefined) {
    const parsed = parseRepoName(flag);
    if (!parsed) throw new CliError(`--repo ${JSON.stringify(flag)} is not owner/name; write it like acme/access`, 2);
    return parsed;
  }
  const remote = root ? git(io, ["remote", "get-url", "origin"], root) : undefined;
  const fromRemote = remote ? parseRemote(remote) : undefined;
  const parsed = fromRemote?.repo;
  const host = fromRemote?.host;
  // The token and the request must go to the host the clone came from: a GitHub Enterprise
  // clone without GHE_HOST would otherwise send its token, and the reason, to github.com.
  if (host && !apiHostMatches(io.env, host))
    throw new CliError(
      `your clone's origin is on ${host}, but jitsudo would ask ${io.env.GHE_HOST?.trim() || "github.com"}: set GHE_HOST=${host} (GitHub Enterprise Server), or pass --repo owner/name to ask the other host on purpose`,
      2,
    );
  if (!parsed)
    throw new CliError(
      remote
        ? "your clone's origin is not a GitHub repository URL; pass --repo owner/name (e.g. --repo acme/access)"
        : "no repository to ask GitHub about: pass --repo owner/name (e.g. --repo acme/access), or run it inside a clone whose origin is on GitHub",
      2,
    );
  return parsed;
}

async function openGitHub(io: ToolIo, token: GitHubToken, repo: RepoName): Promise<GitHubSession & { defaultBranch: string }> {
  const octokit = await connect(io, token);
  let viewer: string;
  try {
    viewer = (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    if (statusOf(error) === 403)
      throw new CliError(
        `the token from ${token.source} is not a person's token (GitHub answered 403 to GET /user): an app's or GitHub Actions' token cannot request access as you; use a personal access token, or gh auth login`,
      );
    throw failure(error, "asking GitHub who the token belongs to", token);
  }
  try {
    const { data } = await octokit.rest.repos.get({ owner: repo.owner, repo: repo.name });
    return {
      octokit,
      token,
      repo: { owner: data.owner.login, name: data.name },
      viewer,
      defaultBranch: data.default_branch,
      ...(data.permissions ? { canPush: data.permissions.push } : {}),
    };
  } catch (error) {
    throw failure(
      error,
      `reading ${fullName(repo)}`,
      token,
      `${fullName(repo)} was not found, or ${viewer} (the token from ${token.source}) cannot see it; check --repo, or ask for read access`,
    );
  }
}

/** GitHub logins: letters, digits and hyphens, plus `_` for Enterprise Managed Users. */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,38}$/;

/** The login, if it can be one (it becomes a directory of the request's path); otherwise a usage error. */
export function checkedLogin(login: string): string {
  if (!LOGIN.test(login)) throw new CliError(`${JSON.stringify(login)} is not a GitHub login; pass --login <GitHub login>`, 2);
  return login;
}

/** Nothing can be requested under a missing or invalid policy: why, with the policy's own problems at their lines. */
export function unusablePolicy(governance: Governance): CliError | undefined {
  if (!governance.policyBlocker) return undefined;
  const problems = governance.configProblems.map((problem) => `  ${problem.file}:${problem.line}:${problem.column}: ${problem.message}`);
  return new CliError([governance.policyBlocker.message, ...problems].join("\n"));
}
