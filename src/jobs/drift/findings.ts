/**
 * What drift does about one look at AWS (one list of assignments), in a tenant's sweep:
 *
 * - an active grant of this tenant whose assignment is gone (deleted outside jitsudo): it goes back
 *   to `provisioning` (event `drift_repaired`, said on its PR) and the provisioner creates it again;
 * - an assignment of a permission set this tenant manages that no grant (of any tenant) explains:
 *   recorded once as a finding (event `drift_unexpected`, metric) and, when this tenant's config
 *   says `drift.unexpected: remove`, deleted. Never assignments of other permission sets; never
 *   group assignments unless the config includes groups;
 * - this tenant's findings in the scope that are no longer there are resolved.
 */
import { rawAwsError } from "../../aws/errors.js";
import type { Assignment, IdentityCenter } from "../../aws/identity-center.js";
import { grantClaimingAssignment, noteTenantEvent, repairDriftedGrant } from "../../grants/grant-repository.js";
import { JITSUDO, repairDrift } from "../../grants/lifecycle.js";
import type { JobContext } from "../context.js";
import { compare, type DriftGrant, type Scope, type TenantScope } from "../drift-plan.js";
import { reportMove } from "../steps.js";
import type { SweepReport } from "./report.js";
import { recordFinding, resolveFindings, type FindingKey } from "./repository.js";

/** One look, as the sweep took it: what it looked at, when, and what AWS listed. */
export interface Look {
  target: Scope;
  observed: Assignment[];
  lookedAt: Date;
}

/** The tenant's side of a sweep: who, on which instance (as its role sees it), managing which sets. */
export interface SweepSide {
  scope: TenantScope;
  ic: IdentityCenter;
  managed: ReadonlySet<string>;
}

/** Acts on one look: repairs, flags or removes, and resolves the findings it no longer sees. */
export async function actOnLook(ctx: JobContext, side: SweepSide, look: Look, grants: DriftGrant[], report: SweepReport): Promise<void> {
  const { scope, managed } = side;
  // Any tenant's live grant explains an assignment; only this tenant's own grants are repaired by it.
  const findings = compare(look.target, look.observed, grants, {
    managed,
    includeGroups: scope.includeGroups,
    lookedAt: look.lookedAt,
    settleMs: ctx.settings.pollTimeoutMs * 2,
    listSettleMs: ctx.settings.listSettleMs,
  });
  for (const grant of findings.missing) {
    if (grant.repositoryId === scope.repositoryId && (await repair(ctx, grant.id))) report.missing += 1;
  }
  for (const assignment of findings.unexpected) {
    report.unexpected += 1;
    await unexpected(ctx, side, assignment, report);
  }
  const tenant = { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId };
  await resolveFindings(ctx.db, tenant, look.target, managed, findings.unexpected, look.lookedAt);
}

/** Sends an active grant whose assignment is gone back to provisioning; the provisioner re-creates it. */
async function repair(ctx: JobContext, grantId: string): Promise<boolean> {
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

/** Records an unexpected assignment (once), and removes it if the tenant says so and it has settled. */
async function unexpected(ctx: JobContext, side: SweepSide, assignment: Assignment, report: SweepReport): Promise<void> {
  const { scope } = side;
  const now = ctx.now();
  const row: FindingKey = {
    instance_arn: scope.target.instanceArn,
    account_id: assignment.accountId,
    permission_set_arn: assignment.permissionSetArn,
    principal_type: assignment.principalType,
    principal_id: assignment.principalId,
  };
  const action = scope.remove ? "removed" : "flagged";
  // Recorded once: a finding still there next sweep is only marked as still seen.
  const { fresh, firstSeenAt } = await recordFinding(ctx.db, row, { repositoryId: scope.repositoryId, action }, now);
  if (fresh) await announce(ctx, scope, assignment, row, action);
  if (!scope.remove) return;
  // Lists lag behind operations: remove only what an earlier sweep, long enough ago, saw too.
  if (ctx.settings.listSettleMs > 0 && now.getTime() - firstSeenAt.getTime() < ctx.settings.listSettleMs) return;
  await remove(ctx, side.ic, assignment, row, fresh, report);
}

/** A new finding: its metric, a warning, and the tenant's event. */
async function announce(ctx: JobContext, scope: TenantScope, assignment: Assignment, row: FindingKey, action: string): Promise<void> {
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

/** Deletes an unexpected assignment, unless a grant claimed it since the list was taken. */
async function remove(
  ctx: JobContext,
  ic: IdentityCenter,
  assignment: Assignment,
  row: FindingKey,
  fresh: boolean,
  report: SweepReport,
): Promise<void> {
  // A grant may have claimed this very assignment since the list was taken: then it is explained
  // (by the same rule as `explainsAssignment`).
  const claimed = await grantClaimingAssignment(ctx.db, {
    instance_arn: row.instance_arn,
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
