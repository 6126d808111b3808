/**
 * The long-running roles and the one-shot `migrate`:
 *
 * - `server`: the GitHub App webhook server and the merge catch-up scan;
 * - `worker`: provisioning, expiry and (with drift) reconciliation; needs IC_INSTANCE_ARN;
 * - `start`: both in one process; without IC_INSTANCE_ARN the worker stays off (API-only).
 *
 * Every long-running role serves /healthz, /readyz and /metrics on PORT (the server beside its
 * webhook path and API; a worker on a server of its own), so each can be probed and scraped.
 *
 * Configuration is parsed once; a bad value stops the process before anything starts. SIGTERM
 * stops claiming work, lets steps in flight finish or hands them over, then closes the pool.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import type { Knex } from "knex";
import type { Logger } from "pino";
import { createApp } from "../app.js";
import { AwsConnections } from "../aws/connections.js";
import { SharedRateLimiter } from "../aws/rate-limiter.js";
import { ConfigError, githubWebUrl, parseEnv, workerProblems, type AppConfig } from "../config/env.js";
import { createDb, ensureSchema } from "../db/knex.js";
import { runIfUnlocked } from "../db/locks.js";
import { migrateLatest } from "../db/migrate.js";
import { PullRequestReporter } from "../github/grant-comments.js";
import { GitHubReminderPoster } from "../github/reminder-comments.js";
import { GitHubReviewReminderPoster } from "../github/break-glass-review.js";
import { installationGateways } from "../github/installation-gateway.js";
import { appClient, startServer } from "../github/server.js";
import { NO_REPORTS } from "../grants/reporter.js";
import { catchUpMerges } from "../jobs/catch-up.js";
import { redeliverFailedWebhooks } from "../jobs/redeliver.js";
import { resendOwedVerdictComments } from "../github/verdict-comments.js";
import { systemClock } from "../jobs/clock.js";
import { Scheduler } from "../jobs/scheduler.js";
import { GrantWorker } from "../jobs/worker.js";
import { startHttpServer } from "../http/server.js";
import { describeAwsError } from "../aws/errors.js";
import { registerDatabaseGauges } from "../observability/database-gauges.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { opsHandler } from "../observability/ops-endpoints.js";
import { databaseCheck, KeptCheck, Readiness } from "../observability/readiness.js";
import { NotificationDispatcher } from "../notifications/dispatcher.js";
import { notificationSenders } from "../notifications/senders.js";

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
  const log = createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}) });
  const database = await openDatabase(config, log);

  const applied = await migrateLatest(database.db);
  log.info({ applied }, applied.length ? "database migrations applied" : "database schema is up to date");
  if (command === "migrate") {
    await database.close();
    return 0;
  }

  const running: Stoppable[] = [];
  const metrics = Metrics.forProcess();
  registerDatabaseGauges(metrics, database.db);
  const readiness = new Readiness().add("database", databaseCheck(database.db));
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

  const worker = command === "worker" || (command === "start" && workerProblems(config).length === 0);
  // The worker's checks are there before anything listens: a probe never sees "ready" before it started.
  const workerChecks = worker ? workerReadiness(readiness) : undefined;
  if (command === "start" || command === "server") running.push(...(await startServerRole(config, log, database.db, metrics, readiness)));
  if (command === "worker") {
    const ops = await startHttpServer(
      [opsHandler({ metrics, readiness, log })],
      { port: config.port, ...(config.host ? { host: config.host } : {}) },
      log,
    );
    log.info({ port: ops.port }, "listening (/healthz, /readyz, /metrics)");
    running.push({ name: "operator endpoints", stop: () => ops.stop() });
  }
  if (workerChecks) {
    running.push(await startWorkerRole(config, log, database.db, metrics, workerChecks, () => void shutdown("database session lost", 1)));
  } else if (command === "start") {
    log.info(
      { missing: workerProblems(config) },
      "IC_INSTANCE_ARN or AWS_REGION is not set: running API-only, without the provisioning worker",
    );
  }
  return -1;
}

async function startServerRole(config: AppConfig, log: Logger, db: Knex, metrics: Metrics, readiness: Readiness): Promise<Stoppable[]> {
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
    api: { db, webBaseUrl: githubWebUrl(config), ...(config.apiToken ? { token: config.apiToken } : {}) },
    ops: { metrics, readiness },
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

interface WorkerChecks {
  /** Why the worker is not claiming work (starting, stopped), or undefined. */
  state: { readonly unavailable: string | undefined };
  credentials: KeptCheck;
}

function workerReadiness(readiness: Readiness): WorkerChecks {
  const checks: WorkerChecks = {
    state: { unavailable: "the grant worker is starting" },
    credentials: new KeptCheck("jitsudo's AWS credentials have not been checked yet"),
  };
  readiness.add("worker", () => checks.state.unavailable);
  readiness.add("aws-credentials", checks.credentials.check);
  return checks;
}

async function startWorkerRole(
  config: AppConfig,
  log: Logger,
  db: Knex,
  metrics: Metrics,
  checks: WorkerChecks,
  onLost: () => void,
): Promise<Stoppable> {
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
    // Expiry reminders are posted on the grant's PR; without GitHub, their grant event is all there is.
    ...(github ? { reminders: new GitHubReminderPoster({ gatewayFor: installationGateways(github) }) } : {}),
    ...(github ? { reviewReminders: new GitHubReviewReminderPoster({ gatewayFor: installationGateways(github) }) } : {}),
    metrics,
    onLost,
    reconciliationIntervalMs: config.reconciliationIntervalMs,
  });
  checks.state = worker;
  // Notifications go out from the outbox in a job of their own: a slow or dead receiver never
  // holds up a provisioning or revoking step (nor a database connection while it answers).
  worker.schedule(
    new NotificationDispatcher({
      db,
      log,
      metrics,
      senders: notificationSenders(config.notifications, log),
      webBaseUrl: githubWebUrl(config),
    }).job(),
  );
  // jitsudo's own credentials: checked at start and every five minutes (a rotated key that stopped
  // working shows in /readyz), every 30 s while they fail. Never per probe.
  const region = config.aws.region!;
  worker.schedule({
    name: "aws-credentials-check",
    every: { kind: "interval", everyMs: 5 * MINUTE },
    retryAfterMs: 30 * SECOND,
    run: (signal) =>
      checks.credentials.refresh(
        async () => {
          const identity = await connections.ownIdentity(region, signal);
          log.info({ identity }, "AWS credentials work");
        },
        (error) => `jitsudo's AWS credentials do not work: ${describeAwsError(error)}`,
      ),
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
