/**
 * The tenant's `.github/jitsudo.yml`: AWS settings, GitHub → Identity Center user mapping, policy
 * rules and drift mode. Always read at a PR's base commit by the caller; parsing here is pure.
 */
import { DEFAULT_REMIND_BEFORE_MS, REMINDERS_OFF } from "../grants/reminders.js";
import { parseDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";
import type { Problem } from "../parsing/problem.js";
import { compileSchema, loadAndValidate, type SchemaMessages } from "../parsing/schemas.js";
import type { PathSegment, YamlSource } from "../parsing/yaml-source.js";
import { webhookUrlProblem, type NotificationChannels } from "../notifications/channels.js";

export const TENANT_CONFIG_PATH = ".github/jitsudo.yml";
const TENANT_CONFIG_MAX_BYTES = 256 * 1024;
export const DEFAULT_MIN_DURATION_MS = 60_000;
export const DEFAULT_MAX_LEAD_TIME_MS = 30 * 86_400_000;

interface TenantConfigFile {
  aws?: { role_arn?: string; region?: string; instance_arn?: string; identity_store_id?: string; management_account_id?: string };
  users?: Record<string, string>;
  rules?: RuleFile[];
  drift?: { managed_permission_sets?: string[]; unexpected?: "flag" | "remove"; include_groups?: boolean };
  notifications?: { slack?: { channel: string }; webhooks?: { url: string }[] };
}

interface RuleFile {
  permission_sets: string[];
  accounts: string[];
  max_duration: string;
  min_duration?: string;
  max_lead_time?: string;
  remind_before?: string;
  approvals?: number;
  require_ticket?: boolean;
  allow_other_principal?: boolean;
  break_glass?: { teams: string[]; max_duration: string; review_within?: string };
  require_owners?: string[];
  max_session_duration?: string;
}

/**
 * Break-glass under a rule: an active member of one of `teams` may be granted, with a reason and a
 * ticket, without code-owner approval, for at most `maxDurationMs`; a code owner reviews it after
 * the merge, and is reminded from `reviewWithinMs` on until they do.
 */
export interface BreakGlassRule {
  teams: { org: string; slug: string }[];
  maxDurationMs: number;
  reviewWithinMs: number;
}

export const DEFAULT_BREAK_GLASS_REVIEW_WITHIN_MS = 24 * 3_600_000;

/** A GitHub team as a rule names it (`@org/slug`), with the line it is written on for messages. */
export interface TeamRef {
  org: string;
  slug: string;
  line: number;
}

/** AWS's bounds on a permission set's SessionDuration: a cap outside them caps nothing or allows nothing. */
export const MIN_SESSION_DURATION_MS = 3_600_000;
export const MAX_SESSION_DURATION_MS = 12 * 3_600_000;

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
  /** How long before a grant's expiry its PR and channels are reminded (remind_before); null: never. */
  remindBeforeMs: number | null;
  approvals: number;
  requireTicket: boolean;
  allowOtherPrincipal: boolean;
  /** Present when the rule allows break-glass requests. */
  breakGlass?: BreakGlassRule;
  /**
   * `require_owners`: each team must have at least one active member among the approving code
   * owners who count (one person may count for several teams, and still once toward `approvals`).
   * Empty when the rule names none.
   */
  requireOwners: TeamRef[];
  /**
   * `max_session_duration`: the longest SessionDuration a permission set granted under this rule may
   * have, since a session opened before the assignment is deleted lasts that long; null: no cap.
   */
  maxSessionDurationMs: number | null;
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
  /** Where notifications go (src/notifications); unset: nowhere. */
  notifications?: NotificationChannels;
}

