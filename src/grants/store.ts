/**
 * Grants and their events in PostgreSQL. Every status change goes through `transition`, which
 * checks the state machine, updates only if the row is still in the status it was read in (so two
 * replicas cannot both move it), and appends the event in the same transaction.
 */
import { createHash } from "node:crypto";
import type { Knex } from "knex";
import { assertTransition, type GrantStatus } from "./state-machine.js";

export type EventType =
  | "approved"
  | "rejected"
  | "ignored"
  | "direct_push"
  | "superseded"
  | "revoke_requested"
  | "provisioning"
  | "active"
  | "failed"
  | "revoking"
  | "revoked"
  | "revoke_failed"
  | "expired"
  | "drift_repaired"
  | "drift_unexpected"
  | "drift_resumed";

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
  approver_sets: { path: string; approvers: string[] }[] | null;
  policy_rule: number | null;
  policy_sha256: string | null;
  policy_rechecked_at: Date | null;
  superseded_by: string | null;
  aws_role_arn: string | null;
  aws_region: string | null;
  identity_store_id: string | null;
  aws_request_id: string | null;
  operation: "create" | "delete" | null;
  operation_started_at: Date | null;
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
  /** Who counted for each set of owners that had to approve (the path; for a rename, the old path too). */
  approverSets: { path: string; approvers: string[] }[];
  policyRule?: number;
  /** The tenant's AWS settings at the base; unset ones fall back to the deployment's at provisioning. */
  aws: { roleArn?: string; region?: string; instanceArn?: string; identityStoreId?: string };
}

export interface EventInput {
  type: EventType;
  actor: string;
  reason: string;
  details?: Record<string, unknown>;
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

/** Statuses in which a grant still means access now or later. */
const NOT_ENDED: GrantStatus[] = ["approved", "provisioning", "active"];

/**
 * Records the verdict on one merge, exactly once: the merge_verdicts primary key makes a second
 * delivery of the same merge a no-op, whatever replica receives it.
 */
export async function recordMerge(db: Knex, merge: MergeRecord): Promise<MergeOutcome> {
  return db.transaction(async (trx) => {
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
    if (inserted.length === 0) return { recorded: false, grantIds: [], endedGrantIds: [] };

    const base = { tenant: merge.tenant, repository_id: merge.repositoryId, repo: merge.repo, pr_number: merge.prNumber };
    if (merge.verdict !== "approved") {
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

    const policySha256 = merge.policy === undefined ? null : await keepPolicy(trx, merge.policy);
    const grantIds: string[] = [];
    const endedGrantIds: string[] = [];
    for (const grant of merge.grants) {
      const [row] = await trx("grants")
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
          aws_role_arn: grant.aws.roleArn ?? null,
          aws_region: grant.aws.region ?? null,
          instance_arn: grant.aws.instanceArn ?? null,
          identity_store_id: grant.aws.identityStoreId ?? null,
        })
        .returning("id");
      const id = (row as { id: string }).id;
      grantIds.push(id);
      await appendEvent(
        trx,
        { ...base, grant_id: id, to_status: "approved" },
        {
          type: "approved",
          actor: merge.actor,
          reason: `approved by ${grant.approvers.map((login) => `@${login}`).join(", ")}`,
          details: { ...merge.details, approvers: grant.approvers, blob_sha: grant.blobSha, merge_commit_sha: merge.mergeCommitSha },
        },
      );
      // An edited request replaces the grant of the same file: the old one ends, now that the new one is approved.
      for (const old of await liveGrantsForPath(trx, merge, grant.filePath, id)) {
        await endGrant(trx, old, { type: "superseded", actor: merge.actor, reason: `superseded by the merge of #${merge.prNumber}` }, id);
        endedGrantIds.push(old.id);
      }
    }
    endedGrantIds.push(...(await endRemoved(trx, merge)));
    if (grantIds.length + endedGrantIds.length > 0) await wakeWorkers(trx);
    return { recorded: true, grantIds, endedGrantIds };
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
  const row = (await db("policy_snapshots").where({ sha256: grant.policy_sha256 }).first("content")) as { content: string } | undefined;
  return row?.content;
}

/**
 * Ends a grant early: one that never started is revoked at once (nothing was assigned); one that
 * is or may be assigned goes to `revoking`, for the revoke job to remove the assignment.
 */
export async function endGrant(trx: Knex, grant: GrantRow, event: EventInput, supersededBy?: string): Promise<GrantStatus> {
  const to: GrantStatus = grant.status === "approved" ? "revoked" : "revoking";
  await transition(trx, grant, to, event, {
    ...(supersededBy ? { superseded_by: supersededBy } : {}),
    ...(to === "revoked" ? { ended_at: trx.fn.now() } : { next_attempt_at: null, attempts: 0 }),
  });
  await wakeWorkers(trx);
  return to;
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

/** Moves a grant to `to` if it is still in the status it was read in, and appends the event. */
export async function transition(
  trx: Knex,
  grant: Pick<GrantRow, "id" | "status" | "tenant" | "repo" | "pr_number"> & Partial<Pick<GrantRow, "repository_id">>,
  to: GrantStatus,
  event: EventInput,
  changes: Record<string, unknown> = {},
  /** Extra conditions the row must still meet, e.g. that this worker still holds its lease. */
  guard: Record<string, unknown> = {},
): Promise<void> {
  assertTransition(grant.status, to);
  const updated = await trx("grants")
    .where({ ...guard, id: grant.id, status: grant.status })
    .update({ ...changes, status: to, updated_at: trx.fn.now() });
  if (updated !== 1) throw new StaleGrantError(grant.id, grant.status);
  await appendEvent(
    trx,
    {
      tenant: grant.tenant,
      repository_id: grant.repository_id ?? null,
      repo: grant.repo,
      pr_number: grant.pr_number,
      grant_id: grant.id,
      from_status: grant.status,
      to_status: to,
    },
    event,
  );
}

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
      await endGrant(trx, old, { type: "revoke_requested", actor: merge.actor, reason: `request file deleted by #${merge.prNumber}` });
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
    .whereIn("status", NOT_ENDED)
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
  return (await db("grants").where({ repository_id: repositoryId, pr_number: prNumber }).orderBy("file_path")) as GrantRow[];
}

export async function eventsOfPullRequest(db: Knex, repositoryId: number | string, prNumber: number) {
  return db("grant_events").where({ repository_id: repositoryId, pr_number: prNumber }).orderBy("id");
}
