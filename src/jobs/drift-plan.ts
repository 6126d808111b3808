/**
 * The decisions of drift reconciliation, pure: what to look at this cycle, and what a look found.
 * `drift.ts` and the files in `drift/` do the I/O around them.
 */
import { resolveTarget, type AwsDefaults, type AwsTarget } from "../aws/connections.js";
import type { Assignment, PrincipalType } from "../aws/identity-center.js";
import type { TenantSnapshot } from "../config/tenant-snapshots.js";
import type { LiveGrantTarget } from "../grants/grant-repository.js";
import type { GrantStatus } from "../grants/lifecycle.js";

/** A grant as drift sees it: resolved ids, and whether it currently needs or may have its assignment. */
export interface DriftGrant {
  id: string;
  /** The tenant (access repository) it belongs to; null for grants recorded before ids were kept. */
  repositoryId: string | null;
  status: GrantStatus;
  accountId: string;
  permissionSetArn: string;
  principalId: string;
  /** When AWS confirmed the assignment (active grants). */
  activeAt: Date | null;
  /** A grant past its end is the revoker's, never re-created. */
  expiresAt: Date;
  /** Ended (revoked, expired) at: an assignment removed just now may still show in a list taken a moment ago. */
  endedAt: Date | null;
  /** A worker is carrying a step of it right now: not drift's to touch. */
  held: boolean;
  /** A create of its assignment was (or was about to be) sent. */
  createSent: boolean;
  /** Provisioning was given up (AWS refused, or the window passed): it holds no access of its own. */
  failed: boolean;
}

/**
 * Whether a grant accounts for its assignment being there: active, being created, or being
 * removed after it was granted. A grant given up while provisioning (AWS refused its create, say,
 * and it waits in `revoking` for a delete that may be refused too) explains nothing: otherwise any
 * tenant could shield an assignment in another tenant's managed set with a request AWS refuses.
 */
export function explainsAssignment(grant: Pick<DriftGrant, "status" | "createSent" | "failed">): boolean {
  if (grant.failed) return false;
  return grant.status === "active" || grant.status === "revoking" || (grant.status === "provisioning" && grant.createSent);
}

/** What one list call looks at: all assignments of a principal, or of a permission set in an account. */
export type Scope = { kind: "principal"; principalId: string } | { kind: "pair"; accountId: string; permissionSetArn: string };

export interface Findings {
  /** Active grants whose assignment is gone: re-create them. */
  missing: DriftGrant[];
  /** Assignments of managed permission sets that no grant explains. */
  unexpected: Assignment[];
}

export interface CompareOptions {
  /** Permission set ARNs jitsudo manages; assignments of any other set are never drift's business. */
  managed: ReadonlySet<string>;
  includeGroups: boolean;
  /** When the list was taken: only grants confirmed before it can be missing from it. */
  lookedAt: Date;
  /** Grants that ended within this long before the look still explain their assignment. */
  settleMs: number;
  /** How far lists may lag: a grant confirmed less than this before the look may not show in it yet. */
  listSettleMs?: number;
}

const key = (accountId: string, permissionSetArn: string, principalId: string) => `${accountId}|${permissionSetArn}|${principalId}`;

function inScope(scope: Scope, grant: Pick<DriftGrant, "accountId" | "permissionSetArn" | "principalId">): boolean {
  return scope.kind === "principal"
    ? grant.principalId === scope.principalId
    : grant.accountId === scope.accountId && grant.permissionSetArn === scope.permissionSetArn;
}

