/**
 * The request judged again on canonical ids, before its first CreateAccountAssignment. The merge
 * verdict matched the policy on the spellings in the request and the rules (it has no AWS access);
 * here the account name has become its id and the permission set ARN its name, so a request that
 * spelled `prod` to fall past a strict rule for `123456789012` onto a loose `*` rule is caught:
 * it is never provisioned under a looser rule than its canonical one (`recheckOnCanonicalIds`).
 */
import type { Directory } from "../aws/directory.js";
import type { IdentityCenter } from "../aws/identity-center.js";
import { parseTenantConfig, principalFor } from "../config/tenant.js";
import { policyOf, type GrantRow } from "../grants/store.js";
import { recheckOnCanonicalIds, type NameDirectory } from "../requests/policy.js";
import type { Knex } from "knex";

const ACCOUNT_ID = /^\d{12}$/;

export type Recheck = { ok: true; detail: string } | { ok: false; problem: string };

export async function recheckPolicy(
  db: Knex,
  directory: Directory,
  ic: IdentityCenter,
  grant: GrantRow & { account_id: string; permission_set_arn: string },
): Promise<Recheck> {
  const policy = await policyOf(db, grant);
  if (policy === undefined) {
    return { ok: false, problem: "it was approved before jitsudo kept the policy a merge was judged under, so it cannot be checked on canonical ids; open a new pull request for it" };
  }
  const parsed = parseTenantConfig(new TextEncoder().encode(policy));
  if (!parsed.ok) return { ok: false, problem: "the policy it was approved under no longer parses, so it cannot be checked on canonical ids; open a new pull request for it" };
  const { config } = parsed;
  // Each lookup only when a rule can tell the answers apart (ListPermissionSets and Organizations
  // cost calls from the instance's 20 a second, and Organizations needs its own permission).
  const arn = grant.permission_set_arn;
  const namesPermissionSets = config.rules.some((rule) => rule.permissionSets.some((entry) => entry !== "*" && entry !== arn));
  const permissionSetName = namesPermissionSets ? await directory.permissionSetName(ic, arn) : undefined;
  if (namesPermissionSets && permissionSetName === undefined) {
    return { ok: false, problem: `Identity Center instance ${ic.instanceArn} has no permission set ${arn}; name a permission set of this instance` };
  }
  // Organizations is asked only when a rule names accounts by name (it needs organizations:ListAccounts).
  const namesAccounts = config.rules.some((rule) => rule.accounts.some((entry) => entry !== "*" && !ACCOUNT_ID.test(entry)));
  const names: NameDirectory = { accountNames: namesAccounts ? await directory.accountNames(ic) : new Map(), permissionSetNames: new Map() };
  const check = recheckOnCanonicalIds(
    config.rules,
    {
      accountId: grant.account_id,
      permissionSetArn: arn,
      ...(permissionSetName !== undefined ? { permissionSetName } : {}),
      durationMs: grant.duration_seconds * 1000,
      leadTimeMs: Math.max(0, grant.starts_at.getTime() - grant.created_at.getTime()),
      ...(grant.ticket ? { ticket: grant.ticket } : {}),
      forSomeoneElse: grant.principal !== principalFor(config, grant.requester),
      approvals: grant.approvers.length,
      ...(grant.policy_rule !== null ? { ruleIndex: grant.policy_rule } : {}),
    },
    names,
  );
  if (!check.ok) return { ok: false, problem: check.reason };
  return { ok: true, detail: `rules[${check.rule.index}] on ${permissionSetName ?? arn} in ${grant.account_id}` };
}
