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
 * One replica sweeps a tenant's instance at a time: the sweep runs under a Postgres advisory lock
 * on (instance, repository); a replica that does not get it skips, and one that dies mid-sweep
 * releases it with its connection. A sweep looks first at the tenant's live grants (one list per
 * principal or per account and permission set, whichever is fewer), then at the next slice of its
 * pass over every (account, permission set) pair where a managed set is provisioned; a large
 * organisation is covered over several cycles.
 */
import type { Knex } from "knex";
import { describeAwsError, rawAwsError } from "../aws/errors.js";
import type { Assignment, IdentityCenter } from "../aws/identity-center.js";
import { IDENTITY_CENTER_TPS } from "../aws/rate-limiter.js";
import { tenantSnapshots } from "../config/tenant-snapshots.js";
import { runIfUnlocked } from "../db/locks.js";
import {
  grantClaimingAssignment,
  grantsThatMayHoldAssignments,
  liveGrantTargets,
  noteEvent,
  noteTenantEvent,
  repairDriftedGrant,
  wakeWorkers,
} from "../grants/grant-repository.js";
import { JITSUDO, repairDrift } from "../grants/lifecycle.js";
import { freeLease, grantsHeldSince } from "../grants/work-queue.js";
import type { JobContext } from "./context.js";
import { reportMove } from "./steps.js";
import {
  claimsToRelease,
  compare,
  liveGrantScopes,
  nextSlice,
  planTenantSweeps,
  scopeKey,
  type DriftGrant,
  type Scope,
  type SweepPlan,
  type TenantScope,
} from "./drift-plan.js";
import { ownCredentialsRefusal } from "./provision.js";
import type { ScheduledJob } from "./scheduler.js";

/** Drift's share of an instance's calls: half of AWS's limit, less one for safety. */
const DRIFT_CALLS_PER_SECOND = IDENTITY_CENTER_TPS / 2 - 1;
/** Of a cycle's budget, at most this much goes to the live grants, so the full pass always moves. */
const LIVE_SHARE = 0.7;

export interface SweepReport {
  instanceArn: string;
  repositoryId: string;
  ran: boolean;
  scopesChecked: number;
  calls: number;
  missing: number;
  unexpected: number;
  removed: number;
  resumed: number;
  completedRotation: boolean;
  /** Permission sets this tenant lists that another tenant already manages on the instance. */
  refusedClaims: { declaredAs: string; owner: string }[];
  /** Listed permission sets the instance does not have (as seen through the tenant's role). */
  unknownSets: string[];
  error?: string;
}

/** The sweep cannot run for a reason that is not AWS's: said in the report and the sweep record. */
class SweepRefused extends Error {}

