/**
 * DriftReconcileWorker: every RECONCILIATION_INTERVAL, for each tenant (access repository) on each
 * Identity Center instance, compare what AWS really holds with what was approved, and act on the
 * difference:
 *
 * - an active grant of this tenant whose assignment is gone (deleted outside jitsudo): it goes back
 *   to `provisioning` (event `drift_repaired`, said on its PR) and the provisioner creates it again;
 * - an assignment of a permission set this tenant manages that no grant (of any tenant) explains:
 *   recorded once as a finding (event `drift_unexpected`, metric) and, when this tenant's config
 *   says `drift.unexpected: remove`, deleted. Never assignments of other permission sets; never
 *   group assignments unless the config includes groups;
 * - a grant of this tenant held by a live worker but stuck in `provisioning` / `revoking` for twice
 *   the poll timeout: its lease is freed so that a worker resumes it.
 *
 * Tenants are kept apart, because one instance may serve several access repositories whose code
 * owners do not trust each other:
 * - each tenant is swept through its own role (jitsudo's own credentials only for an operator-listed
 *   repository, on the deployment's own instance), in its own mode, with its own cursor; one
 *   tenant's failing sweep (a role it cannot use) fails only its own;
 * - a tenant manages only the permission sets its config lists in `drift.managed_permission_sets`,
 *   never sets inferred from rules or grants; and it claims them on the instance only once its own
 *   role has read each of them there. A set is managed by one tenant per instance: a later claim by
 *   another is refused (logged, and reported by the sweep), so nobody can switch another tenant's
 *   removal off, or remove what another tenant keeps, by listing its sets;
 * - drift's share of the instance's calls is split evenly between the tenants sharing it.
 *
 * One replica sweeps a tenant's instance at a time: the sweep runs under a Postgres lock on
 * (instance, repository) (runIfUnlocked: a lease row, renewed while the sweep runs); a replica that
 * does not get it skips, and one that dies mid-sweep frees it when its lease expires. A sweep looks first at the tenant's live grants (one list per
 * principal or per account and permission set, whichever is fewer), then at the next slice of its
 * pass over every (account, permission set) pair where a managed set is provisioned; a large
 * organisation is covered over several cycles.
 *
 * This file is the cycle over the tenants and its place in the scheduler; the parts are in drift/:
 * the plan of what to look at (drift-plan.ts, pure), one tenant's sweep (drift/tenant-sweep.ts),
 * its call budget (drift/budget.ts), claims on permission sets (drift/claims.ts), repairs and
 * findings (drift/findings.ts), stuck leases (drift/stuck-leases.ts) and the SQL on the drift
 * tables (drift/repository.ts).
 */
import { runIfUnlocked } from "../db/locks.js";
import type { JobContext } from "./context.js";
import { releaseClaims, tenantsToSweep } from "./drift/claims.js";
import { emptyReport, type SweepReport } from "./drift/report.js";
import { sweepTenant } from "./drift/tenant-sweep.js";
import type { ScheduledJob } from "./scheduler.js";

export type { SweepReport } from "./drift/report.js";

/** A signal that never aborts: a cycle run by hand (a test, the demo) is not stopped midway. */
const NEVER = new AbortController().signal;

export class DriftReconcileWorker {
  constructor(
    private readonly ctx: JobContext,
    private readonly intervalMs: number,
  ) {}

  /**
   * One cycle: every tenant on every instance, each swept only if no other replica is sweeping it.
   * `signal` (the scheduler's, aborted on shutdown) ends the cycle between two looks.
   */
  async runOnce(signal: AbortSignal = NEVER): Promise<SweepReport[]> {
    const { ctx } = this;
    const plan = await tenantsToSweep(ctx);
    for (const { repositoryId, problem } of plan.unreachable)
      ctx.log.warn({ repositoryId, problem }, "drift: a tenant's config names no reachable instance");
    await releaseClaims(ctx, plan);
    const reports: SweepReport[] = [];
    for (const scope of plan.scopes) {
      if (signal.aborted) break;
      const key = `${scope.target.instanceArn}|${scope.repositoryId}`;
      const outcome = await runIfUnlocked(ctx.db, "jitsudo:drift", key, () => sweepTenant(ctx, scope, this.intervalMs, signal));
      const report = outcome.ran ? outcome.result : { ...emptyReport(scope), ran: false };
      ctx.metrics.driftSweeps.inc({ outcome: !report.ran ? "skipped" : report.error ? "failed" : "completed" });
      reports.push(report);
    }
    return reports;
  }
}

/**
 * Drift as a scheduled job: a cycle every `intervalMs` from the start of the previous one (any
 * interval: 30 s, 45 s, 7 m). A cycle in which every sweep was skipped (another replica held each
 * tenant) counts as skipped, so the scheduler tries again after a random part of the interval and
 * the replicas take turns.
 */
export function driftJob(drift: DriftReconcileWorker, intervalMs: number): ScheduledJob {
  return {
    name: "drift",
    every: { kind: "interval", everyMs: intervalMs },
    run: async (signal) => {
      const reports = await drift.runOnce(signal);
      return { ran: !(reports.length > 0 && reports.every((report) => !report.ran)) };
    },
  };
}
