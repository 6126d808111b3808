/**
 * The database side of the workers: which grants are due, who is carrying each one out, and the
 * two decisions that must be atomic across replicas.
 *
 * Leases. A worker claims a grant by writing its id into `lease_owner` (with `FOR UPDATE SKIP
 * LOCKED`, so replicas never claim the same row). A lease is free when it is empty or when its
 * owner is gone: every worker holds a session advisory lock on its own id for as long as it lives
 * (`liveness.ts`), so a worker killed mid-step frees its grants the moment its connection drops,
 * and the next worker resumes them. No timeouts to tune, no heartbeats to miss.
 *
 * Intents. Before a create or delete is sent to AWS, the grant records it (`operation`), in a
 * short transaction holding an advisory lock on the assignment (instance, account, permission set,
 * principal). That makes "is anyone else still using this assignment?" and "may I create it now?"
 * exclusive: a revoke never deletes an assignment a live grant has just created, and a create
 * never races a delete of the same assignment. No AWS call is ever made inside a transaction.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { applyMove, type GrantRow } from "./grant-repository.js";
import { awaitsExtension, type ExtensionState } from "./extension.js";
import { beginRemoval, coveredEnd, type Move } from "./lifecycle.js";

export const WORKER_LOCK_NAMESPACE = "jitsudo:worker";
/** AWS allows 10 CreateAccountAssignment operations in flight per instance. */
export const MAX_CREATES_IN_FLIGHT = 10;

/**
 * SQL: a row's lease is free (no owner, or an owner whose liveness lock is gone). Workers and
 * webhook-inbox processors hold that lock on their own session (WorkerSession) while they live.
 */
export const leaseFree = (column = "lease_owner") => `(${column} is null or hashtext(${column})::oid not in (
  select objid from pg_locks
  where locktype = 'advisory' and classid = hashtext('${WORKER_LOCK_NAMESPACE}')::oid and objsubid = 2 and granted
    and database = (select oid from pg_database where datname = current_database())))`;
const LEASE_FREE = leaseFree();

const DUE_RETRY = "(next_attempt_at is null or next_attempt_at <= ?)";

async function claim(
  db: Knex,
  workerId: string,
  condition: string,
  bindings: Knex.Value[],
  order: string,
  limit: number,
): Promise<GrantRow[]> {
  const { rows } = await db.raw<{ rows: GrantRow[] }>(
    `update grants set lease_owner = ?, next_attempt_at = null, updated_at = now()
     where id in (select id from grants where ${condition} and ${LEASE_FREE} order by ${order} limit ? for update skip locked)
     returning *`,
    [workerId, ...bindings, limit],
  );
  return rows.map(normalise);
}

/** Approved grants whose start has come. */
export function claimDueStarts(db: Knex, workerId: string, now: Date, limit: number): Promise<GrantRow[]> {
  return claim(db, workerId, `status = 'approved' and starts_at <= ? and ${DUE_RETRY}`, [now, now], "starts_at", limit);
}

/** Grants left in `provisioning` by a step that is due again or by a worker that is gone. */
export function claimProvisioning(db: Knex, workerId: string, now: Date, limit: number): Promise<GrantRow[]> {
  return claim(db, workerId, `status = 'provisioning' and ${DUE_RETRY}`, [now], "updated_at", limit);
}

/** Active grants whose end has come (and, for one that waits, e.g. for its extension, whose next look has). */
export function claimDueExpiries(db: Knex, workerId: string, now: Date, limit: number): Promise<GrantRow[]> {
  return claim(db, workerId, `status = 'active' and expires_at <= ? and ${DUE_RETRY}`, [now, now], "expires_at", limit);
}

/** Grants to remove: expired, revoked early, or a revoke being retried. */
export function claimRevoking(db: Knex, workerId: string, now: Date, limit: number): Promise<GrantRow[]> {
  return claim(db, workerId, `status = 'revoking' and ${DUE_RETRY}`, [now], "updated_at", limit);
}

/**
 * When the next piece of work nobody holds falls due, so the worker can sleep exactly until then.
 * A free grant in `provisioning` or `revoking` with no retry time is due now (its worker is gone).
 */
export async function nextDueAt(db: Knex): Promise<Date | undefined> {
  const { rows } = await db.raw<{ rows: { at: Date | null }[] }>(
    `select least(
       (select min(greatest(starts_at, coalesce(next_attempt_at, starts_at))) from grants where status = 'approved' and ${LEASE_FREE}),
       (select min(greatest(expires_at, coalesce(next_attempt_at, expires_at))) from grants where status = 'active' and ${LEASE_FREE}),
       (select min(coalesce(next_attempt_at, '-infinity')) from grants where status in ('provisioning', 'revoking') and ${LEASE_FREE})
     ) as at`,
  );
  const at = rows[0]?.at;
  return at instanceof Date && Number.isFinite(at.getTime()) ? at : at ? new Date(0) : undefined;
}

