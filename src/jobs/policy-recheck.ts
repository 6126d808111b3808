/**
 * The request judged again on canonical ids, before its first CreateAccountAssignment. The merge
 * verdict matched the policy on the spellings in the request and the rules (it has no AWS access);
 * here the account name has become its id and the permission set ARN its name, so a request that
 * spelled `prod` to fall past a strict rule for `123456789012` onto a loose `*` rule is caught:
 * it is never provisioned under a looser rule than its canonical one (`recheckOnCanonicalIds`).
 */
import type { Directory } from "../aws/directory.js";
import type { IdentityCenter } from "../aws/identity-center.js";
import { parseTenantConfig, principalFor, type PolicyRule, type TenantConfig } from "../config/tenant.js";
import { policyOf, type GrantRow } from "../grants/grant-repository.js";
import { recheckOnCanonicalIds, type NameDirectory } from "../requests/policy.js";
import type { Knex } from "knex";

const ACCOUNT_ID = /^\d{12}$/;

/**
 * The approvals that still count once every approver is matched to an Identity Center user by id,
 * the fewest over each set of owners that had to approve (a renamed request's old and new path),
 * and the require_owners teams that still have such an approver. An approver who is the grantee in
 * Identity Center never counts. On someone else's behalf, an approver must also be mapped under
 * `users:` to a user Identity Center knows: otherwise nothing shows they are not the grantee under
 * another name.
 */
async function approvalsByIdentity(
  ic: IdentityCenter,
  directory: Directory,
  config: TenantConfig,
  grant: GrantRow & { principal_id?: string | null },
  forSomeoneElse: boolean,
): Promise<{ approvals: number; ownerGroups: Set<string> }> {
  const sets = grant.approver_sets ?? [{ path: grant.file_path, approvers: grant.approvers }];
  const stands = async (login: string) => {
    const mapped = config.users.has(login.toLowerCase());
    if (forSomeoneElse && !mapped) return false;
    const user = await directory.principalId(ic, principalFor(config, login));
    if (!user.ok) return !forSomeoneElse; // an unknown user is not the grantee, unless that must be shown
    return user.id !== grant.principal_id;
  };
  const standingBySet = await Promise.all(
    sets.map(async (set) => {
      const standing = await Promise.all(set.approvers.map(async (login) => ((await stands(login)) ? [login.toLowerCase()] : [])));
      return new Set(standing.flat());
    }),
  );
  // The teams are judged on the request's own path (the first set), as the merge verdict judged them.
  const ownerGroups = new Set(
    (sets[0]?.groups ?? [])
      .filter((group) => group.approvers.some((login) => standingBySet[0]!.has(login.toLowerCase())))
      .map((group) => group.team.toLowerCase()),
  );
  // No set of owners at all counts nothing (Math.min of nothing would be Infinity).
  const approvals = standingBySet.length === 0 ? 0 : Math.min(...standingBySet.map((standing) => standing.size));
  return { approvals, ownerGroups };
}

/** The rule that decides the grant on its canonical ids, when it may be provisioned. */
export type Recheck = { ok: true; detail: string; rule: PolicyRule } | { ok: false; problem: string };

export async function recheckPolicy(
  db: Knex,
  directory: Directory,
  ic: IdentityCenter,
  grant: GrantRow & { account_id: string; permission_set_arn: string },
): Promise<Recheck> {
  const policy = await policyOf(db, grant);
  if (policy === undefined) {
    return {
      ok: false,
      problem:
        "it was approved before jitsudo kept the policy a merge was judged under, so it cannot be checked on canonical ids; open a new pull request for it",
    };
  }
  const parsed = parseTenantConfig(new TextEncoder().encode(policy));
  if (!parsed.ok)
    return {
      ok: false,
      problem:
        "the policy it was approved under no longer parses, so it cannot be checked on canonical ids; open a new pull request for it",
    };
  const { config } = parsed;
  // Each lookup only when a rule can tell the answers apart (ListPermissionSets and Organizations
  // cost calls from the instance's 20 a second, and Organizations needs its own permission).
  const arn = grant.permission_set_arn;
  const namesPermissionSets = config.rules.some((rule) => rule.permissionSets.some((entry) => entry !== "*" && entry !== arn));
  const permissionSetName = namesPermissionSets ? await directory.permissionSetName(ic, arn) : undefined;
  if (namesPermissionSets && permissionSetName === undefined) {
    return {
      ok: false,
      problem: `Identity Center instance ${ic.instanceArn} has no permission set ${arn}; name a permission set of this instance`,
    };
  }
  // Organizations is asked only when a rule names accounts by name (it needs organizations:ListAccounts).
  const namesAccounts = config.rules.some((rule) => rule.accounts.some((entry) => entry !== "*" && !ACCOUNT_ID.test(entry)));
  const names: NameDirectory = {
    accountNames: namesAccounts ? await directory.accountNames(ic) : new Map(),
    permissionSetNames: new Map(),
  };
  const forSomeoneElse = grant.principal.toLowerCase() !== principalFor(config, grant.requester).toLowerCase();
  const check = recheckOnCanonicalIds(
    config.rules,
    {
      accountId: grant.account_id,
      permissionSetArn: arn,
      ...(permissionSetName !== undefined ? { permissionSetName } : {}),
      durationMs: grant.duration_seconds * 1000,
      leadTimeMs: Math.max(0, grant.starts_at.getTime() - grant.created_at.getTime()),
      ...(grant.ticket ? { ticket: grant.ticket } : {}),
      forSomeoneElse,
      ...(await approvalsByIdentity(ic, directory, config, grant, forSomeoneElse)),
      ...(grant.break_glass_team ? { breakGlassTeam: grant.break_glass_team } : {}),
      ...(grant.policy_rule !== null ? { ruleIndex: grant.policy_rule } : {}),
    },
    names,
  );
  if (!check.ok) return { ok: false, problem: check.reason };
  return { ok: true, detail: `rules[${check.rule.index}] on ${permissionSetName ?? arn} in ${grant.account_id}`, rule: check.rule };
}
