/**
 * A grant event as the audit trail gives it out (GET /api/events, `jitsudo audit export`): the
 * event, its grant's facts as they were at the event (copied into the row when it was written, see
 * migration 0013), and its link in the tenant's hash chain. One flat record: an auditor or a SIEM
 * needs nothing else to read it. Pure.
 */
import { pullRequestUrl } from "../notifications/events.js";

/** As the database gives it: ids as strings (bigint), times as ISO 8601 text in UTC with microseconds. */
export interface AuditRow {
  /** Commit order across tenants, without gaps: the cursor. Null only for an event outside the chain (written with triggers off). */
  seq: string | null;
  created_at: string;
  /** GitHub App installation id. */
  tenant: string;
  /** Position in the tenant's hash chain, from 1. */
  tenant_seq: string | null;
  id: string;
  type: string;
  grant_id: string | null;
  repo: string;
  repository_id: string | null;
  pr_number: number | null;
  actor: string;
  from_status: string | null;
  to_status: string | null;
  reason: string;
  requester: string | null;
  principal: string | null;
  principal_id: string | null;
  account_ref: string | null;
  account_id: string | null;
  permission_set_ref: string | null;
  permission_set_arn: string | null;
  instance_arn: string | null;
  /** Index of the policy rule that allowed the grant, in the policy `policy_sha256` names. */
  policy_rule: number | null;
  policy_sha256: string | null;
  approvers: string[] | null;
  merge_commit_sha: string | null;
  file_path: string | null;
  /** The request's own reason (`reason` is the event's). */
  request_reason: string | null;
  ticket: string | null;
  break_glass_team: string | null;
  aws_request_ids: string[];
  starts_at: string | null;
  expires_at: string | null;
  active_at: string | null;
  ended_at: string | null;
  details: Record<string, unknown>;
  prev_hash: string | null;
  hash: string | null;
}

export type AuditEvent = AuditRow & { pr_url: string | null };

/** Every field, in the order exports write them. */
export const AUDIT_COLUMNS = [
  "seq",
  "created_at",
  "tenant",
  "tenant_seq",
  "id",
  "type",
  "grant_id",
  "repo",
  "repository_id",
  "pr_number",
  "pr_url",
  "actor",
  "from_status",
  "to_status",
  "reason",
  "requester",
  "principal",
  "principal_id",
  "account_ref",
  "account_id",
  "permission_set_ref",
  "permission_set_arn",
  "instance_arn",
  "policy_rule",
  "policy_sha256",
  "approvers",
  "merge_commit_sha",
  "file_path",
  "request_reason",
  "ticket",
  "break_glass_team",
  "aws_request_ids",
  "starts_at",
  "expires_at",
  "active_at",
  "ended_at",
  "details",
  "prev_hash",
  "hash",
] as const satisfies readonly (keyof AuditEvent)[];

/**
 * The event with its pull request's address, beside its number. The address is built from the
 * repository and number the row carries, on the GitHub the deployment names now (GHE_HOST).
 */
export function auditEvent(row: AuditRow, webBaseUrl: string): AuditEvent {
  const { seq, created_at, tenant, tenant_seq, id, type, grant_id, repo, repository_id, pr_number, ...rest } = row;
  const pr_url = pr_number === null ? null : pullRequestUrl(webBaseUrl, repo, pr_number);
  return { seq, created_at, tenant, tenant_seq, id, type, grant_id, repo, repository_id, pr_number, pr_url, ...rest };
}
