/**
 * Which tenants drift sweeps, and which permission sets each one manages on its instance.
 *
 * A tenant manages only the permission sets its config lists in `drift.managed_permission_sets`,
 * never sets inferred from rules or grants; and it claims them on the instance only once its own
 * role has read each of them there. A set is managed by one tenant per instance: a later claim by
 * another is refused (logged, and reported by the sweep), so nobody can switch another tenant's
 * removal off, or remove what another tenant keeps, by listing its sets.
 */
import type { IdentityCenter } from "../../aws/identity-center.js";
import { tenantSnapshots } from "../../config/tenant-snapshots.js";
import { liveGrantTargets } from "../../grants/grant-repository.js";
import type { JobContext } from "../context.js";
import { claimsToRelease, planTenantSweeps, type SweepPlan, type TenantScope } from "../drift-plan.js";
import type { SweepReport } from "./report.js";
import { allClaims, claimSets, claimsOf, endClaim, type Claim } from "./repository.js";

type ClaimContext = Pick<JobContext, "db" | "now" | "log">;

/** Each tenant's sweep: its config as last merged, or (for an instance its config left) its live grants. */
export async function tenantsToSweep(ctx: Pick<JobContext, "db" | "defaults">): Promise<SweepPlan> {
  const snapshots = await tenantSnapshots(ctx.db);
  const rows = await liveGrantTargets(ctx.db);
  return planTenantSweeps(snapshots, rows, ctx.defaults);
}

/** Claims of tenants whose config no longer brings them to the claim's instance end (see claimsToRelease). */
export async function releaseClaims(ctx: ClaimContext, plan: Pick<SweepPlan, "scopes" | "configured">): Promise<void> {
  for (const claim of claimsToRelease(await allClaims(ctx.db), plan)) await giveUp(ctx, claim);
}

/**
 * The permission sets this tenant manages on the instance: each one it lists that its own role
 * can read there, and that no other tenant claimed first. Reading each through the tenant's own
 * session (not from a cache another tenant's role filled) is the proof that the config may
 * count for this instance at all.
 */
export async function claimManagedSets(ctx: JobContext, scope: TenantScope, ic: IdentityCenter, report: SweepReport): Promise<Set<string>> {
  if (scope.declared.length === 0) {
    await releaseOwnClaims(ctx, scope, ic.instanceArn, new Set());
    return new Set();
  }
  const proven = await readDeclaredSets(ctx, scope, ic, report);
  // Sets this tenant no longer lists (by ARN: a respelling is the same set) are given up first.
  await releaseOwnClaims(ctx, scope, ic.instanceArn, new Set(proven.map((set) => set.arn)));
  const tenant = { instanceArn: ic.instanceArn, repositoryId: scope.repositoryId, tenant: scope.tenant };
  const { mine, refused } = await claimSets(ctx.db, tenant, proven, ctx.now());
  report.refusedClaims.push(...refused);
  if (report.refusedClaims.length > 0) {
    ctx.log.warn(
      { instanceArn: ic.instanceArn, repositoryId: scope.repositoryId, repo: scope.repo, refused: report.refusedClaims },
      "drift: permission sets this tenant lists as managed are managed by another tenant on this instance; they are left to that tenant (the owner, or the platform team, must give them up first)",
    );
  }
  return mine;
}

/** Each set the tenant lists, read through its own role: the ones the instance has, with their ARNs. */
async function readDeclaredSets(
  ctx: JobContext,
  scope: TenantScope,
  ic: IdentityCenter,
  report: SweepReport,
): Promise<{ arn: string; declaredAs: string }[]> {
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
  return proven;
}

/** This tenant's claims on the instance for sets it no longer lists (`keep`: the ARNs it still does). */
async function releaseOwnClaims(ctx: ClaimContext, scope: TenantScope, instanceArn: string, keep: ReadonlySet<string>): Promise<void> {
  for (const claim of await claimsOf(ctx.db, { instanceArn, repositoryId: scope.repositoryId }))
    if (!keep.has(claim.permission_set_arn)) await giveUp(ctx, claim);
}

/** A claim ends, and so do the open findings made under it. */
async function giveUp(ctx: ClaimContext, claim: Claim): Promise<void> {
  await endClaim(ctx.db, claim, ctx.now());
  ctx.log.info(
    { instanceArn: claim.instance_arn, permissionSet: claim.permission_set_arn, repositoryId: claim.repository_id },
    "drift: a tenant no longer manages a permission set; another tenant may claim it",
  );
}
