/**
 * The long-running roles: `start` (everything in one process), `server`, and the one-shot
 * `migrate`. Configuration is parsed once; a bad value stops the process before anything starts.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import type { Knex } from "knex";
import type { Logger } from "pino";
import { createApp, pullRequestLock } from "../app.js";
import { ConfigError, parseEnv, type AppConfig } from "../config/env.js";
import { createDb } from "../db/knex.js";
import { migrateLatest } from "../db/migrate.js";
import { appClient, startServer } from "../github/server.js";
import { runIfUnlocked } from "../db/locks.js";
import { catchUpMerges } from "../jobs/catch-up.js";
import { Scheduler } from "../jobs/scheduler.js";
import { createLogger } from "../logger.js";

export type ServiceCommand = "start" | "server" | "migrate";

interface Database {
  db: Knex;
  close(): Promise<void>;
}

export async function runService(command: ServiceCommand): Promise<number> {
  // Probot's manifest set-up writes the new app's credentials to .env; existing variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config: AppConfig;
  try {
    config = parseEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`jitsudo: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  const database = await openDatabase(config, log);

  const applied = await migrateLatest(database.db);
  log.info({ applied }, applied.length ? "database migrations applied" : "database schema is up to date");
  if (command === "migrate") {
    await database.close();
    return 0;
  }

  const server = await startServer({ config, log, app: createApp({ db: database.db }) });
  const scheduler = new Scheduler(log);
  const github = appClient(config, log);
  if (github) {
    const db = database.db;
    const options = { db, now: () => new Date(), log, pullRequestLock: pullRequestLock(db) };
    // Every two minutes, one replica at a time: merges whose webhook never arrived.
    scheduler.add({ name: "merge-catch-up", cron: "0 */2 * * * *", run: () => runIfUnlocked(db, "jitsudo:jobs", "merge-catch-up", () => catchUpMerges(github, options)) });
  }
  const shutdown = async (signal: string) => {
    log.info({ signal }, "shutting down");
    await scheduler.stop();
    await server.stop().catch((error: unknown) => log.error({ err: error }, "server did not stop cleanly"));
    await database.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
  return -1;
}

async function openDatabase(config: AppConfig, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    const db = createDb({ url: config.databaseUrl });
    return { db, close: () => db.destroy() };
  }
  let embedded: typeof import("../db/embedded.js");
  try {
    embedded = await import("../db/embedded.js");
  } catch {
    throw new Error("DATABASE_URL is not set and the embedded PostgreSQL is not installed (production image): set DATABASE_URL");
  }
  const dataDir = resolve(".jitsudo/postgres");
  log.warn({ dataDir }, "DATABASE_URL is not set: using an embedded PostgreSQL (for development only)");
  const server = await embedded.startEmbeddedPostgres({ dataDir });
  const db = createDb({ url: server.url });
  return {
    db,
    close: async () => {
      await db.destroy();
      await server.stop();
    },
  };
}
