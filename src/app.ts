/**
 * The Probot application: wiring only. Every handler lives in src/github and calls into the
 * domain; this file decides which parts are switched on.
 */
import type { Knex } from "knex";
import type { ApplicationFunction } from "probot";
import { postgresLock, processLock } from "./db/locks.js";
import { registerPullRequestHandlers } from "./github/handlers.js";

export interface AppOptions {
  /** Injectable clock, so tests and the demo control time. */
  now?: () => Date;
  /** The database: with it, work on one pull request is serialised across all replicas. */
  db?: Knex;
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  const now = options.now ?? (() => new Date());
  const pullRequestLock = options.db ? postgresLock(options.db, "jitsudo:pull-request") : processLock();
  return (app) => {
    registerPullRequestHandlers(app, { now, pullRequestLock, ...(options.db ? { db: options.db } : {}) });
  };
}
