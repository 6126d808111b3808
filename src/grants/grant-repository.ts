/**
 * The grant repository: grants and their events in PostgreSQL. Every status change is a move of
 * the lifecycle (`lifecycle.ts`) applied by `applyMove`, which checks it is legal, updates only if
 * the row is still in the status it was read in (so two replicas cannot both make it), and appends
 * the event in the same transaction. Leases and intents, the workers' side of the same rows, are
 * in `work-queue.ts`.
 */
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import type { ApproverSet } from "../approval/approval.js";
import { accessEndsBy, type AccessEndFacts } from "./access-end.js";
import { isExtension } from "./extension.js";
import {
  assertTransition,
  endEarly,
  NOT_ENDED_STATUSES,
  NOW,
  type EventInput,
  type GrantChanges,
  type GrantStatus,
  type Move,
  LIVE_STATUSES,
  repairDrift,
} from "./lifecycle.js";

export interface GrantRow {
  id: string;
  tenant: string;
  /** GitHub's repository id (a string: bigint); null for grants approved before it was recorded. */
  repository_id: string | null;
  repo: string;
  pr_number: number;
  file_path: string;
  blob_sha: string;
  merge_commit_sha: string;
  requester: string;
  requester_id: string | null;
  principal: string;
  principal_id: string | null;
  account_ref: string;
  account_id: string | null;
  permission_set_ref: string;
  permission_set_arn: string | null;
  instance_arn: string | null;
  status: GrantStatus;
  starts_at: Date;
  expires_at: Date;
  duration_seconds: number;
  reason: string;
  ticket: string | null;
  approvers: string[];
  /** Who counted for each set of owners; under a rule with require_owners, also who stood for each team (src/approval/owner-groups.ts). */
  approver_sets: ApproverSet[] | null;
  policy_rule: number | null;
  policy_sha256: string | null;
  policy_rechecked_at: Date | null;
  superseded_by: string | null;
  /** Set for a grant approved by break-glass: the team (@org/slug) whose active member the requester was. */
  break_glass_team: string | null;
  aws_role_arn: string | null;
  aws_region: string | null;
  identity_store_id: string | null;
  aws_request_id: string | null;
  operation: "create" | "delete" | null;
  operation_started_at: Date | null;
  /** When a status list first showed the create no longer in progress: its create slot is free. */
  operation_finished_at: Date | null;
  /** Set before the first CreateAccountAssignment is sent and never cleared: the assignment may exist. */
  create_requested_at: Date | null;
  lease_owner: string | null;
  attempts: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  /** Why provisioning was given up: the grant ends `failed` (after a confirmed removal, if a create may have been sent). */
  failure_reason: string | null;
  active_at: Date | null;
  ended_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** The active grant this one extends without a gap (src/grants/extension.ts). */
  extends_grant_id: string | null;
  /** The rule's remind_before at the merge, in seconds; null: no expiry reminder (src/grants/reminders.ts). */
  remind_before_seconds: number | null;
  /** When its expiry reminder was claimed; its PR comment is sent after (reminder_comment_sent_at). */
  reminded_at: Date | null;
  reminder_comment_tried_at: Date | null;
  reminder_comment_sent_at: Date | null;
  /** The permission set's session duration read before the create (the longest, if created again); null: never read. */
  session_duration_seconds: number | null;
  session_duration_read_at: Date | null;
  /** max_session_duration of the rule that decided it on canonical ids, in seconds; null: no cap. */
  max_session_seconds: number | null;
}

export interface NewGrant {
  filePath: string;
  blobSha: string;
  requester: string;
  /** GitHub's user id of the requester, when GitHub gave it. */
  requesterId?: number;
  principal: string;
  accountRef: string;
  permissionSetRef: string;
  startsAt: Date;
  expiresAt: Date;
  reason: string;
  ticket?: string;
  approvers: string[];
  /** Who counted for each set of owners that had to approve (the path; for a rename, the old path too), and for each require_owners team. */
  approverSets: ApproverSet[];
  policyRule?: number;
  /** The request has no starts_at in the future: its window opens at the merge (an edit may then extend the live grant). */
  startsOnMerge?: boolean;
  /** The matching rule's remind_before, in seconds; null or unset: no expiry reminder. */
  remindBeforeSeconds?: number | null;
  /** Approved by break-glass, without enough code-owner approvals: the team that allowed it, and when its review is due. */
  breakGlass?: { team: string; reviewDueAt: Date; owners: string[] };
  /** The tenant's AWS settings at the base; unset ones fall back to the deployment's at provisioning. */
  aws: { roleArn?: string; region?: string; instanceArn?: string; identityStoreId?: string };
}

