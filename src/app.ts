/**
 * The Probot application: wiring only. Every handler lives in src/github and calls into the
 * domain; this file decides which parts are switched on.
 */
import type { Knex } from "knex";
import type { ApplicationFunction } from "probot";
import { postgresLock, processLock, type KeyedLock } from "./db/locks.js";
import { AccessRepositories } from "./config/access-repositories.js";
import { registerPullRequestHandlers } from "./github/handlers.js";
import type { Metrics } from "./metrics.js";

export interface AppOptions {
  /** Injectable clock, so tests and the demo control time. */
  now?: () => Date;
  /** The database: with it, work on one pull request is serialised across all replicas. */
  db?: Knex;
  /** Where webhook outcomes are counted (/metrics). */
  metrics?: Metrics;
  /** JITSUDO_ACCESS_REPOSITORIES: when set, only these repositories grant. */
  accessRepositories?: readonly string[];
  /** IC_INSTANCE_ARN, when set: role-less configs naming another instance are refused at the merge. */
  instanceArn?: string;
}

/** Serialises work on one pull request across replicas: webhooks, commands and the catch-up scan. */
export function pullRequestLock(db: Knex | undefined): KeyedLock {
  return db ? postgresLock(db, "jitsudo:pull-request") : processLock();
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  const now = options.now ?? (() => new Date());
  const lock = pullRequestLock(options.db);
  return (app) => {
    const { metrics } = options;
    if (metrics) {
      app.onAny(async (context) => metrics.webhooks.inc({ event: context.name, outcome: "received" }));
      app.onError(async (error) => {
        for (const event of error.errors ?? []) metrics.webhooks.inc({ event: String((event as { event?: { name?: string } }).event?.name ?? "unknown"), outcome: "failed" });
      });
    }
    registerPullRequestHandlers(app, {
      now,
      pullRequestLock: lock,
      access: new AccessRepositories(options.accessRepositories, options.db, options.instanceArn),
      ...(options.db ? { db: options.db } : {}),
    });
  };
}