/**
 * What a worker may change on a grant it holds without moving it: its operation, the names it
 * resolved, its retry schedule. Never its status (that is a move of the lifecycle) nor whose it is.
 */
export type HeldChanges = Partial<
  Omit<GrantRow, "id" | "status" | "tenant" | "repository_id" | "repo" | "pr_number" | "created_at" | "updated_at" | "lease_owner">
>;

/** Changes a grant this worker holds; false if the lease or status moved on (another worker took over). */
export async function updateHeld(
  db: Knex,
  grant: Pick<GrantRow, "id" | "status">,
  workerId: string,
  changes: HeldChanges,
): Promise<boolean> {
  const updated = await db("grants")
    .where({ id: grant.id, status: grant.status, lease_owner: workerId })
    .update({ ...changes, updated_at: db.fn.now() });
  return updated === 1;
}

/** A tenant's grants on an instance that a worker has held, in provisioning or revoking, since before `before`. */
export async function grantsHeldSince(db: Knex, tenant: { instanceArn: string; repositoryId: string }, before: Date): Promise<GrantRow[]> {
  return await rowsAs<GrantRow[]>(
    db("grants")
      .where({ instance_arn: tenant.instanceArn, repository_id: tenant.repositoryId })
      .whereIn("status", ["provisioning", "revoking"])
      .whereNotNull("lease_owner")
      .where("updated_at", "<", before),
  );
}

/** Frees a grant's lease if it is still held by the same worker in the same status; true if it was. */
export async function freeLease(db: Knex, grant: Pick<GrantRow, "id" | "lease_owner" | "status">): Promise<boolean> {
  const freed = await db("grants")
    .where({ id: grant.id, lease_owner: grant.lease_owner, status: grant.status })
    .update({ lease_owner: null, next_attempt_at: null, updated_at: db.fn.now() });
  return freed === 1;
}

/** The grant as it is now, if this worker still holds it. */
export async function heldGrant(db: Knex, grantId: string, workerId: string): Promise<GrantRow | undefined> {
  return await rowsAs<GrantRow | undefined>(db("grants").where({ id: grantId, lease_owner: workerId }).first());
}

/**
 * Whether a create of the grant's assignment was ever about to be sent (this attempt or an earlier
 * one whose answer may have been lost): read from the row, which outlives any worker's memory.
 */
export async function createMayHaveBeenSent(db: Knex, grantId: string): Promise<boolean> {
  const row = await rowsAs<Pick<GrantRow, "create_requested_at"> | undefined>(
    db("grants").where({ id: grantId }).first("create_requested_at"),
  );
  return Boolean(row?.create_requested_at);
}

/** Lets go of a grant, optionally to be retried later. */
export async function release(db: Knex, grantId: string, workerId: string, changes: HeldChanges = {}): Promise<void> {
  await db("grants")
    .where({ id: grantId, lease_owner: workerId })
    .update({ ...changes, lease_owner: null, updated_at: db.fn.now() });
}

export interface AssignmentRef {
  instance_arn: string;
  account_id: string;
  permission_set_arn: string;
  principal_id: string;
}

const assignmentLockKey = (ref: AssignmentRef) => [ref.instance_arn, ref.account_id, ref.permission_set_arn, ref.principal_id].join("|");

export const assignmentLock = (trx: Knex, ref: AssignmentRef) =>
  trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:assignment'), hashtext(?))", [assignmentLockKey(ref)]);

export const sameAssignment = (ref: AssignmentRef) => ({
  instance_arn: ref.instance_arn,
  account_id: ref.account_id,
  permission_set_arn: ref.permission_set_arn,
  principal_id: ref.principal_id,
});

/** Which tenant a grant belongs to: its repository, by id (grants from before ids: its installation). */
const TENANT_KEY = "coalesce(repository_id::text, 'installation-' || tenant::text)";
export const tenantKey = (grant: Pick<GrantRow, "repository_id" | "tenant">) =>
  grant.repository_id !== null && grant.repository_id !== undefined ? String(grant.repository_id) : `installation-${grant.tenant}`;

export type CreateIntent = "go" | "no-slot" | { blockedBy: string } | "lost";

