/**
 * What a person may request under a policy, rule by rule, for `jitsudo rules`. Rules name what
 * may be granted, not to whom: every rule is open to every requester (approval by code owners is
 * the gate), so what depends on the person is the Identity Center user they are granted as
 * (`users:`) and break-glass, which only members of a rule's teams may use. A rule that an earlier
 * rule covers entirely never decides anything (the first match wins) and is said to be so.
 * Pure: the policy is given.
 */
import { DEFAULT_MAX_LEAD_TIME_MS, DEFAULT_MIN_DURATION_MS, principalFor, type PolicyRule, type TenantConfig } from "../config/tenant.js";
import { formatDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";

export interface RuleEntry {
  /** `rules[0] (.github/jitsudo.yml line 13)`, as every other message names a rule. */
  name: string;
  permissionSets: string[];
  accounts: string[];
  maxDuration: string;
  minDuration: string;
  approvals: number;
  requireTicket: boolean;
  /** How far ahead starts_at may be. */
  maxLeadTime: string;
  onBehalfOfOthers: boolean;
  breakGlass?: { teams: string[]; maxDuration: string; reviewWithin: string };
  /** Earlier rules that decide everything this one lists, so it never applies. */
  shadowedBy: number[];
  /** The defaults it keeps, so the text form mentions only what a rule changes. */
  defaultMinDuration: boolean;
  defaultLeadTime: boolean;
}

export interface RuleListing {
  login: string;
  /** The Identity Center user the login is granted as. */
  principal: string;
  /** Whether `users:` maps the login (otherwise it is granted as the user of the same name). */
  mapped: boolean;
  rules: RuleEntry[];
}

export function listRules(config: TenantConfig, login: string): RuleListing {
  return {
    login,
    principal: principalFor(config, login),
    mapped: config.users.has(login.toLowerCase()),
    rules: config.rules.map((rule) => ({
      name: `rules[${rule.index}] (${config.file} line ${rule.line})`,
      permissionSets: rule.permissionSets,
      accounts: rule.accounts,
      maxDuration: formatDuration(rule.maxDurationMs),
      minDuration: formatDuration(rule.minDurationMs),
      approvals: rule.approvals,
      requireTicket: rule.requireTicket,
      maxLeadTime: formatDuration(rule.maxLeadTimeMs),
      onBehalfOfOthers: rule.allowOtherPrincipal,
      ...(rule.breakGlass
        ? {
            breakGlass: {
              teams: rule.breakGlass.teams.map(({ org, slug }) => `@${org}/${slug}`),
              maxDuration: formatDuration(rule.breakGlass.maxDurationMs),
              reviewWithin: formatDuration(rule.breakGlass.reviewWithinMs),
            },
          }
        : {}),
      shadowedBy: shadowingRules(config.rules, rule),
      defaultMinDuration: rule.minDurationMs === DEFAULT_MIN_DURATION_MS,
      defaultLeadTime: rule.maxLeadTimeMs === DEFAULT_MAX_LEAD_TIME_MS,
    })),
  };
}

/** The listing as lines for a terminal. */
export function formatRuleListing(listing: RuleListing, configFile: string): string[] {
  const as = listing.mapped
    ? `${listing.login} is granted access as Identity Center user ${quote(listing.principal)} (users: in ${configFile})`
    : `${listing.login} is granted access as Identity Center user ${quote(listing.principal)} (not in users: of ${configFile}, so the login itself)`;
  if (listing.rules.length === 0) return [as, `${configFile} has no rules, so nothing can be requested; an admin must add rules first`];
  return [
    as,
    ...listing.rules.flatMap((rule) => [
      "",
      `${rule.name}: ${names(rule.permissionSets)} on ${accounts(rule.accounts)}`,
      `  ${limits(rule)}`,
    ]),
  ];
}

function limits(rule: RuleEntry): string {
  const parts = [
    rule.defaultMinDuration ? `up to ${rule.maxDuration}` : `${rule.minDuration} to ${rule.maxDuration}`,
    `${rule.approvals} code-owner approval${rule.approvals === 1 ? "" : "s"}`,
    ...(rule.requireTicket ? ["ticket required"] : []),
    ...(rule.defaultLeadTime ? [] : [`starts at most ${rule.maxLeadTime} ahead`]),
    ...(rule.onBehalfOfOthers ? ["may be requested for someone else (principal)"] : []),
    ...(rule.breakGlass
      ? [
          `break-glass for active members of ${rule.breakGlass.teams.join(", ")}: up to ${rule.breakGlass.maxDuration} without approval, reviewed within ${rule.breakGlass.reviewWithin}`,
        ]
      : []),
  ];
  const shadowed = rule.shadowedBy.length
    ? ` · never applies: ${rule.shadowedBy.map((index) => `rules[${index}]`).join(" and ")} come${rule.shadowedBy.length === 1 ? "s" : ""} first for everything it lists`
    : "";
  return parts.join(" · ") + shadowed;
}

function names(entries: readonly string[]): string {
  return entries.includes("*") ? "any permission set" : entries.join(", ");
}

function accounts(entries: readonly string[]): string {
  return entries.includes("*") ? "any account" : entries.length === 1 ? `account ${entries[0]}` : `accounts ${entries.join(", ")}`;
}

/**
 * The earlier rules that decide every permission set × account pair `rule` lists (on the names as
 * written, as the pull request check matches them); empty when some pair reaches `rule`.
 */
function shadowingRules(rules: readonly PolicyRule[], rule: PolicyRule): number[] {
  const deciders = new Set<number>();
  for (const set of rule.permissionSets) {
    for (const account of rule.accounts) {
      const first = rules.find(
        (earlier) => earlier.index < rule.index && covers(earlier.permissionSets, set) && covers(earlier.accounts, account),
      );
      if (!first) return [];
      deciders.add(first.index);
    }
  }
  return [...deciders].sort((a, b) => a - b);
}

/** A rule's list covers an entry when it has "*" or the same name ("*" is covered only by "*"). */
function covers(entries: readonly string[], entry: string): boolean {
  return entries.includes("*") || entries.includes(entry);
}
