/**
 * What `/readyz` answers: "can this process do its job". Each role adds the checks that matter to
 * it: every role, that the database answers with every migration this build needs; a worker, that
 * its database session holds and that its AWS credentials work.
 *
 * A probe never causes work elsewhere: the database check is cached for 2 s (the endpoint answers
 * anyone), and the credentials check is a result a scheduled job keeps fresh, never an AWS call per
 * probe.
 */
import type { Knex } from "knex";
import { migrationsPending } from "../db/migrate.js";
import { cachedFor } from "./cached.js";

/** A check: undefined when fine, else why not, in words an operator can act on. */
export type Check = () => Promise<string | undefined> | string | undefined;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: true } | { ok: false; reason: string }>;
}

/** How long the database check reuses its answer. */
export const READINESS_TTL_MS = 2_000;

export class Readiness {
  private readonly checks = new Map<string, Check>();

  add(name: string, check: Check): this {
    this.checks.set(name, check);
    return this;
  }

  async report(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const reason = await Promise.resolve()
          .then(check)
          .catch((error: unknown) => `the check failed: ${error instanceof Error ? error.message : String(error)}`);
        return [name, reason === undefined ? { ok: true as const } : { ok: false as const, reason }] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: this.checks.size > 0 && entries.every(([, result]) => result.ok), checks };
  }
}

/** The database answers and has every migration this build needs. */
export function databaseCheck(db: Knex): Check {
  return cachedFor(READINESS_TTL_MS, async () => {
    try {
      return (await migrationsPending(db)) ? "database migrations are pending; run jitsudo migrate" : undefined;
    } catch {
      return "the database does not answer";
    }
  });
}

/**
 * A check whose answer a scheduled job keeps (see `refresh`): until its first run it is not ready,
 * with `pending` as the reason.
 */
export class KeptCheck {
  private reason: string | undefined;

  constructor(pending: string) {
    this.reason = pending;
  }

  readonly check: Check = () => this.reason;

  /** Runs `probe` and keeps its outcome; rejects when the probe failed, so the scheduler retries sooner. */
  async refresh(probe: () => Promise<void>, describe: (error: unknown) => string): Promise<void> {
    try {
      await probe();
      this.reason = undefined;
    } catch (error) {
      this.reason = describe(error);
      throw error;
    }
  }
}
