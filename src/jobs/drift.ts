/**
 * DriftReconcileWorker: every RECONCILIATION_INTERVAL, for each Identity Center instance, compare
 * what AWS really holds with what was approved, and act on the difference:
 *
 * - an active grant whose assignment is gone (deleted outside jitsudo): it goes back to
 *   `provisioning` (event `drift_repaired`, said on its PR) and the provisioner creates it again;
 * - an assignment of a permission set jitsudo manages that no grant explains: recorded once as a
 *   finding (event `drift_unexpected`, metric) and, when every tenant on the instance says
 *   `drift.unexpected: remove`, deleted. Never assignments of other permission sets; never group
 *   assignments unless every tenant's config includes groups;
 * - a grant held by a live worker but stuck in `provisioning` / `revoking` for twice the poll
 *   timeout: its lease is freed so that a worker resumes it.
 *
 * One replica sweeps an instance at a time: the sweep runs under a Postgres advisory lock, a
 * replica that does not get it skips the cycle, and one that dies mid-sweep releases it with its
 * connection. A sweep spends at most `interval × 9` calls (drift is paced to half of AWS's 20 TPS,
 * by the shared limiter), first on the live grants (one list per principal or per account and
 * permission set, whichever is fewer), then on the next slice of the pass over every (account,
 * permission set) pair where a managed set is provisioned; a large organisation is covered over
 * several cycles.
 */
import type { Knex } from "knex";
import { resolveTarget, type AwsTarget } from "../aws/connections.js";
import { describeAwsError } from "../aws/errors.js";
import type { Assignment, IdentityCenter } from "../aws/identity-center.js";
import { IDENTITY_CENTER_TPS } from "../aws/rate-limiter.js";
import { tenantSnapshots, type TenantSnapshot } from "../config/tenant-snapshots.js";
import { runIfUnlocked } from "../db/locks.js";
import { appendEvent, transition, wakeWorkers, type GrantRow } from "../grants/store.js";
import { noteEvent } from "../grants/work-queue.js";
import { JITSUDO, type JobContext } from "./context.js";
import { compare, liveGrantScopes, nextSlice, scopeKey, type DriftGrant, type Scope } from "./drift-plan.js";

/** Drift's share of an instance's calls: half of AWS's limit, less one for safety. */
const DRIFT_CALLS_PER_SECOND = IDENTITY_CENTER_TPS / 2 - 1;
/** Of a cycle's budget, at most this much goes to the live grants, so the full pass always moves. */
const LIVE_SHARE = 0.7;

export interface InstanceScope {
  target: AwsTarget;
  /** Installations whose grants or config use this instance. */
  tenants: { tenant: string; repo: string }[];
  /** Permission set names and ARNs jitsudo manages here. */
  managedNames: Set<string>;
  managedArns: Set<string>;
  remove: boolean;
  includeGroups: boolean;
}

export interface SweepReport {
  instanceArn: string;
  ran: boolean;
  scopesChecked: number;
  calls: number;
  missing: number;
  unexpected: number;
  removed: number;
  resumed: number;
  completedRotation: boolean;
  error?: string;
}