/**
 * Records that this worker is about to create each grant's assignment, if the instance has a free
 * create slot and no delete of the same assignment is pending.
 *
 * Slots are shared fairly by the tenants (access repositories) of an instance: while another
 * tenant has grants waiting for one, a tenant holds at most its even share of the slots (rounded
 * up), so a burst of merges in one repository cannot keep another's grants waiting. Alone on the
 * instance, a tenant may use them all.
 *
 * For several grants of one instance at once, decided in their order: the first take the free
 * slots. One transaction whatever their number: when a wave of creates finishes, its
 * ten freed slots are taken in one round trip of statements instead of ten transactions one after
 * the other (measured: a wave of 10 creates went out over about 110 ms that way, and the next wave
 * of status reads waited for its last one).
 */
export async function intendCreates(
  db: Knex,
  grants: readonly (GrantRow & AssignmentRef)[],
  workerId: string,
  now: Date,
  maxInFlight = MAX_CREATES_IN_FLIGHT,
): Promise<CreateIntent[]> {
  if (grants.length === 0) return [];
  const instance = grants[0]!.instance_arn;
  if (grants.some((grant) => grant.instance_arn !== instance)) throw new Error("intendCreates: grants of one instance at a time");
  const ids = grants.map((grant) => grant.id);
  return db.transaction(async (trx) => {
    // The slot count is per instance: one lock orders every replica's claims on it.
    await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:create-slots'), hashtext(?))", [instance]);
    // Then each assignment's lock (in one order, so two claims can never wait on each other), as intendDelete takes it.
    const keys = [...new Set(grants.map(assignmentLockKey))].sort();
    await trx.raw(
      "select count(pg_advisory_xact_lock(hashtext('jitsudo:assignment'), hashtext(key))) from (select unnest(?::text[]) as key order by 1) as keys",
      [keys],
    );
    const deleting = await rowsAs<(AssignmentRef & { id: string })[]>(
      trx("grants")
        .whereIn(
          ["instance_arn", "account_id", "permission_set_arn", "principal_id"],
          grants.map((grant) => [grant.instance_arn, grant.account_id, grant.permission_set_arn, grant.principal_id]),
        )
        .where({ operation: "delete" })
        .whereNotIn("id", ids)
        .select("id", "instance_arn", "account_id", "permission_set_arn", "principal_id"),
    );
    const deletingOf = new Map(deleting.map((row) => [assignmentLockKey(row), row.id]));
    // In flight: creates AWS may still count against its cap. One a status list showed finished
    // holds no slot, though its outcome is not recorded yet (markCreatesFinished).
    const { rows } = await trx.raw<{ rows: { tenant: string; in_flight: string; waiting: string }[] }>(
      `select ${TENANT_KEY} as tenant,
              count(*) filter (where operation = 'create' and operation_finished_at is null) as in_flight,
              count(*) filter (where operation is null and lease_owner is not null) as waiting
       from grants
       where instance_arn = :instance and status = 'provisioning' and id <> all(:ids)
       group by 1`,
      { instance, ids },
    );
    const heldBy = new Map(rows.map((row) => [row.tenant, Number(row.in_flight)]));
    let inFlight = rows.reduce((sum, row) => sum + Number(row.in_flight), 0);
    const intents: CreateIntent[] = [];
    const going: string[] = [];
    for (const grant of grants) {
      const blockedBy = deletingOf.get(assignmentLockKey(grant));
      if (blockedBy) {
        intents.push({ blockedBy });
        continue;
      }
      if (inFlight >= maxInFlight) {
        intents.push("no-slot");
        continue;
      }
      const mine = tenantKey(grant);
      const tenants = rows
        .filter((row) => row.tenant === mine || (heldBy.get(row.tenant) ?? 0) > 0 || Number(row.waiting) > 0)
        .map((row) => row.tenant);
      const othersWaiting = rows.some((row) => row.tenant !== mine && Number(row.waiting) > 0);
      const share = Math.ceil(maxInFlight / new Set([...tenants, mine]).size);
      const held = heldBy.get(mine) ?? 0;
      if (othersWaiting && held >= share) {
        intents.push("no-slot");
        continue;
      }
      intents.push("go");
      going.push(grant.id);
      heldBy.set(mine, held + 1);
      inFlight += 1;
    }
    if (going.length === 0) return intents;
    const marked = new Set(
      (
        await rowsAs<{ id: string }[]>(
          trx("grants")
            .whereIn("id", going)
            .where({ status: "provisioning", lease_owner: workerId })
            .update({
              operation: "create",
              operation_started_at: now,
              operation_finished_at: null,
              aws_request_id: null,
              create_requested_at: trx.raw("coalesce(create_requested_at, ?)", [now]),
              updated_at: trx.fn.now(),
            })
            .returning("id"),
        )
      ).map((row) => row.id),
    );
    return intents.map((intent, index) => (intent === "go" && !marked.has(grants[index]!.id) ? "lost" : intent));
  });
}