interface Claim {
  instance_arn: string;
  permission_set_arn: string;
  repository_id: string;
  declared_as: string;
}

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
    const { scopes } = plan;
    for (const { repositoryId, problem } of plan.unreachable)
      ctx.log.warn({ repositoryId, problem }, "drift: a tenant's config names no reachable instance");
    await releaseClaims(ctx, plan);
    const reports: SweepReport[] = [];
    for (const scope of scopes) {
      if (signal.aborted) break;
      const key = `${scope.target.instanceArn}|${scope.repositoryId}`;
      const outcome = await runIfUnlocked(ctx.db, "jitsudo:drift", key, () => this.sweep(scope, signal));
      const report = outcome.ran ? outcome.result : { ...emptyReport(scope), ran: false };
      ctx.metrics.driftSweeps.inc({ outcome: !report.ran ? "skipped" : report.error ? "failed" : "completed" });
      reports.push(report);
    }
    return reports;
  }

  private async sweep(scope: TenantScope, signal: AbortSignal): Promise<SweepReport> {
    const { ctx } = this;
    const instanceArn = scope.target.instanceArn;
    const report: SweepReport = emptyReport(scope);
    const [sweep] = await ctx
      .db("drift_sweeps")
      .insert({ instance_arn: instanceArn, repository_id: scope.repositoryId, worker: ctx.workerId, started_at: ctx.now() })
      .returning("id");
    const budget = Math.max(1, Math.floor(((this.intervalMs / 1000) * DRIFT_CALLS_PER_SECOND * 0.9) / scope.sharers));
    try {
      const refused = await ownCredentialsRefusal(ctx, { repository_id: scope.repositoryId, repo: scope.repo }, scope.target);
      if (refused) throw new SweepRefused(`the tenant config ${refused}`);
      const ic = await ctx.aws.connect(scope.target, `drift-${ctx.workerId.slice(-12)}`, "drift");
      const managed = await this.claim(scope, ic, report);
      const grants = await driftGrants(ctx.db, instanceArn, ctx.now(), ctx.settings.pollTimeoutMs * 2);
      const own = grants.filter((grant) => grant.repositoryId === scope.repositoryId);
      const cursor = await loadCursor(ctx.db, scope);

      const look = async (target: Scope) => {
        const lookedAt = ctx.now();
        const observed =
          target.kind === "principal"
            ? await ic.assignmentsOfPrincipal(target.principalId)
            : await ic.assignments(target.accountId, target.permissionSetArn);
        report.calls += 1;
        report.scopesChecked += 1;
        cursor.checked[scopeKey(target)] = lookedAt.getTime();
        await this.act(scope, managed, ic, target, observed, grants, lookedAt, report);
      };

      // 1. This tenant's live grants, least recently checked first.
      const live = liveGrantScopes(own, new Map(Object.entries(cursor.checked)));
      for (const target of live.slice(0, Math.ceil(budget * LIVE_SHARE))) {
        if (signal.aborted) break;
        await look(target);
      }
      if (live.length > budget * LIVE_SHARE)
        ctx.log.warn(
          { instanceArn, repositoryId: scope.repositoryId, liveScopes: live.length, budget },
          "drift cannot look at every live grant this cycle; the rest come next cycle",
        );

      // 2. The next slice of the full pass over the (account, permission set) pairs this tenant manages.
      if (cursor.pairs.length === 0 || cursor.position === 0 || !cursor.pairs.every(([, arn]) => managed.has(arn))) {
        cursor.pairs = await this.pairsOf(ic, managed, report);
        cursor.position = 0;
        cursor.rotationStartedAt = ctx.now();
        cursor.rotationCalls = 0;
      }
      const slice = nextSlice(cursor.pairs, cursor.position, budget - report.calls);
      let looked = 0;
      for (const [accountId, permissionSetArn] of slice.slice) {
        if (signal.aborted) break; // shutting down: the pass resumes where this sweep stopped
        await look({ kind: "pair", accountId, permissionSetArn });
        looked += 1;
      }
      cursor.position = looked === slice.slice.length ? slice.next : cursor.position + looked;
      cursor.rotationCalls += report.calls;
      report.completedRotation = slice.wrapped && looked === slice.slice.length;

      report.resumed = await this.resumeStuck(scope);
      await saveCursor(ctx.db, scope, cursor);
    } catch (error) {
      report.error = error instanceof SweepRefused ? error.message : describeAwsError(error);
      ctx.log.error(
        {
          instanceArn,
          repositoryId: scope.repositoryId,
          repo: scope.repo,
          err: error instanceof SweepRefused ? error.message : rawAwsError(error),
        },
        "drift sweep of a tenant failed; it is tried again next cycle",
      );
    }
    await ctx
      .db("drift_sweeps")
      .where({ id: (sweep as { id: string }).id })
      .update({
        finished_at: ctx.now(),
        calls: report.calls,
        scopes_checked: report.scopesChecked,
        missing: report.missing,
        unexpected: report.unexpected,
        removed: report.removed,
        completed_rotation: report.completedRotation,
        error: report.error ?? null,
      });
    return { ...report, ran: true };
  }

  /**
   * The permission sets this tenant manages on the instance: each one it lists that its own role
   * can read there, and that no other tenant claimed first. Reading each through the tenant's own
   * session (not from a cache another tenant's role filled) is the proof that the config may
   * count for this instance at all.
   */
  private async claim(scope: TenantScope, ic: IdentityCenter, report: SweepReport): Promise<Set<string>> {
    const { ctx } = this;
    if (scope.declared.length === 0) {
      await releaseOwnClaims(ctx, scope, ic.instanceArn, new Set());
      return new Set();
    }
    const names = new Map((await ctx.directory.permissionSets(ic)).map((set) => [set.name, set.arn]));
    const proven: { arn: string; declaredAs: string }[] = [];
    for (const declaredAs of scope.declared) {
      const arn = declaredAs.startsWith("arn:") ? declaredAs : names.get(declaredAs);
      const seen = arn ? await ic.describePermissionSet(arn) : undefined;
      if (arn) report.calls += 1;
      if (seen) proven.push({ arn: seen.arn, declaredAs });
      else report.unknownSets.push(declaredAs);
    }
    if (report.unknownSets.length > 0)
      ctx.log.warn(
        { instanceArn: ic.instanceArn, repositoryId: scope.repositoryId, sets: report.unknownSets },
        "drift: managed permission sets the instance does not have",
      );

    // Sets this tenant no longer lists (by ARN: a respelling is the same set) are given up first.
    await releaseOwnClaims(ctx, scope, ic.instanceArn, new Set(proven.map((set) => set.arn)));
    const now = ctx.now();
    const owned = await ctx.db.transaction(async (trx) => {
      await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:drift-claims'), hashtext(?))", [ic.instanceArn]);
      const mine = new Set<string>();
      for (const { arn, declaredAs } of proven) {
        await trx("drift_claims")
          .insert({
            instance_arn: ic.instanceArn,
            permission_set_arn: arn,
            repository_id: scope.repositoryId,
            tenant: scope.tenant,
            declared_as: declaredAs,
            claimed_at: now,
            confirmed_at: now,
          })
          .onConflict(["instance_arn", "permission_set_arn"])
          .ignore();
        const holder = (await trx("drift_claims").where({ instance_arn: ic.instanceArn, permission_set_arn: arn }).first()) as Claim;
        if (String(holder.repository_id) === scope.repositoryId) {
          await trx("drift_claims")
            .where({ instance_arn: ic.instanceArn, permission_set_arn: arn })
            .update({ confirmed_at: now, declared_as: declaredAs });
          mine.add(arn);
        } else {
          report.refusedClaims.push({ declaredAs, owner: String(holder.repository_id) });
        }
      }
      return mine;
    });
    if (report.refusedClaims.length > 0) {
      ctx.log.warn(
        { instanceArn: ic.instanceArn, repositoryId: scope.repositoryId, repo: scope.repo, refused: report.refusedClaims },
        "drift: permission sets this tenant lists as managed are managed by another tenant on this instance; they are left to that tenant (the owner, or the platform team, must give them up first)",
      );
    }
    return owned;
  }

  /** Every (account, permission set) pair where a managed set is provisioned, in a stable order. */
  private async pairsOf(ic: IdentityCenter, managed: ReadonlySet<string>, report: SweepReport): Promise<[string, string][]> {
    const pairs: [string, string][] = [];
    for (const permissionSetArn of [...managed].sort()) {
      const accounts = await ic.accountsWithPermissionSet(permissionSetArn);
      report.calls += 1;
      for (const accountId of accounts.sort()) pairs.push([accountId, permissionSetArn]);
    }
    return pairs;
  }

  private async act(
    scope: TenantScope,
    managed: ReadonlySet<string>,
    ic: IdentityCenter,
    target: Scope,
    observed: Assignment[],
    grants: DriftGrant[],
    lookedAt: Date,
    report: SweepReport,
  ): Promise<void> {
    const { ctx } = this;
    // Any tenant's live grant explains an assignment; only this tenant's own grants are repaired by it.
    const findings = compare(target, observed, grants, {
      managed,
      includeGroups: scope.includeGroups,
      lookedAt,
      settleMs: ctx.settings.pollTimeoutMs * 2,
      listSettleMs: ctx.settings.listSettleMs,
    });
    for (const grant of findings.missing) {
      if (grant.repositoryId === scope.repositoryId && (await this.repair(grant.id))) report.missing += 1;
    }
    for (const assignment of findings.unexpected) {
      report.unexpected += 1;
      await this.unexpected(scope, ic, assignment, report);
    }
    await resolveFindings(ctx.db, scope, target, managed, findings.unexpected, lookedAt);
  }

  /** Sends an active grant whose assignment is gone back to provisioning; the provisioner re-creates it. */
  private async repair(grantId: string): Promise<boolean> {
    const { ctx } = this;
    const repaired = await repairDriftedGrant(ctx.db, grantId, ctx.now());
    if (!repaired) return false;
    ctx.log.warn(
      { grant: grantId, pr: repaired.pr_number, repositoryId: repaired.repository_id },
      "drift: an active grant's assignment was deleted outside jitsudo; re-creating it",
    );
    ctx.metrics.driftFindings.inc({ kind: "missing" });
    reportMove(ctx, repaired, repairDrift());
    return true;
  }

  private async unexpected(scope: TenantScope, ic: IdentityCenter, assignment: Assignment, report: SweepReport): Promise<void> {
    const { ctx } = this;
    const instanceArn = scope.target.instanceArn;
    const action = scope.remove ? "removed" : "flagged";
    const now = ctx.now();
    const row = {
      instance_arn: instanceArn,
      account_id: assignment.accountId,
      permission_set_arn: assignment.permissionSetArn,
      principal_type: assignment.principalType,
      principal_id: assignment.principalId,
    };
    // Recorded once: a finding still there next sweep is only marked as still seen.
    const inserted = await ctx.db.raw<{ rows: { fresh: boolean; first_seen_at: Date }[] }>(
      `insert into drift_findings (instance_arn, account_id, permission_set_arn, principal_type, principal_id, repository_id, action, first_seen_at, last_seen_at)
       values (:instance_arn, :account_id, :permission_set_arn, :principal_type, :principal_id, :repository_id, :action, :now, :now)
       on conflict (instance_arn, account_id, permission_set_arn, principal_type, principal_id) do update
         set last_seen_at = :now, action = :action, resolved_at = null, repository_id = :repository_id,
             first_seen_at = case when drift_findings.resolved_at is null then drift_findings.first_seen_at else :now end
       returning (xmax = 0 or first_seen_at = :now) as fresh, first_seen_at`,
      { ...row, repository_id: scope.repositoryId, action, now },
    );
    const fresh = inserted.rows[0]?.fresh ?? false;
    const firstSeenAt = inserted.rows[0]?.first_seen_at ?? now;
    if (fresh) {
      ctx.metrics.driftFindings.inc({ kind: "unexpected" });
      ctx.log.warn(
        { ...row, repositoryId: scope.repositoryId, action },
        "drift: an assignment of a managed permission set that no grant explains",
      );
      await noteTenantEvent(
        ctx.db,
        { tenant: scope.tenant, repositoryId: scope.repositoryId, repo: scope.repo },
        {
          type: "drift_unexpected",
          actor: JITSUDO,
          reason: `${assignment.principalType.toLowerCase()} ${assignment.principalId} holds ${assignment.permissionSetArn} in ${assignment.accountId} and no grant explains it; ${scope.remove ? "removing it" : "flagged (drift.unexpected: flag)"}`,
          details: { ...row, action },
        },
      );
    }
    if (!scope.remove) return;
    // Lists lag behind operations: remove only what an earlier sweep, long enough ago, saw too.
    if (ctx.settings.listSettleMs > 0 && now.getTime() - firstSeenAt.getTime() < ctx.settings.listSettleMs) return;
    // A grant may have claimed this very assignment since the list was taken: then it is explained
    // (by the same rule as `explainsAssignment`).
    const claimed = await grantClaimingAssignment(ctx.db, {
      instance_arn: instanceArn,
      account_id: assignment.accountId,
      permission_set_arn: assignment.permissionSetArn,
      principal_id: assignment.principalId,
    });
    if (claimed) return;
    try {
      await ic.deleteAssignment(assignment);
      report.calls += 1;
      report.removed += 1;
      if (fresh) ctx.metrics.driftFindings.inc({ kind: "removed" });
    } catch (error) {
      ctx.log.error({ ...row, err: rawAwsError(error) }, "drift: could not remove an unexpected assignment; trying again next sweep");
    }
  }

  /** This tenant's grants a live worker has held past twice the poll timeout: free them so a worker resumes them. */
  private async resumeStuck(scope: TenantScope): Promise<number> {
    const { ctx } = this;
    const before = new Date(ctx.now().getTime() - ctx.settings.pollTimeoutMs * 2);
    const stuck = await grantsHeldSince(ctx.db, { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId }, before);
    for (const grant of stuck) {
      if (!(await freeLease(ctx.db, grant))) continue;
      ctx.metrics.driftFindings.inc({ kind: "stuck" });
      ctx.log.warn(
        { grant: grant.id, status: grant.status, worker: grant.lease_owner },
        "drift: a grant was stuck with its worker; freed for another to resume",
      );
      await noteEvent(ctx.db, grant, {
        type: "drift_resumed",
        actor: JITSUDO,
        reason: `stuck in ${grant.status} with worker ${grant.lease_owner} since ${grant.updated_at.toISOString()}; resumed`,
      });
    }
    if (stuck.length > 0) await wakeWorkers(ctx.db);
    return stuck.length;
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

function emptyReport(scope: TenantScope): SweepReport {
  return {
    instanceArn: scope.target.instanceArn,
    repositoryId: scope.repositoryId,
    ran: true,
    scopesChecked: 0,
    calls: 0,
    missing: 0,
    unexpected: 0,
    removed: 0,
    resumed: 0,
    completedRotation: false,
    refusedClaims: [],
    unknownSets: [],
  };
}

/** Each tenant's sweep: its config as last merged, or (for an instance its config left) its live grants. */
export async function tenantsToSweep(ctx: Pick<JobContext, "db" | "defaults">): Promise<ReturnType<typeof planTenantSweeps>> {
  const snapshots = await tenantSnapshots(ctx.db);
  const rows = await liveGrantTargets(ctx.db);
  return planTenantSweeps(snapshots, rows, ctx.defaults);
}

/** Claims of tenants whose config no longer brings them to the claim's instance end (see claimsToRelease). */
async function releaseClaims(ctx: Pick<JobContext, "db" | "now" | "log">, plan: Pick<SweepPlan, "scopes" | "configured">): Promise<void> {
  const claims = (
    (await ctx.db("drift_claims").select("instance_arn", "permission_set_arn", "repository_id", "declared_as")) as Claim[]
  ).map((claim) => ({ ...claim, repository_id: String(claim.repository_id) }));
  for (const claim of claimsToRelease(claims, plan)) await endClaim(ctx, claim);
}

/** This tenant's claims on the instance for sets it no longer lists (`keep`: the ARNs it still does). */
async function releaseOwnClaims(
  ctx: Pick<JobContext, "db" | "now" | "log">,
  scope: TenantScope,
  instanceArn: string,
  keep: ReadonlySet<string>,
): Promise<void> {
  const claims = (await ctx
    .db("drift_claims")
    .where({ instance_arn: instanceArn, repository_id: scope.repositoryId })
    .select("instance_arn", "permission_set_arn", "repository_id", "declared_as")) as Claim[];
  for (const claim of claims)
    if (!keep.has(claim.permission_set_arn)) await endClaim(ctx, { ...claim, repository_id: String(claim.repository_id) });
}

/** A claim ends, and so do the open findings made under it. */
async function endClaim(ctx: Pick<JobContext, "db" | "now" | "log">, claim: Claim): Promise<void> {
  await ctx
    .db("drift_claims")
    .where({ instance_arn: claim.instance_arn, permission_set_arn: claim.permission_set_arn, repository_id: claim.repository_id })
    .delete();
  await ctx
    .db("drift_findings")
    .where({ instance_arn: claim.instance_arn, permission_set_arn: claim.permission_set_arn, repository_id: claim.repository_id })
    .whereNull("resolved_at")
    .update({ resolved_at: ctx.now() });
  ctx.log.info(
    { instanceArn: claim.instance_arn, permissionSet: claim.permission_set_arn, repositoryId: claim.repository_id },
    "drift: a tenant no longer manages a permission set; another tenant may claim it",
  );
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

interface Cursor {
  pairs: [string, string][];
  position: number;
  rotationStartedAt: Date;
  rotationCalls: number;
  /** Scope key → when it was last looked at (epoch ms). */
  checked: Record<string, number>;
}

async function loadCursor(db: Knex, scope: TenantScope): Promise<Cursor> {
  const row = (await db("drift_cursors").where({ instance_arn: scope.target.instanceArn, repository_id: scope.repositoryId }).first()) as
    | {
        pairs: { pairs: [string, string][]; checked: Record<string, number> };
        position: number;
        rotation_started_at: Date;
        rotation_calls: number;
      }
    | undefined;
  if (!row) return { pairs: [], position: 0, rotationStartedAt: new Date(0), rotationCalls: 0, checked: {} };
  return {
    pairs: row.pairs.pairs,
    checked: row.pairs.checked,
    position: row.position,
    rotationStartedAt: row.rotation_started_at,
    rotationCalls: row.rotation_calls,
  };
}

async function saveCursor(db: Knex, scope: TenantScope, cursor: Cursor): Promise<void> {
  await db("drift_cursors")
    .insert({
      instance_arn: scope.target.instanceArn,
      repository_id: scope.repositoryId,
      pairs: JSON.stringify({ pairs: cursor.pairs, checked: cursor.checked }),
      position: cursor.position,
      rotation_started_at: cursor.rotationStartedAt,
      rotation_calls: cursor.rotationCalls,
    })
    .onConflict(["instance_arn", "repository_id"])
    .merge();
}

/** This tenant's findings in a scope that a sweep no longer sees are resolved. */
async function resolveFindings(
  db: Knex,
  scope: TenantScope,
  looked: Scope,
  managed: ReadonlySet<string>,
  stillThere: readonly Assignment[],
  at: Date,
): Promise<void> {
  const open = db("drift_findings")
    .where({ instance_arn: scope.target.instanceArn, repository_id: scope.repositoryId })
    .whereNull("resolved_at");
  if (looked.kind === "principal") open.where({ principal_id: looked.principalId }).whereIn("permission_set_arn", [...managed]);
  else open.where({ account_id: looked.accountId, permission_set_arn: looked.permissionSetArn });
  const keep = new Set(stillThere.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`));
  for (const finding of (await open) as {
    account_id: string;
    permission_set_arn: string;
    principal_type: string;
    principal_id: string;
  }[]) {
    if (keep.has(`${finding.account_id}|${finding.permission_set_arn}|${finding.principal_type}|${finding.principal_id}`)) continue;
    await db("drift_findings")
      .where({
        instance_arn: scope.target.instanceArn,
        account_id: finding.account_id,
        permission_set_arn: finding.permission_set_arn,
        principal_type: finding.principal_type,
        principal_id: finding.principal_id,
      })
      .update({ resolved_at: at });
  }
}