export interface MergeRecord {
  tenant: number;
  repositoryId: number;
  repo: string;
  prNumber: number;
  mergeCommitSha: string;
  mergedAt: Date;
  /** The default branch before the merge, when it was proven. */
  baseSha?: string;
  verdict: "approved" | "rejected" | "ignored";
  reasons: string[];
  actor: string;
  details: Record<string, unknown>;
  grants: NewGrant[];
  /** `.github/jitsudo.yml` the grants were judged under, kept for the worker's re-check on canonical ids. */
  policy?: string;
  /** Request files the merge deleted: their live grants end early. */
  revokedPaths: string[];
  /** The comment the merge owes its PR, kept until it is sent (src/github/verdict-comments.ts). */
  comment?: string;
}

export interface MergeOutcome {
  /** False when this merge was already recorded (a redelivered webhook, another replica). */
  recorded: boolean;
  grantIds: string[];
  /** Live grants this merge ended: superseded by an edit, or revoked by a deletion. */
  endedGrantIds: string[];
}

/**
 * Records the verdict on one merge, exactly once: the merge_verdicts primary key makes a second
 * delivery of the same merge a no-op, whatever replica receives it.
 */
export async function recordMerge(db: Knex, merge: MergeRecord): Promise<MergeOutcome> {
  // One transaction: the verdict, its grants and events, and the grants it ends are recorded together or not at all.
  return db.transaction(async (trx) => {
    if (!(await insertVerdict(trx, merge))) return { recorded: false, grantIds: [], endedGrantIds: [] };
    if (merge.verdict !== "approved") return recordRefusal(trx, merge);
    return recordApproval(trx, merge);
  });
}

/** The merge's verdict row; false when the merge already has one. */
async function insertVerdict(trx: Knex, merge: MergeRecord): Promise<boolean> {
  const inserted = await trx("merge_verdicts")
    .insert({
      tenant: merge.tenant,
      repo: merge.repo,
      pr_number: merge.prNumber,
      merge_commit_sha: merge.mergeCommitSha,
      repository_id: merge.repositoryId,
      base_sha: merge.baseSha ?? null,
      verdict: merge.verdict,
      reasons: JSON.stringify(merge.reasons),
      merged_at: merge.mergedAt,
      comment_body: merge.comment ?? null,
    })
    // Either key: the name (the primary key) or the repository id (a renamed repository).
    .onConflict()
    .ignore()
    .returning("pr_number");
  return inserted.length > 0;
}

/** The columns naming the merge's repository and pull request, on its grants and events. */
function mergeScope(merge: MergeRecord) {
  return { tenant: merge.tenant, repository_id: merge.repositoryId, repo: merge.repo, pr_number: merge.prNumber };
}

async function recordRefusal(trx: Knex, merge: MergeRecord): Promise<MergeOutcome> {
  const base = mergeScope(merge);
  await trx("grant_events").insert({
    ...base,
    type: merge.verdict,
    actor: merge.actor,
    reason: merge.reasons.join("; ") || merge.verdict,
    details: JSON.stringify({ ...merge.details, reasons: merge.reasons, merge_commit_sha: merge.mergeCommitSha }),
  });
  // Approved removals end their grants even when the merge's grants were refused.
  const endedGrantIds = await endRemoved(trx, merge);
  if (endedGrantIds.length > 0) await wakeWorkers(trx);
  return { recorded: true, grantIds: [], endedGrantIds };
}