/**
 * Frees the create slots of operations a status list showed finished (see `intendCreates`): one
 * statement for a round. Only the slot count reads the mark; the grant's operation stays recorded
 * until its outcome is (a worker that dies now resumes by polling the same request id).
 */
export async function markCreatesFinished(db: Knex, instanceArn: string, requestIds: readonly string[], now: Date): Promise<number> {
  if (requestIds.length === 0) return 0;
  return db("grants")
    .where({ instance_arn: instanceArn, operation: "create", operation_finished_at: null })
    .whereIn("aws_request_id", requestIds)
    .update({ operation_finished_at: now });
}

/**
 * `go`: the delete is recorded as intended; the grant as it now is (`revoking`), and the move that
 * took it there if it was active, for the caller to report.
 */
export type DeleteIntent<G extends GrantRow = GrantRow> =
  { go: G; began?: Move } | { coveredBy: GrantRow; move: Move } | { waitFor: string } | "lost";

/**
 * Decides, atomically with every create of the same assignment, whether ending this grant removes
 * the assignment. Not while another active grant still needs it: this grant then ends as the
 * lifecycle's `coveredEnd` says and the assignment stays. Not yet while another grant's create of
 * it is in flight: its outcome decides (if it fails, nothing would be left to remove the
 * assignment), so this grant waits. Otherwise the delete is recorded as intended (an active grant
 * moving to `revoking` first).
 */
export async function intendDelete<G extends GrantRow & AssignmentRef>(
  db: Knex,
  grant: G,
  workerId: string,
  now: Date,
  reason: string,
): Promise<DeleteIntent<G>> {
  return db.transaction(async (trx) => {
    await assignmentLock(trx, grant);
    // Only a grant still provisioning waits on its create; one revoked mid-create removes it itself.
    const creating = await rowsAs<{ id: string } | undefined>(
      trx("grants")
        .where(sameAssignment(grant))
        .where({ operation: "create", status: "provisioning" })
        .whereNot({ id: grant.id })
        .first("id"),
    );
    if (creating) return { waitFor: creating.id };
    // An expired grant being extended: the extension's outcome decides (src/grants/extension.ts).
    const extension = grant.status === "active" ? await pendingExtension(trx, grant, now) : undefined;
    if (extension) return { waitFor: extension };
    const covering = await rowsAs<GrantRow | undefined>(
      trx("grants")
        .where(sameAssignment(grant))
        .where({ status: "active" })
        .where("expires_at", ">", now)
        .whereNot({ id: grant.id })
        .orderBy("expires_at", "desc")
        .first(),
    );
    if (covering) {
      const move = coveredEnd(grant, reason, covering);
      await applyMove(trx, grant, move, { lease_owner: workerId });
      return { coveredBy: normalise(covering), move };
    }
    const began = grant.status === "active" ? beginRemoval(reason) : undefined;
    if (began) await applyMove(trx, grant, began, { lease_owner: workerId });
    const marked = await trx("grants")
      .where({ id: grant.id, status: "revoking", lease_owner: workerId })
      .update({ operation: "delete", operation_started_at: now, aws_request_id: null, updated_at: trx.fn.now() });
    return marked === 1 ? { go: { ...grant, status: "revoking" }, ...(began ? { began } : {}) } : "lost";
  });
}

/**
 * The extension the removal of this active grant waits for, if any. The grant's row is read again
 * under its lock: a merge that extends it at this very moment is then either seen (it committed
 * first) or sees the grant already being removed (and is an ordinary new grant).
 */
async function pendingExtension(trx: Knex, grant: GrantRow, now: Date): Promise<string | undefined> {
  const current = await rowsAs<Pick<GrantRow, "superseded_by" | "expires_at"> | undefined>(
    trx("grants").where({ id: grant.id }).forUpdate().first("superseded_by", "expires_at"),
  );
  if (!current?.superseded_by) return undefined;
  const extension = await rowsAs<(ExtensionState & { id: string }) | undefined>(
    trx("grants").where({ id: current.superseded_by, extends_grant_id: grant.id }).first("id", "status", "failure_reason", "starts_at"),
  );
  return extension && awaitsExtension(current, extension, now) ? extension.id : undefined;
}

/** Raw rows carry bigint as string and jsonb parsed; keep the shape GrantRow promises. */
function normalise(row: GrantRow): GrantRow {
  return { ...row, tenant: String(row.tenant) };
}
