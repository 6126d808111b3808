/**
 * The long-running roles and the one-shot `migrate`:
 *
 * - `server`: the GitHub App webhook server and the merge catch-up scan;
 * - `worker`: provisioning, expiry and (with drift) reconciliation; needs IC_INSTANCE_ARN;
 * - `start`: both in one process; without IC_INSTANCE_ARN the worker stays off (API-only).
 *
 * Configuration is parsed once; a bad value stops the process before anything starts. SIGTERM
 * stops claiming work, lets steps in flight finish or hands them over, then closes the pool.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import type { Knex } from "knex";
import type { Logger } from "pino";
import { registerDatabaseGauges } from "../api/http-api.js";
import { createApp } from "../app.js";
import { AwsConnections } from "../aws/connections.js";
import { SharedRateLimiter } from "../aws/rate-limiter.js";
import { ConfigError, parseEnv, workerProblems, type AppConfig } from "../config/env.js";
import { createDb, ensureSchema } from "../db/knex.js";
import { runIfUnlocked } from "../db/locks.js";
import { migrateLatest } from "../db/migrate.js";
import { PullRequestReporter } from "../github/grant-comments.js";
import { installationGateways } from "../github/installation-gateway.js";
import { appClient, startServer } from "../github/server.js";
import { NO_REPORTS } from "../grants/reporter.js";
import { catchUpMerges } from "../jobs/catch-up.js";
import { redeliverFailedWebhooks } from "../jobs/redeliver.js";
import { resendOwedVerdictComments } from "../github/verdict-comments.js";
import { systemClock } from "../jobs/clock.js";
import { Scheduler } from "../jobs/scheduler.js";
import { GrantWorker } from "../jobs/worker.js";
import { createLogger } from "../logger.js";
import { Metrics } from "../metrics.js";

export type ServiceCommand = "start" | "server" | "worker" | "migrate";

interface Database {
  db: Knex;
  close(): Promise<void>;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/** Something running that must be stopped, in reverse order of starting, on shutdown. */
type Stoppable = { name: string; stop(): Promise<unknown> };