async function recordApproval(trx: Knex, merge: MergeRecord): Promise<MergeOutcome> {
  const base = mergeScope(merge);
  const policySha256 = merge.policy === undefined ? null : await keepPolicy(trx, merge.policy);
  const grantIds: string[] = [];
  const endedGrantIds: string[] = [];
  for (const grant of merge.grants) {
    const id = await insertGrant(trx, merge, grant, policySha256);
    grantIds.push(id);
    await appendEvent(
      trx,
      { ...base, grant_id: id, to_status: "approved" },
      {
        type: "approved",
        actor: merge.actor,
        reason: grant.breakGlass
          ? `approved by break-glass: @${grant.requester} is an active member of ${grant.breakGlass.team}${grant.approvers.length > 0 ? `; code-owner approvals so far: ${grant.approvers.map((login) => `@${login}`).join(", ")}` : ""}`
          : `approved by ${grant.approvers.map((login) => `@${login}`).join(", ")}`,
        details: { ...merge.details, approvers: grant.approvers, blob_sha: grant.blobSha, merge_commit_sha: merge.mergeCommitSha },
      },
    );
    if (grant.breakGlass) {
      // Its own event, so the audit trail, the notifications and the metrics can find every break-glass grant by type.
      await appendEvent(
        trx,
        { ...base, grant_id: id, from_status: "approved", to_status: "approved" },
        {
          type: "break_glass",
          actor: grant.requester,
          reason: `break-glass by @${grant.requester} (${grant.breakGlass.team}), without code-owner approval; a code owner's review is due by ${grant.breakGlass.reviewDueAt.toISOString()}`,
          details: { team: grant.breakGlass.team, review_due_at: grant.breakGlass.reviewDueAt.toISOString(), ticket: grant.ticket ?? null },
        },
      );
    }
    // An edited request replaces the grant of the same file: the old one ends, now that the new one is approved,
    // unless the edit extends it (src/grants/extension.ts): then it ends only once the new one is active.
    for (const old of await liveGrantsForPath(trx, merge, grant.filePath, id)) {
      if (isExtension(old, grant)) {
        await markExtended(trx, old, { id, prNumber: merge.prNumber, actor: merge.actor });
        continue;
      }
      await endEarlyIn(
        trx,
        old,
        { type: "superseded", actor: merge.actor, reason: `superseded by the merge of #${merge.prNumber}` },
        "merge-comment",
        id,
      );
      endedGrantIds.push(old.id);
    }
  }
  endedGrantIds.push(...(await endRemoved(trx, merge)));
  if (grantIds.length + endedGrantIds.length > 0) await wakeWorkers(trx);
  return { recorded: true, grantIds, endedGrantIds };
}

/** One approved grant of the merge; returns its id. */
async function insertGrant(trx: Knex, merge: MergeRecord, grant: NewGrant, policySha256: string | null): Promise<string> {
  const base = mergeScope(merge);
  const [row] = await rowsAs<{ id: string }[]>(
    trx("grants")
      .insert({
        ...base,
        repository_id: merge.repositoryId,
        policy_sha256: policySha256,
        file_path: grant.filePath,
        blob_sha: grant.blobSha,
        merge_commit_sha: merge.mergeCommitSha,
        requester: grant.requester,
        requester_id: grant.requesterId ?? null,
        principal: grant.principal,
        account_ref: grant.accountRef,
        permission_set_ref: grant.permissionSetRef,
        status: "approved",
        starts_at: grant.startsAt,
        expires_at: grant.expiresAt,
        duration_seconds: Math.round((grant.expiresAt.getTime() - grant.startsAt.getTime()) / 1000),
        reason: grant.reason,
        ticket: grant.ticket ?? null,
        approvers: JSON.stringify(grant.approvers),
        approver_sets: JSON.stringify(grant.approverSets),
        policy_rule: grant.policyRule ?? null,
        remind_before_seconds: grant.remindBeforeSeconds ?? null,
        aws_role_arn: grant.aws.roleArn ?? null,
        aws_region: grant.aws.region ?? null,
        instance_arn: grant.aws.instanceArn ?? null,
        identity_store_id: grant.aws.identityStoreId ?? null,
        ...(grant.breakGlass
          ? {
              break_glass_team: grant.breakGlass.team,
              break_glass_owners: JSON.stringify(grant.breakGlass.owners),
              break_glass_review_due_at: grant.breakGlass.reviewDueAt,
              break_glass_next_reminder_at: grant.breakGlass.reviewDueAt,
            }
          : {}),
      })
      .returning("id"),
  );
  return row!.id;
}

