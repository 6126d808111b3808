/**
 * Policy evaluation: the first rule whose permission sets and accounts match decides; no match is a
 * denial. Pure: names are matched through a directory the caller fills (from AWS when it has it).
 */
import { principalFor, type PolicyRule, type TenantConfig } from "../config/tenant.js";
import type { ParsedRequest } from "./access-request.js";
import { formatDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";
import type { Problem } from "../parsing/problem.js";

/**
 * Other names for the same thing: account id ↔ account name, permission set ARN ↔ name. Empty when
 * AWS has not been asked; then only the forms written in the request and the rule are compared.
 */
export interface NameDirectory {
  accountNames: ReadonlyMap<string, string>; // id → name
  permissionSetNames: ReadonlyMap<string, string>; // ARN → name
  /**
   * Session durations Identity Center reported recently, by permission set as grants spelled it
   * (name or ARN): the pull request check refuses a request over its rule's max_session_duration
   * with them. Unset or missing: unknown, and the worker checks before it creates anything.
   */
  sessionDurations?: ReadonlyMap<string, KnownSessionDuration>;
}

/** A session duration the worker read before provisioning an earlier grant of the same repository. */
export interface KnownSessionDuration {
  seconds: number;
  readAt: Date;
  /** The pull request whose grant it was read for. */
  pr: number;
}

export const EMPTY_DIRECTORY: NameDirectory = { accountNames: new Map(), permissionSetNames: new Map() };

export interface PolicyDecision {
  allowed: boolean;
  rule?: PolicyRule;
  approvalsRequired: number;
  /** The Identity Center user to grant; undefined when neither the file nor a requester says. */
  principal?: string;
  problems: Problem[];
}

export interface PolicyInput {
  parsed: ParsedRequest;
  config: TenantConfig;
  /** The PR author's GitHub login; unknown when validating locally. */
  requester?: string;
  directory?: NameDirectory;
  /** When the request would be approved: starts_at may be at most the rule's max_lead_time after it. */
  now: Date;
}

const ACCOUNT_ID = /^\d{12}$/;
const PERMISSION_SET_ARN = /^arn:aws[a-z-]*:sso:::permissionSet\//;

export function evaluatePolicy({ parsed, config, requester, directory = EMPTY_DIRECTORY, now }: PolicyInput): PolicyDecision {
  const { request } = parsed;
  const problems: Problem[] = [];
  const at: Report = (key, message, severity = "error") => {
    const span = parsed.source.spanOf(key ? [key] : [], "value");
    problems.push({ file: parsed.file, ...span, severity, message });
  };

  const ownPrincipal = requester === undefined ? undefined : principalFor(config, requester);
  const principal = request.principal ?? ownPrincipal;

  warnAboutSpelling(parsed, at);
  const rule = matchingRule(config, request, directory);
  if (!rule) {
    at(
      "permission_set",
      config.rules.length === 0
        ? `${config.file} on the base branch has no rules, so nothing can be granted; an admin must add rules first`
        : `no rule in ${config.file} allows ${quote(request.permission_set, 100)} on account ${quote(request.account)}; ask for a permission set and account a rule lists`,
    );
    return { allowed: false, approvalsRequired: 0, ...(principal ? { principal } : {}), problems };
  }

  const ruleName = `rules[${rule.index}] (${config.file} line ${rule.line})`;
  checkAgainstRule(parsed, config, rule, ruleName, directory, now, at);
  checkPrincipal(request, rule, ruleName, requester, ownPrincipal, at);
  if (request.break_glass === true) checkBreakGlass(parsed, rule, ruleName, ownPrincipal, at);
  return {
    allowed: !problems.some((problem) => problem.severity === "error"),
    rule,
    approvalsRequired: rule.approvals,
    ...(principal ? { principal } : {}),
    problems,
  };
}

/** Reports a problem at a key of the request, or at the whole request. */
type Report = (key: keyof ParsedRequest["request"] | undefined, message: string, severity?: Problem["severity"]) => void;

/** The first rule listing both the permission set and the account, by id or by a name the directory knows. */
function matchingRule(config: TenantConfig, request: ParsedRequest["request"], directory: NameDirectory): PolicyRule | undefined {
  return config.rules.find(
    (candidate) =>
      candidate.permissionSets.some((entry) => sameName(entry, request.permission_set, directory.permissionSetNames)) &&
      candidate.accounts.some((entry) => sameName(entry, request.account, directory.accountNames)),
  );
}

/** What the matching rule limits: the account, the duration, how far ahead, the ticket. */
function checkAgainstRule(
  parsed: ParsedRequest,
  config: TenantConfig,
  rule: PolicyRule,
  ruleName: string,
  directory: NameDirectory,
  now: Date,
  at: Report,
): void {
  const { request } = parsed;
  const management = config.aws.managementAccountId;
  if (management !== undefined && (request.account === management || directory.accountNames.get(management) === request.account)) {
    at(
      "account",
      `account ${quote(request.account)} is the organisation's management account, and this tenant's AWS role is a delegated administrator's (aws.management_account_id): AWS refuses it assignments there; ask the platform team for access to the management account another way`,
    );
  }
  if (parsed.durationMs > rule.maxDurationMs) {
    at(
      "duration",
      `duration ${quote(request.duration)} is longer than the ${formatDuration(rule.maxDurationMs)} that ${ruleName} allows; ask for ${formatDuration(rule.maxDurationMs)} or less`,
    );
  }
  if (parsed.durationMs < rule.minDurationMs) {
    at("duration", `duration ${quote(request.duration)} is shorter than the ${formatDuration(rule.minDurationMs)} minimum of ${ruleName}`);
  }
  if (parsed.startsAt && parsed.startsAt.getTime() - now.getTime() > rule.maxLeadTimeMs) {
    at(
      "starts_at",
      `starts_at ${quote(request.starts_at)} is more than ${formatDuration(rule.maxLeadTimeMs)} away, the furthest ${ruleName} allows (max_lead_time); ask closer to the time you need the access`,
    );
  }
  if (rule.requireTicket && request.ticket === undefined) {
    at(undefined, `${ruleName} requires a ticket for ${quote(request.permission_set, 100)}; add ticket: <ticket id, e.g. INC-4711>`);
  }
  if (rule.maxSessionDurationMs !== null) checkSessionDuration(request, rule.maxSessionDurationMs, ruleName, directory, at);
}

/**
 * `max_session_duration`: a session opened before the assignment is deleted lasts the permission
 * set's session duration, so a longer one than the rule allows is refused. Only AWS knows it;
 * the check refuses here when the worker read it recently, and the worker always checks it
 * before creating anything.
 */
function checkSessionDuration(
  request: ParsedRequest["request"],
  capMs: number,
  ruleName: string,
  directory: NameDirectory,
  at: Report,
): void {
  const known = directory.sessionDurations?.get(request.permission_set);
  const set = quote(request.permission_set, 100);
  const cap = formatDuration(capMs);
  if (!known) {
    at(
      "permission_set",
      `${ruleName} allows only permission sets whose session duration is at most ${cap} (max_session_duration); jitsudo has not read ${set}'s recently, so it checks it before provisioning, and refuses the grant then if it is longer`,
      "warning",
    );
    return;
  }
  if (known.seconds * 1000 <= capMs) return;
  const session = formatDuration(known.seconds * 1000);
  at(
    "permission_set",
    `permission set ${set} has a session duration of ${session} in Identity Center (read ${known.readAt.toISOString().slice(0, 16).replace("T", " ")} UTC, provisioning #${known.pr}), longer than the ${cap} that ${ruleName} allows (max_session_duration): a session opened during the grant could last ${session} after it ends; ask for a permission set whose session duration is ${cap} or less, or ask an Identity Center admin to shorten this one's`,
  );
}

/**
 * A break-glass request skips code-owner approval, so everything else about it is narrow: a rule
 * that allows it, a ticket, its own (shorter) maximum, access for the requester only, starting at
 * the merge. Whether the requester is an active member of one of its teams, and wrote every commit,
 * is for the merge verdict, which asks GitHub.
 */
function checkBreakGlass(parsed: ParsedRequest, rule: PolicyRule, ruleName: string, ownPrincipal: string | undefined, at: Report): void {
  const { request } = parsed;
  const breakGlass = rule.breakGlass;
  if (!breakGlass) {
    at(
      "break_glass",
      `${ruleName} does not allow break-glass for ${quote(request.permission_set, 100)} on account ${quote(request.account)}; remove break_glass and ask a code owner to approve`,
    );
    return;
  }
  if (request.ticket === undefined)
    at("break_glass", "a break-glass request must name the incident it is for; add ticket: <ticket id, e.g. INC-4711>");
  if (parsed.durationMs > breakGlass.maxDurationMs) {
    at(
      "duration",
      `duration ${quote(request.duration)} is longer than the ${formatDuration(breakGlass.maxDurationMs)} that break-glass under ${ruleName} allows; ask for ${formatDuration(breakGlass.maxDurationMs)} or less, or remove break_glass and ask a code owner to approve`,
    );
  }
  if (request.starts_at !== undefined) at("starts_at", "break-glass access starts when the pull request is merged; remove starts_at");
  if (request.principal !== undefined && request.principal !== ownPrincipal) {
    at("principal", "break-glass access is only for the requester themselves; remove principal");
  }
}

/** Whether the request may name someone else than its author. */
function checkPrincipal(
  request: ParsedRequest["request"],
  rule: PolicyRule,
  ruleName: string,
  requester: string | undefined,
  ownPrincipal: string | undefined,
  at: Report,
): void {
  if (request.principal === undefined || rule.allowOtherPrincipal) return;
  if (ownPrincipal === undefined) {
    at(
      "principal",
      `principal is checked against the pull request author on GitHub; ${ruleName} only allows requesting for yourself`,
      "warning",
    );
  } else if (request.principal !== ownPrincipal) {
    at(
      "principal",
      `principal ${quote(request.principal)} is not the author's own (${requester} maps to ${quote(ownPrincipal)}); ${ruleName} does not allow requesting for someone else, so remove principal`,
    );
  }
}

/**
 * Rules are decided on canonical ids, and an account name or a permission set ARN can only be
 * turned into one by asking AWS, which the pull request check and the merge verdict do not. The
 * worker judges the request again on the ids before it creates anything (`recheckOnCanonicalIds`);
 * say so, so a requester is not surprised by a stricter rule then.
 */
function warnAboutSpelling(
  parsed: ParsedRequest,
  at: (key: keyof ParsedRequest["request"], message: string, severity: Problem["severity"]) => void,
): void {
  const { account, permission_set: permissionSet } = parsed.request;
  if (!ACCOUNT_ID.test(account)) {
    at(
      "account",
      `account ${quote(account)} is a name; policy rules are matched on the account's 12-digit id, which jitsudo looks up and checks again before provisioning (if the rule for that id asks for more, nothing is granted); write the id to see now which rule applies`,
      "warning",
    );
  }
  if (PERMISSION_SET_ARN.test(permissionSet)) {
    at(
      "permission_set",
      "permission_set is an ARN; policy rules are matched on the permission set's name, which jitsudo looks up and checks again before provisioning (if the rule for that name asks for more, nothing is granted); write the name to see now which rule applies",
      "warning",
    );
  }
}

/** What the worker knows of a grant once AWS has turned its names into ids. */
export interface CanonicalGrant {
  accountId: string;
  permissionSetArn: string;
  /** Unset when no rule names a permission set other than by this ARN or "*" (so no lookup was needed). */
  permissionSetName?: string;
  durationMs: number;
  /** How long after the approval the access starts (0 when it started at once). */
  leadTimeMs: number;
  ticket?: string;
  /** Requested for someone other than the requester. */
  forSomeoneElse: boolean;
  /** Distinct code-owner approvals the merge had, from each set of owners that had to approve (the fewest). */
  approvals: number;
  /**
   * The `require_owners` teams (`@org/slug`) the merge had an approval from, among approvals that
   * still count: only teams the merge's rule named were asked of GitHub, so a canonical rule naming
   * another team is not met.
   */
  ownerGroups: ReadonlySet<string>;
  /** The rule the merge was judged under (on the names as written). */
  ruleIndex?: number;
  /** Set when the merge approved it by break-glass: the team (@org/slug) whose member the requester was. */
  breakGlassTeam?: string;
}

export type CanonicalCheck = { ok: true; rule: PolicyRule } | { ok: false; reason: string };

/**
 * The rule that decides a request on its canonical ids (account id; permission set name and ARN),
 * with rule entries written as names or ARNs mapped through `directory`. A request is never
 * provisioned under a looser rule than this one: every requirement of the canonical rule must be
 * met by what the merge actually had (for the rule the merge used, the approvals that still count
 * once approvers are matched to Identity Center users by id).
 */
export function recheckOnCanonicalIds(rules: readonly PolicyRule[], grant: CanonicalGrant, directory: NameDirectory): CanonicalCheck {
  const rule = rules.find(
    (candidate) =>
      candidate.permissionSets.some(
        (entry) =>
          entry === "*" || entry === grant.permissionSetArn || (grant.permissionSetName !== undefined && entry === grant.permissionSetName),
      ) &&
      candidate.accounts.some(
        (entry) => entry === "*" || entry === grant.accountId || directory.accountNames.get(grant.accountId) === entry,
      ),
  );
  const what = `${grant.permissionSetName ?? grant.permissionSetArn} on account ${grant.accountId}`;
  if (!rule)
    return {
      ok: false,
      reason: `on its canonical ids (${what}) no policy rule allows this request, although its spelling matched rules[${grant.ruleIndex ?? "?"}]; ask again naming the account by id and the permission set by name`,
    };
  // Break-glass stands in for approvals only where the canonical rule allows it, for the same team,
  // within its own limits (a request spelled to land on a looser rule's break-glass is caught here).
  const breakGlass = grant.breakGlassTeam === undefined ? undefined : breakGlassUnmet(rule, grant);
  const approvals =
    grant.approvals >= rule.approvals || breakGlass?.length === 0
      ? ""
      : `${rule.approvals} code-owner approvals (the merge had ${grant.approvals}${breakGlass ? `, by break-glass, which on its canonical ids ${breakGlass.join(" and ")}` : ""})`;
  // Break-glass stands in for every code-owner approval, the teams' included.
  const missingGroups =
    breakGlass?.length === 0
      ? []
      : rule.requireOwners.map((team) => `@${team.org}/${team.slug}`).filter((team) => !grant.ownerGroups.has(team.toLowerCase()));
  const groups = missingGroups.length > 0 ? `an approval from an active member of ${missingGroups.join(" and of ")}` : "";
  // The rule the merge used: the verdict checked the rest on it; only who counts may have changed.
  if (rule.index === grant.ruleIndex) {
    const short = [approvals, groups].filter(Boolean);
    return short.length > 0
      ? {
          ok: false,
          reason: `rules[${rule.index}] requires ${short.join(" and ")}, counting only approvers who are not the grantee in Identity Center`,
        }
      : { ok: true, rule };
  }
  const unmet = [
    approvals,
    groups,
    rule.requireTicket && grant.ticket === undefined ? "a ticket" : "",
    grant.durationMs > rule.maxDurationMs ? `a duration of at most ${formatDuration(rule.maxDurationMs)}` : "",
    grant.durationMs < rule.minDurationMs ? `a duration of at least ${formatDuration(rule.minDurationMs)}` : "",
    grant.leadTimeMs > rule.maxLeadTimeMs ? `a start within ${formatDuration(rule.maxLeadTimeMs)}` : "",
    grant.forSomeoneElse && !rule.allowOtherPrincipal ? "the requester's own principal" : "",
  ].filter(Boolean);
  if (unmet.length === 0) return { ok: true, rule };
  return {
    ok: false,
    reason: `on its canonical ids (${what}) rules[${rule.index}] decides this request, not rules[${grant.ruleIndex ?? "?"}] that its spelling matched, and rules[${rule.index}] requires ${unmet.join(", ")}; ask again naming the account by id and the permission set by name`,
  };
}

/** What break-glass under `rule` would need that the grant lacks (empty: it may stand in for the approvals). */
function breakGlassUnmet(rule: PolicyRule, grant: CanonicalGrant): string[] {
  const breakGlass = rule.breakGlass;
  if (!breakGlass) return [`rules[${rule.index}] does not allow`];
  const teams = breakGlass.teams.map(({ org, slug }) => `@${org}/${slug}`.toLowerCase());
  return [
    teams.includes(grant.breakGlassTeam!.toLowerCase()) ? "" : `rules[${rule.index}] allows only for ${teams.join(", ")}`,
    grant.durationMs > breakGlass.maxDurationMs
      ? `rules[${rule.index}] allows for at most ${formatDuration(breakGlass.maxDurationMs)}`
      : "",
    grant.leadTimeMs > 0 ? "must start at the merge" : "",
    grant.ticket === undefined ? "needs a ticket" : "",
    grant.forSomeoneElse ? "is only for the requester" : "",
  ].filter(Boolean);
}

/** A rule entry matches "*", the same text, or the other name of the same thing. */
function sameName(entry: string, requested: string, names: ReadonlyMap<string, string>): boolean {
  if (entry === "*" || entry === requested) return true;
  return names.get(requested) === entry || names.get(entry) === requested;
}