export async function runService(command: ServiceCommand): Promise<number> {
  // Probot's manifest set-up writes the new app's credentials to .env; existing variables win.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config: AppConfig;
  try {
    config = parseEnv(process.env);
    const missing = command === "worker" ? workerProblems(config) : [];
    if (missing.length > 0) throw new ConfigError(missing);
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

  const running: Stoppable[] = [];
  const metrics = new Metrics();
  const shutdown = async (signal: string, code = 0) => {
    log.info({ signal }, "shutting down");
    for (const part of running.reverse()) {
      await part.stop().catch((error: unknown) => log.error({ err: error, part: part.name }, "did not stop cleanly"));
    }
    await database.close();
    process.exit(code);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  if (command === "start" || command === "server") running.push(...(await startServerRole(config, log, database.db, metrics)));
  const worker = command === "worker" || (command === "start" && workerProblems(config).length === 0);
  if (worker) {
    running.push(await startWorkerRole(config, log, database.db, metrics, () => void shutdown("database session lost", 1)));
  } else if (command === "start") {
    log.info(
      { missing: workerProblems(config) },
      "IC_INSTANCE_ARN or AWS_REGION is not set: running API-only, without the provisioning worker",
    );
  }
  return -1;
}

async function startServerRole(config: AppConfig, log: Logger, db: Knex, metrics: Metrics): Promise<Stoppable[]> {
  registerDatabaseGauges(metrics, db);
  if (!config.apiToken) log.info("JITSUDO_API_TOKEN is not set: the grants API (/api/grants) is off");
  const access = {
    ...(config.accessRepositories ? { accessRepositories: config.accessRepositories } : {}),
    ...(config.aws.instanceArn ? { instanceArn: config.aws.instanceArn } : {}),
  };
  const jitsudo = createApp({ db, metrics, ...access });
  const server = await startServer({
    config,
    log,
    app: jitsudo.app,
    webhookDoor: jitsudo.webhookDoor,
    api: { db, metrics, ...(config.apiToken ? { token: config.apiToken } : {}) },
  });
  const clock = systemClock;
  const scheduler = new Scheduler({ log, clock });
  const github = appClient(config, log);
  if (github) {
    const options = {
      db,
      now: () => clock.now(),
      log,
      ...(config.accessRepositories ? { accessRepositories: config.accessRepositories } : {}),
    };
    // Every replica ticks at the same instants (aligned), so that under the shared lock one runs and the
    // others skip; the offsets keep the three jobs from starting in the same second.
    // Every five minutes (at :30 s), one replica at a time: deliveries that failed, redelivered by GitHub on request.
    scheduler.add({
      name: "webhook-redelivery",
      every: { kind: "aligned", everyMs: 5 * MINUTE, offsetMs: 30 * SECOND },
      run: () => runIfUnlocked(db, "jitsudo:jobs", "webhook-redelivery", () => redeliverFailedWebhooks(github, options)),
    });
    // Every two minutes (at :00 s), one replica at a time: merges whose webhook never arrived go into the inbox.
    scheduler.add({
      name: "merge-catch-up",
      every: { kind: "aligned", everyMs: 2 * MINUTE },
      run: () => runIfUnlocked(db, "jitsudo:jobs", "merge-catch-up", () => catchUpMerges(github, options)),
    });
    // Every two minutes (at :45 s), one replica at a time: verdict comments a merge still owes its PR.
    scheduler.add({
      name: "verdict-comments",
      every: { kind: "aligned", everyMs: 2 * MINUTE, offsetMs: 45 * SECOND },
      run: () => runIfUnlocked(db, "jitsudo:jobs", "verdict-comments", () => resendOwedVerdictComments(github, options)),
    });
  }
  return [
    // The server first: no new deliveries; then the inbox finishes the ones in hand.
    { name: "server", stop: () => server.stop() },
    { name: "webhook inbox", stop: () => jitsudo.stop() },
    { name: "scheduler", stop: () => scheduler.stop() },
  ];
}

async function startWorkerRole(config: AppConfig, log: Logger, db: Knex, metrics: Metrics, onLost: () => void): Promise<Stoppable> {
  const connections = new AwsConnections({ limiter: new SharedRateLimiter(db), metrics });
  const github = appClient(config, log);
  if (!github) log.warn("APP_ID is not set: grants are provisioned and revoked, but their pull requests are not updated");
  const reporter = github ? new PullRequestReporter({ db, gatewayFor: installationGateways(github), log }) : NO_REPORTS;
  const worker = await GrantWorker.start({
    db,
    log,
    aws: connections,
    defaults: config.aws,
    ...(config.accessRepositories ? { accessRepositories: config.accessRepositories } : {}),
    reporter,
    metrics,
    onLost,
    reconciliationIntervalMs: config.reconciliationIntervalMs,
  });
  return {
    name: "worker",
    stop: async () => {
      await worker.stop();
      connections.close();
    },
  };
}

async function openDatabase(config: AppConfig, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    const db = createDb({
      url: config.databaseUrl,
      pool: { min: 0, max: config.databasePoolMax },
      ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    });
    if (config.databaseSchema) await ensureSchema(db, config.databaseSchema);
    return { db, close: () => db.destroy() };
  }
  let embedded: typeof import("../db/embedded.js");
  try {
    embedded = await import("../db/embedded.js");
  } catch {
    throw new Error("DATABASE_URL is not set and the embedded PostgreSQL is not installed (production image): set DATABASE_URL");
  }
  const server = await embedded.startEmbeddedPostgres({ dataDir: resolve(".jitsudo/postgres") });
  log.warn(
    { dataDir: server.dataDir, ...(server.relocatedFrom ? { relocatedFrom: server.relocatedFrom } : {}) },
    server.relocatedFrom
      ? "DATABASE_URL is not set: using an embedded PostgreSQL (for development only), kept where the postgres user can reach it"
      : "DATABASE_URL is not set: using an embedded PostgreSQL (for development only)",
  );
  const db = createDb({ url: server.url });
  return {
    db,
    close: async () => {
      await db.destroy();
      await server.stop();
    },
  };
}