/**
 * The merge of an extension: the old grant stays active, marked superseded by the new one (which
 * names it back), until the new one is active (src/grants/extension-store.ts) or fails.
 */
async function markExtended(trx: Knex, old: GrantRow, extension: { id: string; prNumber: number; actor: string }): Promise<void> {
  await trx("grants").where({ id: old.id, status: "active" }).update({ superseded_by: extension.id, updated_at: trx.fn.now() });
  await trx("grants").where({ id: extension.id }).update({ extends_grant_id: old.id });
  await appendEvent(trx, eventRow(old, old.status, old.status), {
    type: "superseded",
    actor: extension.actor,
    reason: `extended by the merge of #${extension.prNumber}: the assignment stays in place while the new grant is provisioned`,
    details: { extension: true, extended_by: extension.id },
  });
}

/** Stores a policy once per distinct content; returns its key. */
async function keepPolicy(trx: Knex, content: string): Promise<string> {
  const sha256 = createHash("sha256").update(content).digest("hex");
  await trx("policy_snapshots").insert({ sha256, content }).onConflict("sha256").ignore();
  return sha256;
}

/** The policy a grant was judged under, or undefined for grants approved before it was kept. */
export async function policyOf(db: Knex, grant: Pick<GrantRow, "policy_sha256">): Promise<string | undefined> {
  if (!grant.policy_sha256) return undefined;
  const row = await rowsAs<{ content: string } | undefined>(db("policy_snapshots").where({ sha256: grant.policy_sha256 }).first("content"));
  return row?.content;
}

/** The channel workers LISTEN on: new work exists. Sent on commit, so it never announces a rollback. */
export const WORK_CHANNEL = "jitsudo_work";

export async function wakeWorkers(trx: Knex): Promise<void> {
  await trx.raw("select pg_notify(?, '')", [WORK_CHANNEL]);
}

export class StaleGrantError extends Error {
  constructor(id: string, expected: GrantStatus) {
    super(`grant ${id} is no longer ${expected}; another worker moved it first`);
    this.name = "StaleGrantError";
  }
}

/** Whether a GitHub account is the grant's requester: by user id when both are known (a login can be renamed and reused), else by login. */
export function isRequester(grant: Pick<GrantRow, "requester" | "requester_id">, login: string, id: number | undefined): boolean {
  if (grant.requester_id !== null && id !== undefined) return String(grant.requester_id) === String(id);
  return grant.requester.toLowerCase() === login.toLowerCase();
}

/** The grant as it was read: a move applies only if its status is still this one. */
export type MovingGrant = Pick<GrantRow, "id" | "status" | "tenant" | "repo" | "pr_number"> & Partial<Pick<GrantRow, "repository_id">>;

/**
 * Applies a move of the lifecycle if the grant is still in the status it was read in (and meets
 * `guard`, e.g. that this worker still holds its lease), appends its event, and wakes the workers
 * on commit if the move leaves them work. Throws StaleGrantError when someone else moved it first.
 */
export async function applyMove(
  trx: Knex,
  grant: MovingGrant,
  move: Move,
  /** Extra conditions the row must still meet. */
  guard: { lease_owner?: string | null } = {},
): Promise<void> {
  assertTransition(grant.status, move.to);
  const updated = await trx("grants")
    .where({ ...guard, id: grant.id, status: grant.status })
    .update({ ...columns(trx, move.changes), status: move.to, updated_at: trx.fn.now() });
  if (updated !== 1) throw new StaleGrantError(grant.id, grant.status);
  await appendEvent(trx, eventRow(grant, grant.status, move.to), move.event);
  if (move.wakesWorkers) await wakeWorkers(trx);
}

/** The changes as columns: a time the lifecycle leaves to the database is the database's clock. */
function columns(trx: Knex, changes: GrantChanges): Record<string, unknown> {
  return Object.fromEntries(Object.entries(changes).map(([column, value]) => [column, value === NOW ? trx.fn.now() : value]));
}

