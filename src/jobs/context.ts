/**
 * What the provisioning, revoke and drift jobs share: the database, this worker's identity, the
 * way to reach each tenant's Identity Center, the name directory, the clock and the reporters.
 */
import type { Knex } from "knex";
import type { AwsDefaults, AwsTarget } from "../aws/connections.js";
import type { Directory } from "../aws/directory.js";
import type { IdentityCenter } from "../aws/identity-center.js";
import type { CallPriority } from "../aws/rate-limiter.js";
import type { GrantReporter } from "../grants/reporter.js";
import type { Log } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";

export interface IdentityCenterConnector {
  connect(target: AwsTarget, purpose: string, priority: CallPriority): Promise<IdentityCenter>;
}

export interface WorkerSettings {
  /** How long an AWS operation may stay IN_PROGRESS before jitsudo stops waiting on it. */
  pollTimeoutMs: number;
  maxCreatesInFlight: number;
  /**
   * Grants one worker carries at once, per job. Most of them are only waiting (for a create slot,
   * for AWS to finish), which costs a promise each; the cap bounds memory, not work.
   */
  concurrency: number;
  /** First guess of how long an operation takes, until some have been seen. */
  initialPollMs: number;
  /** First retry delay after a failed step; it doubles with each attempt. */
  retryBaseMs: number;
  /**
   * How far AWS's assignment lists may lag behind completed operations. Drift re-creates an
   * assignment only for a grant active at least this long before the list was taken, and removes
   * an unexpected one only when an earlier sweep, at least this long before, saw it too: never on
   * one stale look. 0: lists are taken as exact (tests against a simulator without lag).
   */
  listSettleMs: number;
}

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = {
  pollTimeoutMs: 5 * 60_000,
  maxCreatesInFlight: 10,
  concurrency: 2000,
  initialPollMs: 1000,
  retryBaseMs: 1000,
  listSettleMs: 15_000,
};

export interface JobContext {
  db: Knex;
  workerId: string;
  /** The worker's clock (src/jobs/clock.ts): the same one its scheduler decides when jobs are due by. */
  now: () => Date;
  log: Log;
  aws: IdentityCenterConnector;
  directory: Directory;
  defaults: AwsDefaults;
  /** JITSUDO_ACCESS_REPOSITORIES: the only repositories jitsudo's own AWS credentials create assignments for. */
  accessRepositories?: readonly string[];
  reporter: GrantReporter;
  metrics: Metrics;
  settings: WorkerSettings;
  /** Asks for another cycle soon: a grant was let go for a retry, or room came free. */
  wake(): void;
}