/** Compares what AWS holds in one scope with the grants that should (or may) account for it. */
export function compare(scope: Scope, observed: readonly Assignment[], grants: readonly DriftGrant[], options: CompareOptions): Findings {
  const present = new Set(observed.map((assignment) => key(assignment.accountId, assignment.permissionSetArn, assignment.principalId)));
  const relevant = grants.filter((grant) => inScope(scope, grant));
  const missing = relevant.filter(
    (grant) =>
      grant.status === "active" &&
      !grant.held &&
      grant.activeAt !== null &&
      grant.activeAt.getTime() <= options.lookedAt.getTime() - (options.listSettleMs ?? 0) &&
      grant.expiresAt > options.lookedAt &&
      !present.has(key(grant.accountId, grant.permissionSetArn, grant.principalId)),
  );
  const settledBefore = options.lookedAt.getTime() - options.settleMs;
  const explained = new Set(
    relevant
      .filter((grant) => explainsAssignment(grant) || (endedJustNow(grant, settledBefore) && grant.createSent && !grant.failed))
      .map((grant) => key(grant.accountId, grant.permissionSetArn, grant.principalId)),
  );
  const unexpected = observed.filter(
    (assignment) =>
      options.managed.has(assignment.permissionSetArn) &&
      (assignment.principalType === "USER" || (options.includeGroups && assignment.principalType === ("GROUP" satisfies PrincipalType))) &&
      !explained.has(key(assignment.accountId, assignment.permissionSetArn, assignment.principalId)),
  );
  return { missing, unexpected };
}

/** Ended (revoked, expired) so recently that a list taken a moment ago may still show its removed assignment. */
function endedJustNow(grant: DriftGrant, settledBefore: number): boolean {
  return grant.endedAt !== null && grant.endedAt.getTime() >= settledBefore;
}

/**
 * The list calls that look at every live grant: one per principal or one per (account,
 * permission set), whichever needs fewer. Least recently checked first, so a budget that cannot
 * cover all of them this cycle covers the rest next cycle.
 */
export function liveGrantScopes(grants: readonly DriftGrant[], lastChecked: ReadonlyMap<string, number> = new Map()): Scope[] {
  const live = grants.filter((grant) => grant.status === "active" || grant.status === "provisioning");
  const principals = new Map<string, Scope>();
  const pairs = new Map<string, Scope>();
  for (const grant of live) {
    principals.set(grant.principalId, { kind: "principal", principalId: grant.principalId });
    pairs.set(`${grant.accountId}|${grant.permissionSetArn}`, {
      kind: "pair",
      accountId: grant.accountId,
      permissionSetArn: grant.permissionSetArn,
    });
  }
  const scopes = [...(principals.size <= pairs.size ? principals.values() : pairs.values())];
  return scopes.sort((a, b) => (lastChecked.get(scopeKey(a)) ?? 0) - (lastChecked.get(scopeKey(b)) ?? 0));
}

export function scopeKey(scope: Scope): string {
  return scope.kind === "principal" ? `principal:${scope.principalId}` : `pair:${scope.accountId}|${scope.permissionSetArn}`;
}

/** The next slice of the full sweep of (account, permission set) pairs, wrapping around at the end. */
export function nextSlice<T>(items: readonly T[], position: number, count: number): { slice: T[]; next: number; wrapped: boolean } {
  if (items.length === 0 || count <= 0) return { slice: [], next: 0, wrapped: items.length === 0 };
  const start = position >= items.length ? 0 : position;
  const slice = items.slice(start, start + count);
  const next = start + slice.length;
  return { slice, next: next >= items.length ? 0 : next, wrapped: next >= items.length };
}

/**
 * One tenant's drift on one instance: an access repository, reached through its own role, acting
 * on its own grants and on the permission sets it declares managed, in its own mode.
 */
export interface TenantScope {
  /** GitHub installation id. */
  tenant: string;
  repositoryId: string;
  /** The repository's name as last seen, for logs and events only. */
  repo: string;
  target: AwsTarget;
  /** drift.managed_permission_sets as written (names or ARNs); empty for a tenant known only from its grants. */
  declared: string[];
  remove: boolean;
  includeGroups: boolean;
  /** How many tenants share the instance: each sweep gets that share of drift's budget. */
  sharers: number;
}