/** The columns of an event row that say whose it is and which statuses it was between. */
function eventRow(grant: MovingGrant, from: GrantStatus, to: GrantStatus): Record<string, unknown> {
  return {
    tenant: grant.tenant,
    repository_id: grant.repository_id ?? null,
    repo: grant.repo,
    pr_number: grant.pr_number,
    grant_id: grant.id,
    from_status: from,
    to_status: to,
  };
}

/** A note on a grant that is not a status change (a retried revoke, a resumed step), for the audit trail. */
export async function noteEvent(db: Knex, grant: MovingGrant, event: EventInput): Promise<void> {
  await appendEvent(db, eventRow(grant, grant.status, grant.status), event);
}

/**
 * Ends a grant early (see the lifecycle's `endEarly`); returns the status it reached. Its live
 * grants are locked by the caller's read (`forUpdate`).
 */
export async function endEarlyIn(
  trx: Knex,
  grant: GrantRow,
  event: EventInput,
  report: "merge-comment" | "command-reply",
  supersededBy?: string,
): Promise<GrantStatus> {
  const move = endEarly(grant, event, report, supersededBy);
  await applyMove(trx, grant, move);
  return move.to;
}

/**
 * Notifications need nothing here: a trigger on grant_events (migration 0010) puts every notifying
 * event, however it is inserted, into the notification outbox in this same transaction.
 */
export async function appendEvent(trx: Knex, row: Record<string, unknown>, event: EventInput): Promise<void> {
  await trx("grant_events").insert({
    ...row,
    type: event.type,
    actor: event.actor,
    reason: event.reason,
    details: JSON.stringify(event.details ?? {}),
  });
}

/** The live grants of the request files a merge deleted: they end early. */
async function endRemoved(trx: Knex, merge: MergeRecord): Promise<string[]> {
  const ended: string[] = [];
  for (const path of merge.revokedPaths) {
    for (const old of await liveGrantsForPath(trx, merge, path)) {
      await endEarlyIn(
        trx,
        old,
        { type: "revoke_requested", actor: merge.actor, reason: `request file deleted by #${merge.prNumber}` },
        "merge-comment",
      );
      ended.push(old.id);
    }
  }
  return ended;
}

async function liveGrantsForPath(
  trx: Knex,
  merge: Pick<MergeRecord, "tenant" | "repositoryId" | "repo">,
  path: string,
  exceptId?: string,
): Promise<GrantRow[]> {
  // By id only: a grant recorded before ids were kept is acted on once its repository adopted it.
  const query = trx("grants")
    .where({ tenant: merge.tenant, repository_id: merge.repositoryId, file_path: path })
    .whereIn("status", NOT_ENDED_STATUSES)
    .forUpdate();
  if (exceptId) query.whereNot({ id: exceptId });
  return (await query) as GrantRow[];
}

/**
 * Records of one repository, by GitHub's id: a renamed repository keeps its rows, and a new one that
 * takes the old name gets none of them. Records from before the id was kept are matched by name:
 * only for telling what was already judged (so nothing is judged twice), never to act on a grant.
 */
export function sameRepository(repository: { repositoryId: number | string; repo: string }): (query: Knex.QueryBuilder) => void {
  return (query) => {
    void query.where({ repository_id: repository.repositoryId }).orWhere((legacy) => {
      void legacy.whereNull("repository_id").andWhere({ repo: repository.repo });
    });
  };
}

/** By repository id: a name can move to another repository. */
export async function grantsOfPullRequest(db: Knex, repositoryId: number | string, prNumber: number): Promise<GrantRow[]> {
  return await rowsAs<GrantRow[]>(db("grants").where({ repository_id: repositoryId, pr_number: prNumber }).orderBy("file_path"));
}

export async function eventsOfPullRequest(db: Knex, repositoryId: number | string, prNumber: number) {
  return db("grant_events").where({ repository_id: repositoryId, pr_number: prNumber }).orderBy("id");
}

/**
 * Drift repair: sends an active grant whose assignment is gone back to provisioning, if it is
 * still active, unexpired and held by no worker (a worker holding it is already acting on it).
 */
