/**
 * The tenant policy (`.github/jitsudo.yml`) and the access request files the tests write, built
 * from one base so that a test names only what it changes: who is in `users`, which rules, whether
 * drift removes.
 *
 * Rendered as a person writes them (block mappings, flow lists, ids and wildcards quoted), which
 * is byte for byte what the copies this replaced said: tests that point at a line of the policy
 * ("rules[0] (policy.yml line 2)") keep their line numbers. Tests of the file format itself (parse
 * errors, quoting, anchors) keep writing their YAML out, because the text is what they test.
 */

export interface RuleFixture {
  permission_sets: readonly string[];
  accounts: readonly string[];
  max_duration: string;
  approvals?: number;
  require_ticket?: boolean;
  allow_other_principal?: boolean;
  /** Teams (`@org/slug`) that must each have an approving code owner among their active members. */
  require_owners?: readonly string[];
  max_session_duration?: string;
}

export interface PolicyFixture {
  /** The `aws:` section, its keys in the order given (role_arn, region, instance_arn, identity_store_id). */
  aws?: Readonly<Record<string, string>>;
  /** GitHub login to Identity Center user name. */
  users?: Readonly<Record<string, string>>;
  rules: readonly RuleFixture[];
  drift?: { managed_permission_sets?: readonly string[]; unexpected?: "flag" | "remove" };
}

/** What most tests grant: ReadOnlyAccess on any account, for up to 8 hours. */
export const READ_ONLY_RULE: RuleFixture = { permission_sets: ["ReadOnlyAccess"], accounts: ["*"], max_duration: "8h" };

/** Any permission set on any account, for up to 8 hours. */
export const ANY_RULE: RuleFixture = { permission_sets: ["*"], accounts: ["*"], max_duration: "8h" };

/** AdministratorAccess on one account only: two hours at most, two approvals and a ticket. */
export const strictAdminRule = (account = "123456789012"): RuleFixture => ({
  permission_sets: ["AdministratorAccess"],
  accounts: [account],
  max_duration: "2h",
  approvals: 2,
  require_ticket: true,
});

/** The base every policy starts from: one rule, ReadOnlyAccess anywhere; no users, no aws section, no drift. */
export const BASE_POLICY: PolicyFixture = { rules: [READ_ONLY_RULE] };

/** The base policy with `overrides` in place of its sections, as the YAML of `.github/jitsudo.yml`. */
export function policyYaml(overrides: Partial<PolicyFixture> = {}): string {
  const policy: PolicyFixture = { ...BASE_POLICY, ...overrides };
  const lines: string[] = [];
  if (policy.aws) lines.push("aws:", ...Object.entries(policy.aws).map(([key, value]) => `  ${key}: ${value}`));
  if (policy.users) lines.push("users:", ...Object.entries(policy.users).map(([login, user]) => `  ${login}: ${user}`));
  lines.push("rules:", ...policy.rules.flatMap(ruleLines));
  if (policy.drift) {
    const { managed_permission_sets: managed, unexpected } = policy.drift;
    lines.push("drift:");
    if (managed) lines.push(`  managed_permission_sets: ${flowList(managed)}`);
    if (unexpected) lines.push(`  unexpected: ${unexpected}`);
  }
  return `${lines.join("\n")}\n`;
}

function ruleLines(rule: RuleFixture): string[] {
  return [
    `  - permission_sets: ${flowList(rule.permission_sets)}`,
    `    accounts: ${flowList(rule.accounts)}`,
    `    max_duration: ${rule.max_duration}`,
    ...(rule.approvals !== undefined ? [`    approvals: ${rule.approvals}`] : []),
    ...(rule.require_ticket !== undefined ? [`    require_ticket: ${rule.require_ticket}`] : []),
    ...(rule.allow_other_principal !== undefined ? [`    allow_other_principal: ${rule.allow_other_principal}`] : []),
    ...(rule.require_owners !== undefined ? [`    require_owners: ${flowList(rule.require_owners)}`] : []),
    ...(rule.max_session_duration !== undefined ? [`    max_session_duration: ${rule.max_session_duration}`] : []),
  ];
}

/** `[ReadOnlyAccess, "*", "123456789012"]`: names plain, anything else (wildcards, ids, ARNs) quoted. */
function flowList(items: readonly string[]): string {
  return `[${items.map((item) => (/^[A-Za-z][A-Za-z0-9]*$/.test(item) ? item : JSON.stringify(item))).join(", ")}]`;
}

export interface RequestFixture {
  account: string;
  permission_set: string;
  duration: string;
  reason: string;
}

/** alice's everyday request: ReadOnlyAccess on production for two hours. */
export const BASE_REQUEST: RequestFixture = {
  account: "123456789012",
  permission_set: "ReadOnlyAccess",
  duration: "2h",
  reason: "Investigate the latency alarms",
};

/** The base request with `overrides`, as the YAML of a file under access-requests/. */
export function requestYaml(overrides: Partial<RequestFixture> = {}): string {
  const request = { ...BASE_REQUEST, ...overrides };
  return `account: ${JSON.stringify(request.account)}\npermission_set: ${request.permission_set}\nduration: ${request.duration}\nreason: ${JSON.stringify(request.reason)}\n`;
}