export class DriftReconcileWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: JobContext,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const tick = async () => {
      const started = Date.now();
      const cycle = this.runOnce().catch((error: unknown) => {
        this.ctx.log.error({ err: error }, "drift cycle failed");
        return [] as SweepReport[];
      });
      this.running = cycle;
      const reports = await cycle;
      // A replica that found another sweeping tries again after a random part of the interval, so
      // that replicas take turns instead of one ticking forever just inside the other's sweeps.
      const skipped = reports.length > 0 && reports.every((report) => !report.ran);
      const next = skipped ? this.intervalMs * (0.3 + Math.random() * 0.6) : this.intervalMs - (Date.now() - started);
      if (!this.stopped) this.timer = setTimeout(() => void tick(), Math.max(0, next));
    };
    // node-cron cannot express every interval (45 s, 7 m); a timer re-armed after each cycle can, and never overlaps.
    this.timer = setTimeout(() => void tick(), 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One cycle: every known instance, each swept only if no other replica is sweeping it. */
  async runOnce(): Promise<SweepReport[]> {
    const reports: SweepReport[] = [];
    for (const scope of await instancesToSweep(this.ctx)) {
      const outcome = await runIfUnlocked(this.ctx.db, "jitsudo:drift", scope.target.instanceArn, () => this.sweep(scope));
      const report = outcome.ran ? outcome.result : { ...emptyReport(scope.target.instanceArn), ran: false };
      this.ctx.metrics.driftSweeps.inc({ outcome: !report.ran ? "skipped" : report.error ? "failed" : "completed" });
      reports.push(report);
    }
    return reports;
  }

  private async sweep(scope: InstanceScope): Promise<SweepReport> {
    const { ctx } = this;
    const instanceArn = scope.target.instanceArn;
    const report: SweepReport = emptyReport(instanceArn);
    const [sweep] = await ctx.db("drift_sweeps").insert({ instance_arn: instanceArn, worker: ctx.workerId, started_at: ctx.now() }).returning("id");
    const budget = Math.max(1, Math.floor((this.intervalMs / 1000) * DRIFT_CALLS_PER_SECOND * 0.9));
    try {
      const ic = await ctx.aws.connect(scope.target, `drift-${ctx.workerId.slice(-12)}`, "drift");
      // Rules name permission sets by name or by ARN.
      for (const set of await ctx.directory.permissionSets(ic)) if (scope.managedNames.has(set.name) || scope.managedNames.has(set.arn)) scope.managedArns.add(set.arn);
      const grants = await driftGrants(ctx.db, instanceArn, ctx.now(), ctx.settings.pollTimeoutMs * 2);
      for (const grant of grants) if (["provisioning", "active", "revoking"].includes(grant.status)) scope.managedArns.add(grant.permissionSetArn);
      const cursor = await loadCursor(ctx.db, instanceArn);

      const look = async (target: Scope) => {
        const lookedAt = ctx.now();
        const observed = target.kind === "principal" ? await ic.assignmentsOfPrincipal(target.principalId) : await ic.assignments(target.accountId, target.permissionSetArn);
        report.calls += 1;
        report.scopesChecked += 1;
        cursor.checked[scopeKey(target)] = lookedAt.getTime();
        await this.act(scope, ic, target, observed, grants, lookedAt, report);
      };

      // 1. The live grants, least recently checked first.
      const live = liveGrantScopes(grants, new Map(Object.entries(cursor.checked)));
      for (const target of live.slice(0, Math.ceil(budget * LIVE_SHARE))) {
        if (this.stopped) break;
        await look(target);
      }
      if (live.length > budget * LIVE_SHARE) ctx.log.warn({ instanceArn, liveScopes: live.length, budget }, "drift cannot look at every live grant this cycle; the rest come next cycle");

      // 2. The next slice of the full pass over (account, permission set) pairs.
      if (cursor.pairs.length === 0 || cursor.position === 0) {
        cursor.pairs = await this.pairsOf(ic, scope.managedArns, report);
        cursor.rotationStartedAt = ctx.now();
        cursor.rotationCalls = 0;
      }
      const slice = nextSlice(cursor.pairs, cursor.position, budget - report.calls);
      let looked = 0;
      for (const [accountId, permissionSetArn] of slice.slice) {
        if (this.stopped) break; // shutting down: the pass resumes where this sweep stopped
        await look({ kind: "pair", accountId, permissionSetArn });
        looked += 1;
      }
      cursor.position = looked === slice.slice.length ? slice.next : cursor.position + looked;
      cursor.rotationCalls += report.calls;
      report.completedRotation = slice.wrapped && slice.slice.length > 0 && looked === slice.slice.length;

      report.resumed = await this.resumeStuck(instanceArn);
      await saveCursor(ctx.db, instanceArn, cursor);
    } catch (error) {
      report.error = describeAwsError(error);
      ctx.log.error({ err: report.error, instanceArn }, "drift sweep failed; it is tried again next cycle");
    }
    await ctx.db("drift_sweeps").where({ id: (sweep as { id: string }).id }).update({
      finished_at: ctx.now(),
      calls: report.calls,
      scopes_checked: report.scopesChecked,
      missing: report.missing,
      unexpected: report.unexpected,
      completed_rotation: report.completedRotation,
      error: report.error ?? null,
    });
    return { ...report, ran: true };
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

  private async act(scope: InstanceScope, ic: IdentityCenter, target: Scope, observed: Assignment[], grants: DriftGrant[], lookedAt: Date, report: SweepReport): Promise<void> {
    const { ctx } = this;
    const findings = compare(target, observed, grants, { managed: scope.managedArns, includeGroups: scope.includeGroups, lookedAt, settleMs: ctx.settings.pollTimeoutMs * 2 });
    for (const grant of findings.missing) {
      if (await this.repair(grant.id)) report.missing += 1;
    }
    for (const assignment of findings.unexpected) {
      report.unexpected += 1;
      await this.unexpected(scope, ic, assignment, report);
    }
    await resolveFindings(ctx.db, scope.target.instanceArn, target, findings.unexpected, lookedAt);
  }

  /** Sends an active grant whose assignment is gone back to provisioning; the provisioner re-creates it. */
  private async repair(grantId: string): Promise<boolean> {
    const { ctx } = this;
    const repaired = await ctx.db.transaction(async (trx) => {
      const grant = (await trx("grants").where({ id: grantId, status: "active" }).whereNull("lease_owner").forUpdate().first()) as GrantRow | undefined;
      if (!grant) return undefined;
      await transition(trx, grant, "provisioning", { type: "drift_repaired", actor: JITSUDO, reason: "the assignment was deleted outside jitsudo; creating it again" }, { attempts: 0, next_attempt_at: null, last_error: null }, { lease_owner: null });
      await wakeWorkers(trx);
      return grant;
    });
    if (!repaired) return false;
    ctx.log.warn({ grant: grantId, pr: repaired.pr_number, repo: repaired.repo }, "drift: an active grant's assignment was deleted outside jitsudo; re-creating it");
    ctx.metrics.driftFindings.inc({ kind: "missing" });
    ctx.metrics.transitions.inc({ to: "provisioning" });
    ctx.reporter.changed(repaired);
    return true;
  }

  private async unexpected(scope: InstanceScope, ic: IdentityCenter, assignment: Assignment, report: SweepReport): Promise<void> {
    const { ctx } = this;
    const instanceArn = scope.target.instanceArn;
    const action = scope.remove ? "removed" : "flagged";
    const now = ctx.now();
    const row = { instance_arn: instanceArn, account_id: assignment.accountId, permission_set_arn: assignment.permissionSetArn, principal_type: assignment.principalType, principal_id: assignment.principalId };
    // Recorded once: a finding still there next sweep is only marked as still seen.
    const inserted = await ctx.db.raw<{ rows: { fresh: boolean }[] }>(
      `insert into drift_findings (instance_arn, account_id, permission_set_arn, principal_type, principal_id, action, first_seen_at, last_seen_at)
       values (:instance_arn, :account_id, :permission_set_arn, :principal_type, :principal_id, :action, :now, :now)
       on conflict (instance_arn, account_id, permission_set_arn, principal_type, principal_id) do update
         set last_seen_at = :now, action = :action, resolved_at = null,
             first_seen_at = case when drift_findings.resolved_at is null then drift_findings.first_seen_at else :now end
       returning (xmax = 0 or first_seen_at = :now) as fresh`,
      { ...row, action, now },
    );
    const fresh = inserted.rows[0]?.fresh ?? false;
    if (fresh) {
      ctx.metrics.driftFindings.inc({ kind: "unexpected" });
      ctx.log.warn({ ...row, action }, "drift: an assignment of a managed permission set that no grant explains");
      const owner = scope.tenants[0];
      if (owner) {
        await appendEvent(ctx.db, { tenant: owner.tenant, repo: owner.repo, pr_number: null, grant_id: null }, {
          type: "drift_unexpected",
          actor: JITSUDO,
          reason: `${assignment.principalType.toLowerCase()} ${assignment.principalId} holds ${assignment.permissionSetArn} in ${assignment.accountId} and no grant explains it; ${scope.remove ? "removing it" : "flagged (drift.unexpected: flag)"}`,
          details: { ...row, action },
        });
      }
    }
    if (!scope.remove) return;
    // A grant may have claimed this very assignment since the list was taken: then it is explained.
    const claimed = await ctx.db("grants")
      .where({ instance_arn: instanceArn, account_id: assignment.accountId, permission_set_arn: assignment.permissionSetArn, principal_id: assignment.principalId })
      .whereIn("status", ["provisioning", "active", "revoking"])
      .first("id");
    if (claimed) return;
    try {
      await ic.deleteAssignment(assignment);
      report.calls += 1;
      report.removed += 1;
      if (fresh) ctx.metrics.driftFindings.inc({ kind: "removed" });
    } catch (error) {
      ctx.log.error({ ...row, err: describeAwsError(error) }, "drift: could not remove an unexpected assignment; trying again next sweep");
    }
  }

  /** Grants a live worker has held past twice the poll timeout: free them so a worker resumes them. */
  private async resumeStuck(instanceArn: string): Promise<number> {
    const { ctx } = this;
    const before = new Date(ctx.now().getTime() - ctx.settings.pollTimeoutMs * 2);
    const stuck = (await ctx.db("grants")
      .where({ instance_arn: instanceArn })
      .whereIn("status", ["provisioning", "revoking"])
      .whereNotNull("lease_owner")
      .where("updated_at", "<", before)) as GrantRow[];
    for (const grant of stuck) {
      const freed = await ctx.db("grants").where({ id: grant.id, lease_owner: grant.lease_owner, status: grant.status }).update({ lease_owner: null, next_attempt_at: null, updated_at: ctx.db.fn.now() });
      if (freed !== 1) continue;
      ctx.metrics.driftFindings.inc({ kind: "stuck" });
      ctx.log.warn({ grant: grant.id, status: grant.status, worker: grant.lease_owner }, "drift: a grant was stuck with its worker; freed for another to resume");
      await noteEvent(ctx.db, grant, { type: "drift_resumed", actor: JITSUDO, reason: `stuck in ${grant.status} with worker ${grant.lease_owner} since ${grant.updated_at.toISOString()}; resumed` });
    }
    if (stuck.length > 0) await wakeWorkers(ctx.db);
    return stuck.length;
  }
}

function emptyReport(instanceArn: string): SweepReport {
  return { instanceArn, ran: true, scopesChecked: 0, calls: 0, missing: 0, unexpected: 0, removed: 0, resumed: 0, completedRotation: false };
}

/** The instances to sweep, with how to reach each, which tenants use it, and what they ask of drift. */
export async function instancesToSweep(ctx: Pick<JobContext, "db" | "defaults">): Promise<InstanceScope[]> {
  const snapshots = await tenantSnapshots(ctx.db);
  const recent = (await ctx.db.raw<{ rows: (GrantRow & { tenant: string })[] }>(
    `select distinct on (instance_arn) instance_arn, aws_region, aws_role_arn, identity_store_id, tenant, repository_id, repo
     from grants where instance_arn is not null order by instance_arn, created_at desc`,
  )).rows;
  const scopes = new Map<string, InstanceScope & { configs: TenantSnapshot[] }>();
  const add = (recorded: Parameters<typeof resolveTarget>[0], tenant?: { tenant: string; repo: string }) => {
    const target = resolveTarget(recorded, ctx.defaults);
    if (!target.ok) return undefined;
    let scope = scopes.get(target.target.instanceArn);
    if (!scope) {
      scope = { target: target.target, tenants: [], managedNames: new Set(), managedArns: new Set(), remove: false, includeGroups: false, configs: [] };
      scopes.set(target.target.instanceArn, scope);
    }
    if (tenant && !scope.tenants.some((known) => known.tenant === tenant.tenant && known.repo === tenant.repo)) scope.tenants.push(tenant);
    return scope;
  };
  for (const snapshot of snapshots) {
    const aws = snapshot.config?.aws ?? {};
    const scope = add(
      { tenant: snapshot.tenant, repository_id: snapshot.repositoryId, instance_arn: aws.instanceArn ?? null, aws_region: aws.region ?? null, identity_store_id: aws.identityStoreId ?? null, aws_role_arn: aws.roleArn ?? null },
      snapshot,
    );
    if (!scope) continue;
    scope.configs.push(snapshot);
    for (const rule of snapshot.config?.rules ?? []) for (const name of rule.permissionSets) if (name !== "*") scope.managedNames.add(name);
  }
  for (const row of recent) add(row, { tenant: String(row.tenant), repo: row.repo });
  // The deployment's own instance is swept even before any tenant used it (unexpected assignments are still drift).
  if (ctx.defaults.instanceArn) add({ tenant: "", repository_id: null, instance_arn: null, aws_region: null, identity_store_id: null, aws_role_arn: null });
  return [...scopes.values()].map(({ configs, ...scope }) => {
    // Fail closed: remove (or touch groups) only when every tenant here asks for it, in a config that parses.
    const configOf = (tenant: { tenant: string; repo: string }) => configs.find((config) => config.tenant === tenant.tenant && config.repo === tenant.repo)?.config;
    const all = (wanted: (config: NonNullable<ReturnType<typeof configOf>>) => boolean) =>
      scope.tenants.length > 0 && scope.tenants.every((tenant) => {
        const config = configOf(tenant);
        return config !== undefined && wanted(config);
      });
    return { ...scope, remove: all((config) => config.drift.unexpected === "remove"), includeGroups: all((config) => config.drift.includeGroups) };
  });
}

/** Grants of an instance that need, may have, or only just lost their assignment. */
async function driftGrants(db: Knex, instanceArn: string, now: Date, settleMs: number): Promise<DriftGrant[]> {
  const rows = (await db("grants")
    .where({ instance_arn: instanceArn })
    .whereNotNull("principal_id")
    .whereNotNull("account_id")
    .whereNotNull("permission_set_arn")
    .where((query) => query.whereIn("status", ["provisioning", "active", "revoking"]).orWhere("ended_at", ">=", new Date(now.getTime() - settleMs)))
    .select("id", "status", "account_id", "permission_set_arn", "principal_id", "active_at", "expires_at", "ended_at", "lease_owner")) as GrantRow[];
  return rows.map((row) => ({
    id: row.id,
    status: row.status,
    accountId: row.account_id!,
    permissionSetArn: row.permission_set_arn!,
    principalId: row.principal_id!,
    activeAt: row.active_at,
    expiresAt: row.expires_at,
    endedAt: row.ended_at,
    held: row.lease_owner !== null,
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

async function loadCursor(db: Knex, instanceArn: string): Promise<Cursor> {
  const row = (await db("drift_cursors").where({ instance_arn: instanceArn }).first()) as
    | { pairs: { pairs: [string, string][]; checked: Record<string, number> }; position: number; rotation_started_at: Date; rotation_calls: number }
    | undefined;
  if (!row) return { pairs: [], position: 0, rotationStartedAt: new Date(0), rotationCalls: 0, checked: {} };
  return { pairs: row.pairs.pairs, checked: row.pairs.checked, position: row.position, rotationStartedAt: row.rotation_started_at, rotationCalls: row.rotation_calls };
}

async function saveCursor(db: Knex, instanceArn: string, cursor: Cursor): Promise<void> {
  await db("drift_cursors")
    .insert({
      instance_arn: instanceArn,
      pairs: JSON.stringify({ pairs: cursor.pairs, checked: cursor.checked }),
      position: cursor.position,
      rotation_started_at: cursor.rotationStartedAt,
      rotation_calls: cursor.rotationCalls,
    })
    .onConflict("instance_arn")
    .merge();
}

/** Findings in a scope that a sweep no longer sees are resolved. */
async function resolveFindings(db: Knex, instanceArn: string, scope: Scope, stillThere: readonly Assignment[], at: Date): Promise<void> {
  const open = db("drift_findings").where({ instance_arn: instanceArn }).whereNull("resolved_at");
  if (scope.kind === "principal") open.where({ principal_id: scope.principalId });
  else open.where({ account_id: scope.accountId, permission_set_arn: scope.permissionSetArn });
  const keep = new Set(stillThere.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`));
  for (const finding of (await open) as { account_id: string; permission_set_arn: string; principal_type: string; principal_id: string }[]) {
    if (keep.has(`${finding.account_id}|${finding.permission_set_arn}|${finding.principal_type}|${finding.principal_id}`)) continue;
    await db("drift_findings")
      .where({ instance_arn: instanceArn, account_id: finding.account_id, permission_set_arn: finding.permission_set_arn, principal_type: finding.principal_type, principal_id: finding.principal_id })
      .update({ resolved_at: at });
  }
}