/**
 * Every tenant to sweep: each tenant config that parses, on the instance it names (or the
 * deployment's), and each repository with live grants on an instance its config no longer names
 * (those grants are still repaired, through the role that provisioned them, but nothing is managed
 * there). Never a scope from another tenant's config.
 */
export interface SweepPlan {
  scopes: TenantScope[];
  unreachable: { repositoryId: string; problem: string }[];
  /** Repositories whose recorded config parses: only those can give up a claim by changing it. */
  configured: Set<string>;
}

export function planTenantSweeps(
  snapshots: readonly TenantSnapshot[],
  liveGrantTargets: readonly LiveGrantTarget[],
  defaults: AwsDefaults,
): SweepPlan {
  const scopes = new Map<string, Omit<TenantScope, "sharers">>();
  const unreachable: { repositoryId: string; problem: string }[] = [];
  const keyOf = (repositoryId: string, instanceArn: string) => `${repositoryId}|${instanceArn}`;
  for (const snapshot of snapshots) {
    if (!snapshot.config) continue;
    const { aws, drift } = snapshot.config;
    const target = resolveTarget(
      {
        tenant: snapshot.tenant,
        repository_id: snapshot.repositoryId,
        instance_arn: aws.instanceArn ?? null,
        aws_region: aws.region ?? null,
        identity_store_id: aws.identityStoreId ?? null,
        aws_role_arn: aws.roleArn ?? null,
      },
      defaults,
    );
    if (!target.ok) {
      unreachable.push({ repositoryId: snapshot.repositoryId, problem: target.problem });
      continue;
    }
    scopes.set(keyOf(snapshot.repositoryId, target.target.instanceArn), {
      tenant: snapshot.tenant,
      repositoryId: snapshot.repositoryId,
      repo: snapshot.repo,
      target: target.target,
      declared: [...drift.managedPermissionSets],
      remove: drift.unexpected === "remove",
      includeGroups: drift.includeGroups,
    });
  }
  for (const row of liveGrantTargets) {
    if (scopes.has(keyOf(row.repository_id, row.instance_arn))) continue;
    const target = resolveTarget(row, defaults);
    if (!target.ok) continue;
    scopes.set(keyOf(row.repository_id, row.instance_arn), {
      tenant: row.tenant,
      repositoryId: row.repository_id,
      repo: row.repo,
      target: target.target,
      declared: [],
      remove: false,
      includeGroups: false,
    });
  }
  const perInstance = new Map<string, number>();
  for (const scope of scopes.values()) perInstance.set(scope.target.instanceArn, (perInstance.get(scope.target.instanceArn) ?? 0) + 1);
  const ordered = [...scopes.values()].sort(
    (a, b) => a.target.instanceArn.localeCompare(b.target.instanceArn) || a.repositoryId.localeCompare(b.repositoryId),
  );
  const configured = new Set(snapshots.filter((snapshot) => snapshot.config).map((snapshot) => snapshot.repositoryId));
  return { scopes: ordered.map((scope) => ({ ...scope, sharers: perInstance.get(scope.target.instanceArn)! })), unreachable, configured };
}

/**
 * Claims to end before any sweep: those whose owner's (valid) config no longer brings it to the
 * claim's instance at all. Whether an owner still lists a set is decided in its own sweep, by the
 * set's ARN as its own role resolves it (a respelling keeps the claim). An owner whose config
 * does not parse keeps its claims: a broken config must not hand a set to another tenant.
 */
export function claimsToRelease<Claim extends { instance_arn: string; repository_id: string }>(
  claims: readonly Claim[],
  plan: Pick<SweepPlan, "scopes" | "configured">,
): Claim[] {
  const present = new Set(plan.scopes.map((scope) => `${scope.repositoryId}|${scope.target.instanceArn}`));
  return claims.filter((claim) => plan.configured.has(claim.repository_id) && !present.has(`${claim.repository_id}|${claim.instance_arn}`));
}
