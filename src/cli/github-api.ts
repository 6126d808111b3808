/**
 * The GitHub API as the person running `jitsudo request`/`rules` sees it, through @octokit/rest:
 * their token (GITHUB_TOKEN, else `gh auth token` when the GitHub CLI is on PATH), GitHub
 * Enterprise Server when GHE_HOST is set (API at https://<host>/api/v3; GHE_PROTOCOL=http as
 * Probot reads it, for a local server), and GitHub's failures turned into messages that say what
 * to change. A token is never part of any message: messages are built from the status and
 * GitHub's own text, never from the request Octokit sent.
 *
 * @octokit/rest is imported only when there is a token, so the commands start without it otherwise.
 */
import type { Octokit } from "@octokit/rest";
import { CliError, onPath, runProgram, type ToolIo } from "./tool-io.js";

export type { Octokit };

export interface RepoName {
  owner: string;
  name: string;
}

export interface GitHubToken {
  token: string;
  /** Where it came from, for messages: "GITHUB_TOKEN" or "gh auth token". */
  source: string;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** The token to use, if any: GITHUB_TOKEN, else what `gh auth token` prints (for GHE_HOST when set). */
export function findToken(io: ToolIo): GitHubToken | undefined {
  const fromEnv = io.env.GITHUB_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: "GITHUB_TOKEN" };
  if (!onPath(io, "gh")) return undefined;
  const host = io.env.GHE_HOST?.trim();
  const result = runProgram(io, "gh", ["auth", "token", ...(host ? ["--hostname", host] : [])]);
  const token = result.ok ? result.stdout.toString("utf8").trim() : "";
  return token ? { token, source: "gh auth token" } : undefined;
}

/** https://api.github.com, or <protocol>://<GHE_HOST>/api/v3. */
export function apiBaseUrl(env: ToolIo["env"]): string {
  const host = env.GHE_HOST?.trim();
  if (!host) return "https://api.github.com";
  return `${env.GHE_PROTOCOL?.trim() || "https"}://${host}/api/v3`;
}

export async function connect(io: ToolIo, token: GitHubToken): Promise<Octokit> {
  const { Octokit } = await import("@octokit/rest");
  // Octokit would log each failed request itself; `failure` reports it once, saying what to change.
  const quiet = () => undefined;
  return new Octokit({
    auth: token.token,
    baseUrl: apiBaseUrl(io.env),
    userAgent: "jitsudo-cli",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}

/** `owner/name`, as --repo takes it. */
export function parseRepoName(text: string): RepoName | undefined {
  const [owner = "", name = "", ...rest] = text.replace(/\.git$/, "").split("/");
  return rest.length === 0 && OWNER.test(owner) && NAME.test(name) ? { owner, name } : undefined;
}

/**
 * The host (lower-cased, without a port) and `owner/name` of a remote URL as GitHub gives them
 * (https, ssh or scp-like); undefined for anything else (a path).
 */
export function parseRemote(url: string): { host: string; repo: RepoName } | undefined {
  const match =
    /^(?:https?|ssh|git):\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(url) ??
    /^[^@/\s]+@([^:/\s]+):([^/]+)\/([^/]+?)(?:\.git)?$/.exec(url);
  const repo = match ? parseRepoName(`${match[2]}/${match[3]}`) : undefined;
  return match && repo ? { host: match[1]!.toLowerCase(), repo } : undefined;
}

/** `owner/name` of a remote URL (see parseRemote). */
export function repoOfRemote(url: string): RepoName | undefined {
  return parseRemote(url)?.repo;
}

/** The host whose API jitsudo asks: GHE_HOST, or github.com (whose SSH also answers at ssh.github.com). */
export function apiHostMatches(env: ToolIo["env"], remoteHost: string): boolean {
  const host = env.GHE_HOST?.trim().toLowerCase();
  if (host) return remoteHost === host.replace(/:\d+$/, "");
  return remoteHost === "github.com" || remoteHost === "ssh.github.com";
}

export function fullName(repo: RepoName): string {
  return `${repo.owner}/${repo.name}`;
}

/** The HTTP status of a failed Octokit call; undefined for a network failure. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" ? status : undefined;
}

/**
 * A failed call as a message: what was being done, GitHub's answer, and what to change. `notFound`
 * replaces the generic text for a 404, which GitHub also answers for what the token may not see.
 */
export function failure(error: unknown, doing: string, token: GitHubToken, notFound?: string): CliError {
  const status = statusOf(error);
  const said = githubMessage(error);
  // Octokit reports a request that got no answer (refused, DNS, TLS) as a 500 without a response.
  if (status === undefined || (error as { response?: unknown }).response === undefined) {
    const cause = error instanceof Error ? error.message : String(error);
    return new CliError(`${doing}: GitHub could not be reached (${cause}); check your network, or GHE_HOST for GitHub Enterprise Server`);
  }
  if (status === 401)
    return new CliError(`${doing}: GitHub refused the token from ${token.source} (401 ${said}); create a new token, or run gh auth login`);
  if (status === 404 && notFound) return new CliError(`${doing}: ${notFound}`);
  if (status === 403 && /rate limit/i.test(said))
    return new CliError(`${doing}: GitHub's rate limit is used up (403 ${said}); try again later`);
  return new CliError(`${doing}: GitHub answered ${status} ${said}`);
}

/** GitHub's own message, without the documentation link Octokit appends, on one line. */
function githubMessage(error: unknown): string {
  const body = (error as { response?: { data?: { message?: unknown; errors?: unknown } } }).response?.data;
  const message = typeof body?.message === "string" ? body.message : error instanceof Error ? error.message : String(error);
  const details = Array.isArray(body?.errors)
    ? body.errors
        .map((entry: unknown) => (typeof entry === "object" && entry !== null ? (entry as { message?: unknown }).message : undefined))
        .filter((text): text is string => typeof text === "string")
    : [];
  return JSON.stringify([message, ...details].join(": ").replace(/\s+/g, " ").trim());
}