/** What the caller knows of where the config lives, for checks the file alone cannot make. */
export interface TenantConfigContext {
  /**
   * The GitHub organisation (or user) owning the repository the config was read from: teams of any
   * other organisation are refused, since the app can read memberships only where it is installed.
   * Unset (a stored policy read again, `jitsudo validate`): not checked.
   */
  organization?: string;
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
    "rules.*.break_glass.teams": 'teams: ["@org/oncall-team"] (who may use break-glass)',
    "rules.*.break_glass.max_duration": "max_duration: <longest break-glass access, e.g. 1h>",
  },
  values: {
    "aws.role_arn": (v) => `aws.role_arn ${quote(v)} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`,
    "aws.region": (v) => `aws.region ${quote(v)} is not an AWS region like us-east-1`,
    "aws.instance_arn": (v) => `aws.instance_arn ${quote(v)} is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)`,
    "aws.identity_store_id": (v) => `aws.identity_store_id ${quote(v)} is not an identity store id (d-…)`,
    "users.*": (v) => `user name ${quote(v)} is not an Identity Center user name (1-128 characters, no spaces)`,
    "notifications.slack.channel": (v) =>
      `notifications.slack.channel ${quote(v)} is not a Slack channel (#name or a channel id like C0123456789)`,
    "notifications.webhooks.*.url": (v) => `notifications webhook url ${quote(v)} is not an https:// URL`,
    "rules.*.break_glass.teams.*": (v) =>
      `break_glass team ${quote(v)} is not a GitHub team; write it as @org/team-slug (break-glass needs a team: GitHub tells jitsudo who is an active member of a team)`,
    "rules.*.require_owners.*": (v) =>
      `require_owners team ${quote(v)} is not a GitHub team; write it as @org/team-slug (GitHub tells jitsudo who is an active member of a team, not of anything else)`,
  },
};

// Account ids and user names are identifiers; keep them exactly as written.
const keepsWrittenText = (path: readonly PathSegment[]) =>
  (path[0] === "users" && path.length === 2) ||
  (path[0] === "rules" && path[2] === "break_glass" && path.length >= 4) ||
  (path[0] === "rules" && path[2] === "require_owners" && path.length === 4) ||
  (path[0] === "rules" && path.length === 4 && (path[2] === "accounts" || path[2] === "permission_sets")) ||
  (path[0] === "rules" &&
    path.length === 3 &&
    (path[2] === "max_duration" ||
      path[2] === "min_duration" ||
      path[2] === "max_lead_time" ||
      path[2] === "remind_before" ||
      path[2] === "max_session_duration"));

export function parseTenantConfig(
  bytes: Uint8Array,
  file: string = TENANT_CONFIG_PATH,
  context: TenantConfigContext = {},
): TenantConfigResult {
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

  const rules = (raw.rules ?? []).map((rule, index) => parseRule(rule, index, source, at, context));
  for (const [index, { url }] of (raw.notifications?.webhooks ?? []).entries()) {
    // The host's own addresses pass here: whether the operator allows them (a local relay, tests)
    // is the deployment's to say, and the sender refuses them otherwise, at every send.
    const problem = webhookUrlProblem(url, { allowLoopback: true });
    if (problem) at(["notifications", "webhooks", index, "url"], `notifications.webhooks[${index}].url ${quote(url)} ${problem}`);
  }
  if (problems.length > 0) return { ok: false, problems };

  return {
    ok: true,
    warnings: managementAccountWarnings(raw, rules, source, file),
    config: toTenantConfig(raw, rules, file),
  };
}

/** One `rules:` entry; a malformed duration is reported through `at` and replaced by its fallback. */
function parseRule(
  rule: RuleFile,
  index: number,
  source: YamlSource,
  at: (path: PathSegment[], message: string) => void,
  context: TenantConfigContext,
): PolicyRule {
  const duration = (
    key: "max_duration" | "min_duration" | "max_lead_time" | "remind_before" | "max_session_duration",
    fallback: number,
  ) => {
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
  // `off`: no reminders for this rule's grants; otherwise a duration, as the others are.
  const remindBeforeMs = rule.remind_before?.trim() === REMINDERS_OFF ? null : duration("remind_before", DEFAULT_REMIND_BEFORE_MS);
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
    remindBeforeMs,
    approvals: rule.approvals ?? 1,
    requireTicket: rule.require_ticket ?? false,
    allowOtherPrincipal: rule.allow_other_principal ?? false,
    ...(rule.break_glass ? { breakGlass: parseBreakGlass(rule.break_glass, index, at) } : {}),
    requireOwners: parseRequireOwners(rule.require_owners ?? [], index, source, at, context),
    maxSessionDurationMs: parseMaxSessionDuration(rule, index, duration, at),
  };
}

