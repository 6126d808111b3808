/**
 * Every SQL statement on drift's own tables:
 * - `drift_sweeps`: one row per tenant sweep, opened when it starts and closed with its counts;
 * - `drift_claims`: which tenant manages a permission set on an instance (one tenant per set);
 * - `drift_findings`: unexpected assignments, recorded once, resolved when no longer seen;
 * - `drift_cursors`: where each tenant's pass over its (account, permission set) pairs stands.
 * The grant SQL drift needs is the grant repository's (src/grants/grant-repository.ts, work-queue.ts).
 */
import type { Knex } from "knex";
import type { Assignment, PrincipalType } from "../../aws/identity-center.js";
import type { Scope } from "../drift-plan.js";
import type { SweepReport } from "./report.js";

/** A tenant on an instance: whose sweep, cursor and findings these are. */
export interface TenantKey {
  instanceArn: string;
  repositoryId: string;
}

// ── drift_sweeps ──────────────────────────────────────────────────────────────────────────────

/** Opens a sweep's record; returns its id. */
export async function openSweep(db: Knex, tenant: TenantKey, worker: string, at: Date): Promise<string> {
  const [sweep] = await db("drift_sweeps")
    .insert({ instance_arn: tenant.instanceArn, repository_id: tenant.repositoryId, worker, started_at: at })
    .returning<{ id: string }[]>("id");
  return sweep!.id;
}

export async function closeSweep(db: Knex, id: string, at: Date, report: SweepReport): Promise<void> {
  await db("drift_sweeps")
    .where({ id })
    .update({
      finished_at: at,
      calls: report.calls,
      scopes_checked: report.scopesChecked,
      missing: report.missing,
      unexpected: report.unexpected,
      removed: report.removed,
      completed_rotation: report.completedRotation,
      error: report.error ?? null,
    });
}

// ── drift_claims ──────────────────────────────────────────────────────────────────────────────

export interface Claim {
  instance_arn: string;
  permission_set_arn: string;
  repository_id: string;
  declared_as: string;
}

const CLAIM_COLUMNS = ["instance_arn", "permission_set_arn", "repository_id", "declared_as"];

/** Every claim, on every instance. */
export async function allClaims(db: Knex): Promise<Claim[]> {
  return asClaims(await db("drift_claims").select(CLAIM_COLUMNS));
}

/** One tenant's claims on one instance. */
export async function claimsOf(db: Knex, tenant: TenantKey): Promise<Claim[]> {
  return asClaims(
    await db("drift_claims").where({ instance_arn: tenant.instanceArn, repository_id: tenant.repositoryId }).select(CLAIM_COLUMNS),
  );
}

/** bigint ids come back as strings or numbers depending on the column; claims compare as strings. */
function asClaims(rows: unknown): Claim[] {
  return (rows as Claim[]).map((claim) => ({ ...claim, repository_id: String(claim.repository_id) }));
}

/**
 * Claims `sets` on the instance for the tenant, where no other tenant holds them: returns the ARNs
 * it holds now, and the sets another tenant holds (with that tenant's repository id). Claims on one
 * instance are taken one sweep at a time (a transaction-scoped advisory lock), so two tenants
 * listing the same set cannot both win it.
 */
export async function claimSets(
  db: Knex,
  tenant: TenantKey & { tenant: string },
  sets: readonly { arn: string; declaredAs: string }[],
  at: Date,
): Promise<{ mine: Set<string>; refused: { declaredAs: string; owner: string }[] }> {
  return db.transaction(async (trx) => {
    await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:drift-claims'), hashtext(?))", [tenant.instanceArn]);
    const mine = new Set<string>();
    const refused: { declaredAs: string; owner: string }[] = [];
    for (const { arn, declaredAs } of sets) {
      const key = { instance_arn: tenant.instanceArn, permission_set_arn: arn };
      await trx("drift_claims")
        .insert({
          ...key,
          repository_id: tenant.repositoryId,
          tenant: tenant.tenant,
          declared_as: declaredAs,
          claimed_at: at,
          confirmed_at: at,
        })
        .onConflict(["instance_arn", "permission_set_arn"])
        .ignore();
      const holder = (await trx("drift_claims").where(key).first()) as Claim;
      if (String(holder.repository_id) === tenant.repositoryId) {
        await trx("drift_claims").where(key).update({ confirmed_at: at, declared_as: declaredAs });
        mine.add(arn);
      } else {
        refused.push({ declaredAs, owner: String(holder.repository_id) });
      }
    }
    return { mine, refused };
  });
}

/** A claim ends, and so do the open findings made under it. */
export async function endClaim(db: Knex, claim: Claim, at: Date): Promise<void> {
  const key = { instance_arn: claim.instance_arn, permission_set_arn: claim.permission_set_arn, repository_id: claim.repository_id };
  await db("drift_claims").where(key).delete();
  await db("drift_findings").where(key).whereNull("resolved_at").update({ resolved_at: at });
}

