/**
 * Grant rows written straight into the database, for benchmarks that start from many grants
 * already provisioned (or long ended) rather than merging each one.
 */
import { IDENTITY_STORE_ID, INSTANCE_ARN } from "../../test/support/aws-world.js";

export interface StoredGrant {
  index: number;
  principal: string;
  principalId: string;
  accountId: string;
  permissionSetArn: string;
  status: "active" | "revoked" | "expired";
  startsAt: Date;
  expiresAt: Date;
  endedAt?: Date;
  roleArn?: string;
}

export function grantRow(grant: StoredGrant) {
  return {
    tenant: 1,
    repository_id: 424242,
    repo: "acme/access",
    pr_number: 1 + grant.index,
    file_path: `access-requests/bench-${grant.index}.yaml`,
    blob_sha: "b".repeat(40),
    merge_commit_sha: grant.index.toString(16).padStart(40, "0"),
    requester: grant.principal.split("@")[0],
    principal: grant.principal,
    principal_id: grant.principalId,
    account_ref: grant.accountId,
    account_id: grant.accountId,
    permission_set_ref: grant.permissionSetArn,
    permission_set_arn: grant.permissionSetArn,
    instance_arn: INSTANCE_ARN,
    aws_role_arn: grant.roleArn ?? null,
    aws_region: "us-east-1",
    identity_store_id: IDENTITY_STORE_ID,
    status: grant.status,
    starts_at: grant.startsAt,
    active_at: grant.startsAt,
    // As every grant that became active has: judged again on canonical ids, then created.
    policy_rechecked_at: grant.startsAt,
    create_requested_at: grant.startsAt,
    expires_at: grant.expiresAt,
    ended_at: grant.endedAt ?? null,
    duration_seconds: Math.round((grant.expiresAt.getTime() - grant.startsAt.getTime()) / 1000),
    reason: "Investigate the latency alarms of the payments service in production",
    approvers: JSON.stringify(["bob"]),
  };
}