export async function repairDriftedGrant(db: Knex, grantId: string, now: Date): Promise<GrantRow | undefined> {
  return db.transaction(async (trx) => {
    const grant = await rowsAs<GrantRow | undefined>(
      trx("grants").where({ id: grantId, status: "active" }).where("expires_at", ">", now).whereNull("lease_owner").forUpdate().first(),
    );
    if (!grant) return undefined;
    await applyMove(trx, grant, repairDrift(), { lease_owner: null });
    return grant;
  });
}

/** An event about a tenant rather than one grant (an unexpected assignment found by drift). */
export async function noteTenantEvent(
  db: Knex,
  tenant: { tenant: string | number; repositoryId: string | number; repo: string },
  event: EventInput,
): Promise<void> {
  await appendEvent(
    db,
    { tenant: tenant.tenant, repository_id: tenant.repositoryId, repo: tenant.repo, pr_number: null, grant_id: null },
    event,
  );
}

export interface AssignmentKey {
  instance_arn: string;
  account_id: string;
  permission_set_arn: string;
  principal_id: string;
}

/**
 * A grant that explains the assignment: active or being removed, or provisioning with a create
 * already sent; never one given up (its failure is being cleaned up, not granted).
 */
export async function grantClaimingAssignment(db: Knex, assignment: AssignmentKey): Promise<{ id: string } | undefined> {
  return await rowsAs<{ id: string } | undefined>(
    db("grants")
      .where(assignment)
      .whereNull("failure_reason")
      .where((query) => {
        void query.whereIn("status", ["active", "revoking"]).orWhere((creating) => {
          void creating.where({ status: "provisioning" }).whereNotNull("create_requested_at");
        });
      })
      .first("id"),
  );
}

/** Grants of an instance (every tenant's) that are live, or ended since `endedSince`, with their assignment resolved. */
export async function grantsThatMayHoldAssignments(db: Knex, instanceArn: string, endedSince: Date): Promise<GrantRow[]> {
  return await rowsAs<GrantRow[]>(
    db("grants")
      .where({ instance_arn: instanceArn })
      .whereNotNull("principal_id")
      .whereNotNull("account_id")
      .whereNotNull("permission_set_arn")
      .where((query) => {
        void query.whereIn("status", LIVE_STATUSES).orWhere("ended_at", ">=", endedSince);
      })
      .select(
        "id",
        "repository_id",
        "status",
        "account_id",
        "permission_set_arn",
        "principal_id",
        "active_at",
        "expires_at",
        "ended_at",
        "lease_owner",
        "create_requested_at",
        "failure_reason",
      ),
  );
}

/** Where a tenant's live grants were provisioned, as recorded on its newest live grant there. */
export interface LiveGrantTarget {
  tenant: string;
  repository_id: string;
  repo: string;
  instance_arn: string;
  aws_region: string | null;
  aws_role_arn: string | null;
  identity_store_id: string | null;
}

export async function liveGrantTargets(db: Knex): Promise<LiveGrantTarget[]> {
  const { rows } = await db.raw<{ rows: LiveGrantTarget[] }>(
    `select distinct on (repository_id, instance_arn) tenant::text as tenant, repository_id::text as repository_id, repo, instance_arn, aws_region, aws_role_arn, identity_store_id
     from grants
     where repository_id is not null and instance_arn is not null and status in (${LIVE_STATUSES.map(() => "?").join(", ")})
     order by repository_id, instance_arn, created_at desc`,
    [...LIVE_STATUSES],
  );
  return rows;
}

/** A pull request's grants that still mean access now or later, by repository id (a name can move). */
export async function notEndedGrantsOfPullRequest(
  db: Knex,
  repositoryId: number | string,
  prNumber: number,
  tenant: number,
): Promise<GrantRow[]> {
  return await rowsAs<GrantRow[]>(
    db("grants").where({ tenant, repository_id: repositoryId, pr_number: prNumber }).whereIn("status", NOT_ENDED_STATUSES),
  );
}

/**
 * `/jitsudo revoke`: ends each grant early that has not ended by the time it is read again under
 * lock (a worker may have moved it since); returns the grants ended and the status each reached.
 */
