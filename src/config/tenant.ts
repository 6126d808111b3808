/**
 * The tenant's `.github/jitsudo.yml`: AWS settings, GitHub → Identity Center user mapping, policy
 * rules and drift mode. Always read at a PR's base commit by the caller; parsing here is pure.
 */
import { parseDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";
import type { Problem } from "../parsing/problem.js";
import { compileSchema, loadAndValidate, type SchemaMessages } from "../parsing/schemas.js";
import type { PathSegment, YamlSource } from "../parsing/yaml-source.js";

export const TENANT_CONFIG_PATH = ".github/jitsudo.yml";
const TENANT_CONFIG_MAX_BYTES = 256 * 1024;
export const DEFAULT_MIN_DURATION_MS = 60_000;
export const DEFAULT_MAX_LEAD_TIME_MS = 30 * 86_400_000;

interface TenantConfigFile {
  aws?: { role_arn?: string; region?: string; instance_arn?: string; identity_store_id?: string; management_account_id?: string };
  users?: Record<string, string>;
  rules?: RuleFile[];
  drift?: { managed_permission_sets?: string[]; unexpected?: "flag" | "remove"; include_groups?: boolean };
}

interface RuleFile {
  permission_sets: string[];
  accounts: string[];
  max_duration: string;
  min_duration?: string;
  max_lead_time?: string;
  approvals?: number;
  require_ticket?: boolean;
  allow_other_principal?: boolean;
}

export interface PolicyRule {
  /** 0-based position in `rules`, and the line it starts on, for messages. */
  index: number;
  line: number;
  permissionSets: string[];
  accounts: string[];
  maxDurationMs: number;
  minDurationMs: number;
  /** How far after the merge starts_at may be. */
  maxLeadTimeMs: number;
  approvals: number;
  requireTicket: boolean;
  allowOtherPrincipal: boolean;
}

export interface TenantConfig {
  /** The file it was read from, for messages. */
  file: string;
  aws: { roleArn?: string; region?: string; instanceArn?: string; identityStoreId?: string; managementAccountId?: string };
  /** GitHub login (lower-cased, logins are case-insensitive) → Identity Center user name. */
  users: Map<string, string>;
  rules: PolicyRule[];
  drift: {
    /** Permission set names or ARNs this tenant's drift looks after; empty: only its own grants are repaired. */
    managedPermissionSets: string[];
    unexpected: "flag" | "remove";
    includeGroups: boolean;
  };
}

/** A config that parses may still deserve a warning (a rule AWS will refuse to carry out). */
export type TenantConfigResult = { ok: true; config: TenantConfig; warnings: Problem[] } | { ok: false; problems: Problem[] };

/** What a repository without `.github/jitsudo.yml` gets: no rules, so every request is denied. */
export const EMPTY_TENANT_CONFIG: TenantConfig = {
  file: TENANT_CONFIG_PATH,
  aws: {},
  users: new Map(),
  rules: [],
  drift: { managedPermissionSets: [], unexpected: "flag", includeGroups: false },
};

const validateSchema = compileSchema("config.schema.json");

const CONFIG_MESSAGES: SchemaMessages = {
  required: {
    "rules.*.permission_sets": "permission_sets: [<permission set names>]",
    "rules.*.accounts": 'accounts: ["<account ids or names>", or "*"]',
    "rules.*.max_duration": "max_duration: <longest allowed, e.g. 8h>",
  },
  values: {
    "aws.role_arn": (v) => `aws.role_arn ${quote(v)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
    "aws.region": (v) => `aws.region ${quote(v)} is not an AWS region like us-east-1`,
    "aws.instance_arn": (v) => `aws.instance_arn ${quote(v)} is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)`,
    "aws.identity_store_id": (v) => `aws.identity_store_id ${quote(v)} is not an identity store id (d-…)`,
    "users.*": (v) => `user name ${quote(v)} is not an Identity Center user name (1-128 characters, no spaces)`,
  },
};

// Account ids and user names are identifiers; keep them exactly as written.
const keepsWrittenText = (path: readonly PathSegment[]) =>
  (path[0] === "users" && path.length === 2) ||
  (path[0] === "rules" && path.length === 4 && (path[2] === "accounts" || path[2] === "permission_sets")) ||
  (path[0] === "rules" && path.length === 3 && (path[2] === "max_duration" || path[2] === "min_duration" || path[2] === "max_lead_time"));

export function parseTenantConfig(bytes: Uint8Array, file: string = TENANT_CONFIG_PATH): TenantConfigResult {
  const loaded = loadAndValidate(file, bytes, {
    maxBytes: TENANT_CONFIG_MAX_BYTES,
    emptyMessage: "file is empty; it needs at least one rule under rules:",
    keepsWrittenText,
    validate: validateSchema,
    messages: CONFIG_MESSAGES,
  });
  if (!loaded.ok) return loaded;
  const { source } = loaded;
  const raw = source.value as TenantConfigFile;
  const problems: Problem[] = [];
  const at = (path: PathSegment[], message: string) => problems.push({ file, ...source.spanOf(path), severity: "error", message });

  const rules = (raw.rules ?? []).map((rule, index) => parseRule(rule, index, source, at));
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    warnings: managementAccountWarnings(raw, rules, source, file),
    config: toTenantConfig(raw, rules, file),
  };
}

/** One `rules:` entry; a malformed duration is reported through `at` and replaced by its fallback. */
function parseRule(rule: RuleFile, index: number, source: YamlSource, at: (path: PathSegment[], message: string) => void): PolicyRule {
  const duration = (key: "max_duration" | "min_duration" | "max_lead_time", fallback: number) => {
    const text = rule[key];
    if (text === undefined) return fallback;
    const parsed = parseDuration(text);
    if (parsed.ok) return parsed.ms;
    at(["rules", index, key], `rules[${index}].${key} ${parsed.message}`);
    return fallback;
  };
  const maxDurationMs = duration("max_duration", 0);
  const minDurationMs = duration("min_duration", DEFAULT_MIN_DURATION_MS);
  const maxLeadTimeMs = duration("max_lead_time", DEFAULT_MAX_LEAD_TIME_MS);
  if (maxDurationMs > 0 && minDurationMs > maxDurationMs) {
    at(["rules", index, "min_duration"], `rules[${index}].min_duration is longer than its max_duration`);
  }
  return {
    index,
    line: source.spanOf(["rules", index]).line,
    permissionSets: rule.permission_sets,
    accounts: rule.accounts,
    maxDurationMs,
    minDurationMs,
    maxLeadTimeMs,
    approvals: rule.approvals ?? 1,
    requireTicket: rule.require_ticket ?? false,
    allowOtherPrincipal: rule.allow_other_principal ?? false,
  };
}

function managementAccountWarnings(raw: TenantConfigFile, rules: PolicyRule[], source: YamlSource, file: string): Problem[] {
  const management = raw.aws?.management_account_id;
  return management
    ? rules
        .filter((rule) => rule.accounts.includes("*") || rule.accounts.includes(management))
        .map((rule) => ({
          file,
          ...source.spanOf(["rules", rule.index, "accounts"]),
          severity: "warning" as const,
          message: `rules[${rule.index}] allows the management account ${management} (aws.management_account_id); AWS refuses a delegated administrator assignments there, so such requests are refused: list the member accounts instead of "*"`,
        }))
    : [];
}

function toTenantConfig(raw: TenantConfigFile, rules: PolicyRule[], file: string): TenantConfig {
  const aws = raw.aws ?? {};
  return {
    file,
    aws: {
      ...(aws.role_arn ? { roleArn: aws.role_arn } : {}),
      ...(aws.region ? { region: aws.region } : {}),
      ...(aws.instance_arn ? { instanceArn: aws.instance_arn } : {}),
      ...(aws.identity_store_id ? { identityStoreId: aws.identity_store_id } : {}),
      ...(aws.management_account_id ? { managementAccountId: aws.management_account_id } : {}),
    },
    users: new Map(Object.entries(raw.users ?? {}).map(([login, user]) => [login.toLowerCase(), user])),
    rules,
    drift: {
      managedPermissionSets: raw.drift?.managed_permission_sets ?? [],
      unexpected: raw.drift?.unexpected ?? "flag",
      includeGroups: raw.drift?.include_groups ?? false,
    },
  };
}

/** The Identity Center user a GitHub login maps to; unmapped logins map to themselves. */
export function principalFor(config: TenantConfig, login: string): string {
  return config.users.get(login.toLowerCase()) ?? login;
}