// ── drift_findings ────────────────────────────────────────────────────────────────────────────

/** An assignment as a finding is keyed: on its instance. */
export interface FindingKey {
  instance_arn: string;
  account_id: string;
  permission_set_arn: string;
  principal_type: PrincipalType;
  principal_id: string;
}

/**
 * Records an unexpected assignment. Recorded once: a finding still there next sweep is only marked
 * as still seen. `fresh`: it was not an open finding before (new, or seen again after it was
 * resolved); `firstSeenAt`: since when it has been seen without a break.
 */
export async function recordFinding(
  db: Knex,
  finding: FindingKey,
  by: { repositoryId: string; action: "removed" | "flagged" },
  now: Date,
): Promise<{ fresh: boolean; firstSeenAt: Date }> {
  const inserted = await db.raw<{ rows: { fresh: boolean; first_seen_at: Date }[] }>(
    `insert into drift_findings (instance_arn, account_id, permission_set_arn, principal_type, principal_id, repository_id, action, first_seen_at, last_seen_at)
       values (:instance_arn, :account_id, :permission_set_arn, :principal_type, :principal_id, :repository_id, :action, :now, :now)
       on conflict (instance_arn, account_id, permission_set_arn, principal_type, principal_id) do update
         set last_seen_at = :now, action = :action, resolved_at = null, repository_id = :repository_id,
             first_seen_at = case when drift_findings.resolved_at is null then drift_findings.first_seen_at else :now end
       returning (xmax = 0 or first_seen_at = :now) as fresh, first_seen_at`,
    { ...finding, repository_id: by.repositoryId, action: by.action, now },
  );
  return { fresh: inserted.rows[0]?.fresh ?? false, firstSeenAt: inserted.rows[0]?.first_seen_at ?? now };
}

/** This tenant's findings in a scope that a sweep no longer sees are resolved. */
export async function resolveFindings(
  db: Knex,
  tenant: TenantKey,
  looked: Scope,
  managed: ReadonlySet<string>,
  stillThere: readonly Assignment[],
  at: Date,
): Promise<void> {
  const open = db("drift_findings")
    .where({ instance_arn: tenant.instanceArn, repository_id: tenant.repositoryId })
    .whereNull("resolved_at");
  if (looked.kind === "principal") open.where({ principal_id: looked.principalId }).whereIn("permission_set_arn", [...managed]);
  else open.where({ account_id: looked.accountId, permission_set_arn: looked.permissionSetArn });
  const keep = new Set(stillThere.map((a) => `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`));
  for (const finding of (await open) as Omit<FindingKey, "instance_arn">[]) {
    if (keep.has(`${finding.account_id}|${finding.permission_set_arn}|${finding.principal_type}|${finding.principal_id}`)) continue;
    await db("drift_findings")
      .where({
        instance_arn: tenant.instanceArn,
        account_id: finding.account_id,
        permission_set_arn: finding.permission_set_arn,
        principal_type: finding.principal_type,
        principal_id: finding.principal_id,
      })
      .update({ resolved_at: at });
  }
}

/** Findings not yet gone, across every instance and tenant (the jitsudo_drift_findings_open gauge). */
export async function countOpenFindings(db: Knex): Promise<number> {
  const [row] = await db("drift_findings").whereNull("resolved_at").count<{ n: string }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

// ── drift_cursors ─────────────────────────────────────────────────────────────────────────────

export interface Cursor {
  pairs: [string, string][];
  position: number;
  rotationStartedAt: Date;
  rotationCalls: number;
  /** Scope key → when it was last looked at (epoch ms). */
  checked: Record<string, number>;
}

interface CursorRow {
  instance_arn: string;
  repository_id: string;
  pairs: { pairs: [string, string][]; checked: Record<string, number> };
  position: number;
  rotation_started_at: Date;
  rotation_calls: number;
}

export async function loadCursor(db: Knex, tenant: TenantKey): Promise<Cursor> {
  const row = await db<CursorRow>("drift_cursors").where({ instance_arn: tenant.instanceArn, repository_id: tenant.repositoryId }).first();
  if (!row) return { pairs: [], position: 0, rotationStartedAt: new Date(0), rotationCalls: 0, checked: {} };
  return {
    pairs: row.pairs.pairs,
    checked: row.pairs.checked,
    position: row.position,
    rotationStartedAt: row.rotation_started_at,
    rotationCalls: row.rotation_calls,
  };
}

export async function saveCursor(db: Knex, tenant: TenantKey, cursor: Cursor): Promise<void> {
  await db("drift_cursors")
    .insert({
      instance_arn: tenant.instanceArn,
      repository_id: tenant.repositoryId,
      pairs: JSON.stringify({ pairs: cursor.pairs, checked: cursor.checked }),
      position: cursor.position,
      rotation_started_at: cursor.rotationStartedAt,
      rotation_calls: cursor.rotationCalls,
    })
    .onConflict(["instance_arn", "repository_id"])
    .merge();
}