export async function endEarlyByCommand(
  db: Knex,
  grants: readonly GrantRow[],
  event: EventInput,
): Promise<{ grant: GrantRow; to: GrantStatus }[]> {
  return db.transaction(async (trx) => {
    const results: { grant: GrantRow; to: GrantStatus }[] = [];
    for (const grant of grants) {
      const current = await rowsAs<GrantRow | undefined>(trx("grants").where({ id: grant.id }).forUpdate().first());
      if (!current || !NOT_ENDED_STATUSES.includes(current.status)) continue;
      results.push({ grant: current, to: await endEarlyIn(trx, current, event, "command-reply") });
    }
    return results;
  });
}

/** Merges whose not-ended grants were recorded before repository ids were kept (see legacy-grants.ts). */
export async function legacyGrantMerges(db: Knex, tenant: number): Promise<{ pr_number: number; merge_commit_sha: string }[]> {
  // A partial index keeps this cheap: once every old grant is adopted or ended, it finds nothing.
  return await rowsAs<{ pr_number: number; merge_commit_sha: string }[]>(
    db("grants")
      .where({ tenant })
      .whereNull("repository_id")
      .whereIn("status", NOT_ENDED_STATUSES)
      .distinct("pr_number", "merge_commit_sha"),
  );
}

/** Gives a legacy merge's grants and verdict the repository GitHub proved is theirs; returns how many grants. */
export async function adoptLegacyMerge(
  db: Knex,
  merge: { tenant: number; prNumber: number; mergeCommitSha: string },
  repositoryId: number,
): Promise<number> {
  const key = { tenant: merge.tenant, pr_number: merge.prNumber, merge_commit_sha: merge.mergeCommitSha, repository_id: null };
  const adopted = await db("grants").where(key).update({ repository_id: repositoryId });
  await db("merge_verdicts").where(key).update({ repository_id: repositoryId });
  return adopted;
}

/** The columns the operator API shows of a grant (nothing internal to the workers). */
const API_COLUMNS = [
  "id",
  "tenant",
  "repo",
  "pr_number",
  "file_path",
  "blob_sha",
  "merge_commit_sha",
  "requester",
  "principal",
  "principal_id",
  "account_ref",
  "account_id",
  "permission_set_ref",
  "permission_set_arn",
  "instance_arn",
  "status",
  "starts_at",
  "expires_at",
  "active_at",
  "ended_at",
  "reason",
  "ticket",
  "approvers",
  "last_error",
  "created_at",
  "updated_at",
  "break_glass_team",
  "break_glass_review_due_at",
  "break_glass_reviewed_at",
  "break_glass_reviewed_by",
  "session_duration_seconds",
];

/** What `accessEndsBy` reads besides the columns shown. */
const ACCESS_END_COLUMNS = ["create_requested_at"];

/**
 * A grant as the API shows it: its columns, and `access_ends_by` (the assignment's end plus the
 * permission set's session duration; null when unknown, see access-end.ts).
 */
function forApi(row: Record<string, unknown>): Record<string, unknown> {
  const { create_requested_at: _createRequestedAt, ...shown } = row;
  return { ...shown, access_ends_by: accessEndsBy(row as unknown as AccessEndFacts) };
}

export interface GrantFilter {
  status?: GrantStatus;
  /** An account id or the name the request used. */
  account?: string;
  repo?: string;
  /** Only break-glass grants no code owner has reviewed yet. */
  unreviewed?: boolean;
}

/** Grants for the operator API, newest first. */
export async function findGrants(db: Knex, filter: GrantFilter, limit: number): Promise<Record<string, unknown>[]> {
  const query = db("grants")
    .select([...API_COLUMNS, ...ACCESS_END_COLUMNS])
    .orderBy("created_at", "desc");
  if (filter.status !== undefined) void query.where({ status: filter.status });
  const account = filter.account;
  if (account !== undefined)
    void query.where((where) => {
      void where.where({ account_id: account }).orWhere({ account_ref: account });
    });
  if (filter.repo !== undefined) void query.where({ repo: filter.repo });
  if (filter.unreviewed) void query.whereNotNull("break_glass_team").whereNull("break_glass_reviewed_at");
  return ((await query.limit(limit)) as Record<string, unknown>[]).map(forApi);
}

