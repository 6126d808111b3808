/**
 * One tenant's sweep of one instance. Each tenant is swept through its own role (jitsudo's own
 * credentials only for an operator-listed repository, on the deployment's own instance), in its own
 * mode, with its own cursor; one tenant's failing sweep (a role it cannot use) fails only its own.
 *
 * A sweep looks first at the tenant's live grants (one list per principal or per account and
 * permission set, whichever is fewer), least recently checked first, then at the next slice of its
 * pass over every (account, permission set) pair where a managed set is provisioned; a large
 * organisation is covered over several cycles. Each sweep is recorded in `drift_sweeps`.
 */
import type { Knex } from "knex";
import { describeAwsError, rawAwsError } from "../../aws/errors.js";
import { grantsThatMayHoldAssignments } from "../../grants/grant-repository.js";
import type { JobContext } from "../context.js";
import { liveGrantScopes, nextSlice, scopeKey, type DriftGrant, type Scope, type TenantScope } from "../drift-plan.js";
import { ownCredentialsRefusal } from "../provision.js";
import { liveBudget, liveOverBudget, sweepBudget } from "./budget.js";
import { claimManagedSets } from "./claims.js";
import { actOnLook, type SweepSide } from "./findings.js";
import { emptyReport, type SweepReport } from "./report.js";
import { closeSweep, loadCursor, openSweep, saveCursor, type Cursor } from "./repository.js";
import { resumeStuck } from "./stuck-leases.js";

/** The sweep cannot run for a reason that is not AWS's: said in the report and the sweep record. */
class SweepRefused extends Error {
  override name = "SweepRefused";
}

/** A sweep under way: the tenant's side, every tenant's grants on the instance, its cursor and its counts. */
interface Sweep extends SweepSide {
  ctx: JobContext;
  grants: DriftGrant[];
  cursor: Cursor;
  report: SweepReport;
  /** Aborted when the worker stops: the sweep ends between two looks, and the pass resumes there next time. */
  signal: AbortSignal;
}

/** Sweeps one tenant on one instance, within its share of the interval's calls; never throws. */
export async function sweepTenant(ctx: JobContext, scope: TenantScope, intervalMs: number, signal: AbortSignal): Promise<SweepReport> {
  const tenant = { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId };
  const report: SweepReport = emptyReport(scope);
  const sweepId = await openSweep(ctx.db, tenant, ctx.workerId, ctx.now());
  try {
    await lookAround(ctx, scope, sweepBudget(intervalMs, scope.sharers), report, signal);
  } catch (error) {
    report.error = error instanceof SweepRefused ? error.message : describeAwsError(error);
    ctx.log.error(
      {
        ...tenant,
        repo: scope.repo,
        err: rawAwsError(error),
        reason: report.error,
      },
      "drift sweep of a tenant failed; it is tried again next cycle",
    );
  }
  await closeSweep(ctx.db, sweepId, ctx.now(), report);
  return { ...report, ran: true };
}

/** The sweep itself: the tenant's role, its managed sets, its live grants, then the next slice of its pass. */
async function lookAround(ctx: JobContext, scope: TenantScope, budget: number, report: SweepReport, signal: AbortSignal): Promise<void> {
  const refused = await ownCredentialsRefusal(ctx, { repository_id: scope.repositoryId, repo: scope.repo }, scope.target);
  if (refused) throw new SweepRefused(`the tenant config ${refused}`);
  const ic = await ctx.aws.connect(scope.target, `drift-${ctx.workerId.slice(-12)}`, "drift");
  const managed = await claimManagedSets(ctx, scope, ic, report);
  const grants = await driftGrants(ctx.db, scope.target.instanceArn, ctx.now(), ctx.settings.pollTimeoutMs * 2);
  const cursor = await loadCursor(ctx.db, { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId });
  const sweep: Sweep = { ctx, scope, ic, managed, grants, cursor, report, signal };

  await lookAtLiveGrants(sweep, budget);
  await lookAtNextSlice(sweep, budget);
  report.resumed = await resumeStuck(ctx, scope);
  await saveCursor(ctx.db, { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId }, cursor);
}

