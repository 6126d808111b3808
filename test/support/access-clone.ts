/**
 * What `jitsudo request` and `jitsudo rules` run against in tests: the local GitHub over HTTP (as a
 * GitHub Enterprise Server on a loopback port) holding acme/access with the repository's example
 * policy and a CODEOWNERS, people with their own tokens, and git clones of such a repository on disk
 * (a bare "origin" and a clone whose origin/HEAD is its default branch). The commands run
 * in-process with an environment of their own: HOME in a temporary directory (no global git
 * config) and PATH holding only git, so the developer's own `gh` is never asked for a token.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalGitHub, type RunningLocalGitHub } from "../../src/sandbox/github-server.js";
import type { Repository } from "../../src/sandbox/github.js";
import type { ToolIo } from "../../src/cli/tool-io.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The example policy documented in the README (`.github/jitsudo.yml` of this repository). */
export const EXAMPLE_POLICY = readFileSync(join(REPO_ROOT, ".github/jitsudo.yml"), "utf8");

/** bob and the platform team approve everyone's requests; carol's own directory is alice's to approve. */
export const ACCESS_CODEOWNERS = "/access-requests/ @bob @acme/platform\n/access-requests/carol/ @alice\n";

/** When the tests say it is: the local GitHub's clock starts at 09:00 the same day. */
export const NOW = new Date("2026-11-25T12:00:00Z");

const scratch: string[] = [];

/** A temporary directory, removed by `removeScratch`. */
export function scratchDir(prefix = "jitsudo-request-"): string {
  const path = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(path);
  return path;
}

export function removeScratch(): void {
  for (const path of scratch.splice(0)) rmSync(path, { recursive: true, force: true });
}

/** A directory holding only a link to git, for PATH. */
export function gitOnlyPath(): string {
  const bin = scratchDir("jitsudo-bin-");
  symlinkSync(execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim(), join(bin, "git"));
  return bin;
}

/** The environment a command runs with: no token, no global git config, only git on PATH. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: gitOnlyPath(), HOME: scratchDir("jitsudo-home-"), GIT_CONFIG_NOSYSTEM: "1", ...extra };
}

export interface CliRun {
  io: ToolIo;
  stdout: string[];
  stderr: string[];
}

export function cliIo(cwd: string, env: Record<string, string>): CliRun {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    io: { cwd, env, stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line), now: () => NOW },
    stdout,
    stderr,
  };
}

export interface AccessGitHub extends RunningLocalGitHub {
  repo: Repository;
  /** A person's own token, as GITHUB_TOKEN would hold it. */
  tokenOf(login: string): string;
  /** GHE_HOST and GHE_PROTOCOL pointing at this GitHub, and a person's token when given. */
  env(login?: string, extra?: Record<string, string>): Record<string, string>;
}

/**
 * acme/access (private) with the example policy and CODEOWNERS on main; alice, bob and carol can
 * push (carol through the platform team), dave can only read, erin has no access at all.
 */
export async function startAccessGitHub(): Promise<AccessGitHub> {
  const running = await startLocalGitHub({ defaultRepository: false });
  const { github } = running;
  github.setTeamMembership("acme", "platform", "carol", "active");
  const installation = github.createInstallation({ account: "acme" });
  const repo = github.createRepository({ owner: "acme", name: "access", installationId: installation.id, private: true });
  github.grantTeam("acme", "platform", repo, "write");
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  repo.setPermission("dave", "read");
  github.accounts.get("erin");
  repo.commit("main", {
    files: { ".github/jitsudo.yml": EXAMPLE_POLICY, ".github/CODEOWNERS": ACCESS_CODEOWNERS, "README.md": "# Access\n" },
    author: "acme",
  });
  const tokens = new Map<string, string>();
  const tokenOf = (login: string) => {
    if (!tokens.has(login)) tokens.set(login, github.issuePersonToken(login));
    return tokens.get(login)!;
  };
  return {
    ...running,
    repo,
    tokenOf,
    env: (login, extra = {}) =>
      baseEnv({ GHE_HOST: running.host, GHE_PROTOCOL: "http", ...(login ? { GITHUB_TOKEN: tokenOf(login) } : {}), ...extra }),
  };
}

/**
 * A clone of a repository whose main holds `files`: a bare origin and a clone of it, origin/HEAD
 * set by the clone. Returns the clone's directory.
 */
export function cloneWith(files: Record<string, string>, originUrl?: string): string {
  const base = scratchDir("jitsudo-clone-");
  const seed = join(base, "seed");
  const origin = join(base, "origin.git");
  const clone = join(base, "clone");
  const run = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Seed", "-c", "user.email=seed@example.com", "-c", "init.defaultBranch=main", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: base },
    });
  mkdirSync(seed);
  run(base, "init", "--bare", origin);
  run(seed, "init");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(seed, path)), { recursive: true });
    writeFileSync(join(seed, path), content);
  }
  run(seed, "add", "-A");
  run(seed, "commit", "-m", "seed");
  run(seed, "push", origin, "main");
  run(base, "clone", origin, clone);
  if (originUrl) run(clone, "remote", "set-url", "origin", originUrl);
  return clone;
}

/** `git <args>` in `cwd`, for a test to change a clone as a person would. */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: cwd },
  }).trim();
}