export async function grantForApi(db: Knex, id: string): Promise<Record<string, unknown> | undefined> {
  const row = await rowsAs<Record<string, unknown> | undefined>(
    db("grants")
      .select([...API_COLUMNS, ...ACCESS_END_COLUMNS])
      .where({ id })
      .first(),
  );
  return row ? forApi(row) : undefined;
}

/** A grant's audit trail, oldest first. */
export async function eventsOfGrant(db: Knex, id: string): Promise<Record<string, unknown>[]> {
  return await rowsAs<Record<string, unknown>[]>(
    db("grant_events")
      .where({ grant_id: id })
      .orderBy("id")
      .select("id", "type", "from_status", "to_status", "actor", "reason", "details", "created_at"),
  );
}

export async function grantCountsByStatus(db: Knex): Promise<Map<string, number>> {
  const rows = await rowsAs<{ status: string; n: string }[]>(db("grants").select("status").count({ n: "*" }).groupBy("status"));
  return new Map(rows.map((row) => [row.status, Number(row.n)]));
}

/**
 * For each of `statuses`, how long (seconds, by the database's clock) the grant that entered it
 * longest ago has been in it: since its latest event that moved it into that status (notes written
 * while it stays, such as each failed revoke retry, do not count). A grant
 * stuck in `provisioning` or `revoking` shows here long before anyone reads its PR.
 */
export async function oldestInStatus(db: Knex, statuses: readonly GrantStatus[]): Promise<Map<string, number>> {
  const { rows } = await db.raw<{ rows: { status: string; seconds: string | number }[] }>(
    `select g.status, max(extract(epoch from now() - entered.at)) as seconds
       from grants g
       cross join lateral (
         select e.created_at as at from grant_events e
          where e.grant_id = g.id and e.to_status = g.status
            -- A note (a failed retry, a freed lease) stays in the status: it must not restart the clock.
            and e.from_status is distinct from e.to_status
          order by e.id desc limit 1
       ) entered
      where g.status in (${statuses.map(() => "?").join(", ")})
      group by g.status`,
    [...statuses],
  );
  return new Map(rows.map((row) => [row.status, Number(row.seconds)]));
}

/**
 * A pull request's grants for its status comment, by repository id (by name only for a repository
 * recorded before ids were kept), with when drift last repaired each.
 */
export async function grantsForReport(
  db: Knex,
  target: { tenant: number | string; repositoryId: number | string | null; repo: string; prNumber: number },
): Promise<{ grants: GrantRow[]; repairs: { grant_id: string; created_at: Date }[] }> {
  const ofRepository = target.repositoryId === null ? { repository_id: null, repo: target.repo } : { repository_id: target.repositoryId };
  const grants = await rowsAs<GrantRow[]>(
    db("grants")
      .where({ tenant: target.tenant, pr_number: target.prNumber, ...ofRepository })
      .orderBy("file_path"),
  );
  if (grants.length === 0) return { grants, repairs: [] };
  const repairs = await rowsAs<{ grant_id: string; created_at: Date }[]>(
    db("grant_events")
      .whereIn(
        "grant_id",
        grants.map((grant) => grant.id),
      )
      .where({ type: "drift_repaired" })
      .select("grant_id", "created_at"),
  );
  return { grants, repairs };
}

/**
 * Records, once, that request files were pushed to the default branch without a pull request (a
 * redelivered push, or two replicas receiving it, record nothing more); true if recorded now.
 */
export async function recordDirectPush(
  db: Knex,
  push: { tenant: number; repositoryId: number; repo: string; after: string; pusher: string },
  reason: string,
  details: Record<string, unknown>,
): Promise<boolean> {
  const key = { tenant: push.tenant, repository_id: push.repositoryId, type: "direct_push" };
  return db.transaction(async (trx) => {
    await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:direct-push'), hashtext(?))", [push.after]);
    if (await trx("grant_events").where(key).whereRaw("details->>'after' = ?", [push.after]).first()) return false;
    await trx("grant_events").insert({
      ...key,
      repo: push.repo,
      actor: push.pusher,
      reason,
      details: JSON.stringify(details),
    });
    return true;
  });
}