/** Lists one scope's assignments, and acts on what it finds. */
async function look(sweep: Sweep, target: Scope): Promise<void> {
  const { ic, report, cursor } = sweep;
  const lookedAt = sweep.ctx.now();
  const observed =
    target.kind === "principal"
      ? await ic.assignmentsOfPrincipal(target.principalId)
      : await ic.assignments(target.accountId, target.permissionSetArn);
  report.calls += 1;
  report.scopesChecked += 1;
  cursor.checked[scopeKey(target)] = lookedAt.getTime();
  await actOnLook(sweep.ctx, sweep, { target, observed, lookedAt }, sweep.grants, report);
}

/** 1. This tenant's live grants, least recently checked first. */
async function lookAtLiveGrants(sweep: Sweep, budget: number): Promise<void> {
  const { ctx, scope } = sweep;
  const own = sweep.grants.filter((grant) => grant.repositoryId === scope.repositoryId);
  const live = liveGrantScopes(own, new Map(Object.entries(sweep.cursor.checked)));
  for (const target of live.slice(0, liveBudget(budget))) {
    if (sweep.signal.aborted) break;
    await look(sweep, target);
  }
  if (liveOverBudget(live.length, budget))
    ctx.log.warn(
      { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId, liveScopes: live.length, budget },
      "drift cannot look at every live grant this cycle; the rest come next cycle",
    );
}

/** 2. The next slice of the full pass over the (account, permission set) pairs this tenant manages. */
async function lookAtNextSlice(sweep: Sweep, budget: number): Promise<void> {
  const { ctx, cursor, managed, report } = sweep;
  if (cursor.pairs.length === 0 || cursor.position === 0 || !cursor.pairs.every(([, arn]) => managed.has(arn))) {
    cursor.pairs = await pairsOf(sweep);
    cursor.position = 0;
    cursor.rotationStartedAt = ctx.now();
    cursor.rotationCalls = 0;
  }
  const slice = nextSlice(cursor.pairs, cursor.position, budget - report.calls);
  let looked = 0;
  for (const [accountId, permissionSetArn] of slice.slice) {
    if (sweep.signal.aborted) break; // shutting down: the pass resumes where this sweep stopped
    await look(sweep, { kind: "pair", accountId, permissionSetArn });
    looked += 1;
  }
  cursor.position = looked === slice.slice.length ? slice.next : cursor.position + looked;
  cursor.rotationCalls += report.calls;
  report.completedRotation = slice.wrapped && looked === slice.slice.length;
}

/** Every (account, permission set) pair where a managed set is provisioned, in a stable order. */
async function pairsOf({ ic, managed, report }: Sweep): Promise<[string, string][]> {
  const pairs: [string, string][] = [];
  for (const permissionSetArn of [...managed].sort()) {
    const accounts = await ic.accountsWithPermissionSet(permissionSetArn);
    report.calls += 1;
    for (const accountId of accounts.sort()) pairs.push([accountId, permissionSetArn]);
  }
  return pairs;
}

/** Grants of an instance (every tenant's) that need, may have, or only just lost their assignment. */
async function driftGrants(db: Knex, instanceArn: string, now: Date, settleMs: number): Promise<DriftGrant[]> {
  const rows = await grantsThatMayHoldAssignments(db, instanceArn, new Date(now.getTime() - settleMs));
  return rows.map((row) => ({
    id: row.id,
    repositoryId: row.repository_id === null ? null : String(row.repository_id),
    status: row.status,
    accountId: row.account_id!,
    permissionSetArn: row.permission_set_arn!,
    principalId: row.principal_id!,
    activeAt: row.active_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    held: row.lease_owner !== null,
    createSent: row.create_requested_at !== null,
    failed: row.failure_reason !== null,
  }));
}