/**
 * `require_owners`: teams of the repository's own organisation (the schema already refused
 * anything but `@org/slug`). Another organisation's team cannot be read through this
 * installation, so it could never be met: refused here, at its line, rather than at every merge.
 */
function parseRequireOwners(
  teams: readonly string[],
  index: number,
  source: YamlSource,
  at: (path: PathSegment[], message: string) => void,
  context: TenantConfigContext,
): TeamRef[] {
  return teams.map((team, position) => {
    const [org = "", slug = ""] = team.slice(1).split("/");
    const path: PathSegment[] = ["rules", index, "require_owners", position];
    const { organization } = context;
    if (organization !== undefined && org.toLowerCase() !== organization.toLowerCase()) {
      at(
        path,
        `rules[${index}].require_owners[${position}] ${quote(team)} is a team of ${quote(org)}, not of ${quote(organization)} where this repository is; jitsudo can only read memberships of ${quote(organization)}'s teams, so name one of them`,
      );
    }
    return { org, slug, line: source.spanOf(path).line };
  });
}

/** `max_session_duration`: within AWS's 1h to 12h, or it would allow nothing or cap nothing. */
function parseMaxSessionDuration(
  rule: RuleFile,
  index: number,
  duration: (key: "max_session_duration", fallback: number) => number,
  at: (path: PathSegment[], message: string) => void,
): number | null {
  if (rule.max_session_duration === undefined) return null;
  const ms = duration("max_session_duration", MAX_SESSION_DURATION_MS);
  const where = `rules[${index}].max_session_duration ${quote(rule.max_session_duration)}`;
  if (ms < MIN_SESSION_DURATION_MS)
    at(
      ["rules", index, "max_session_duration"],
      `${where} is shorter than 1h, the shortest session duration AWS lets a permission set have, so nothing could be granted under this rule; write 1h or more`,
    );
  else if (ms > MAX_SESSION_DURATION_MS)
    at(
      ["rules", index, "max_session_duration"],
      `${where} is longer than 12h, the longest session duration AWS lets a permission set have, so it caps nothing; write 12h or less, or remove it`,
    );
  return ms;
}

function parseBreakGlass(
  raw: NonNullable<RuleFile["break_glass"]>,
  index: number,
  at: (path: PathSegment[], message: string) => void,
): BreakGlassRule {
  const duration = (key: "max_duration" | "review_within", fallback: number) => {
    const text = raw[key];
    if (text === undefined) return fallback;
    const parsed = parseDuration(text);
    if (parsed.ok) return parsed.ms;
    at(["rules", index, "break_glass", key], `rules[${index}].break_glass.${key} ${parsed.message}`);
    return fallback;
  };
  // The schema allows only @org/team: a team is the only owner GitHub tells membership of.
  const teams = raw.teams.map((team) => {
    const [org = "", slug = ""] = team.slice(1).split("/");
    return { org, slug };
  });
  return {
    teams,
    maxDurationMs: duration("max_duration", 0),
    reviewWithinMs: duration("review_within", DEFAULT_BREAK_GLASS_REVIEW_WITHIN_MS),
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
    ...(raw.notifications
      ? {
          notifications: {
            ...(raw.notifications.slack ? { slack: raw.notifications.slack } : {}),
            webhooks: raw.notifications.webhooks ?? [],
          },
        }
      : {}),
  };
}

/** The Identity Center user a GitHub login maps to; unmapped logins map to themselves. */
export function principalFor(config: TenantConfig, login: string): string {
  return config.users.get(login.toLowerCase()) ?? login;
}
