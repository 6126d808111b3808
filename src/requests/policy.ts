/**
 * Policy evaluation: the first rule whose permission sets and accounts match decides; no match is a
 * denial. Pure: names are matched through a directory the caller fills (from AWS when it has it).
 */
import { principalFor, type PolicyRule, type TenantConfig } from "../config/tenant.js";
import type { ParsedRequest } from "./access-request.js";
import { formatDuration } from "./duration.js";
import type { Problem } from "./problem.js";

/**
 * Other names for the same thing: account id ↔ account name, permission set ARN ↔ name. Empty when
 * AWS has not been asked; then only the forms written in the request and the rule are compared.
 */
export interface NameDirectory {
  accountNames: ReadonlyMap<string, string>; // id → name
  permissionSetNames: ReadonlyMap<string, string>; // ARN → name
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
}

export function evaluatePolicy({ parsed, config, requester, directory = EMPTY_DIRECTORY }: PolicyInput): PolicyDecision {
  const { request } = parsed;
  const problems: Problem[] = [];
  const at = (key: keyof ParsedRequest["request"] | undefined, message: string, severity: Problem["severity"] = "error") => {
    const span = parsed.source.spanOf(key ? [key] : [], "value");
    problems.push({ file: parsed.file, ...span, severity, message });
  };

  const ownPrincipal = requester === undefined ? undefined : principalFor(config, requester);
  const principal = request.principal ?? ownPrincipal;

  const rule = config.rules.find(
    (candidate) =>
      candidate.permissionSets.some((entry) => sameName(entry, request.permission_set, directory.permissionSetNames)) &&
      candidate.accounts.some((entry) => sameName(entry, request.account, directory.accountNames)),
  );
  if (!rule) {
    at(
      "permission_set",
      config.rules.length === 0
        ? `${config.file} on the base branch has no rules, so nothing can be granted; an admin must add rules first`
        : `no rule in ${config.file} allows ${request.permission_set} on account ${request.account}; ask for a permission set and account a rule lists`,
    );
    return { allowed: false, approvalsRequired: 0, ...(principal ? { principal } : {}), problems };
  }

  const ruleName = `rules[${rule.index}] (${config.file} line ${rule.line})`;
  if (parsed.durationMs > rule.maxDurationMs) {
    at("duration", `duration ${request.duration} is longer than the ${formatDuration(rule.maxDurationMs)} that ${ruleName} allows; ask for ${formatDuration(rule.maxDurationMs)} or less`);
  }
  if (parsed.durationMs < rule.minDurationMs) {
    at("duration", `duration ${request.duration} is shorter than the ${formatDuration(rule.minDurationMs)} minimum of ${ruleName}`);
  }
  if (rule.requireTicket && request.ticket === undefined) {
    at(undefined, `${ruleName} requires a ticket for ${request.permission_set}; add ticket: <ticket id, e.g. INC-4711>`);
  }
  if (request.principal !== undefined && !rule.allowOtherPrincipal) {
    if (ownPrincipal === undefined) {
      at("principal", `principal is checked against the pull request author on GitHub; ${ruleName} only allows requesting for yourself`, "warning");
    } else if (request.principal !== ownPrincipal) {
      at("principal", `principal "${request.principal}" is not the author's own (${requester} maps to "${ownPrincipal}"); ${ruleName} does not allow requesting for someone else, so remove principal`);
    }
  }
  return {
    allowed: !problems.some((problem) => problem.severity === "error"),
    rule,
    approvalsRequired: rule.approvals,
    ...(principal ? { principal } : {}),
    problems,
  };
}

/** A rule entry matches "*", the same text, or the other name of the same thing. */
function sameName(entry: string, requested: string, names: ReadonlyMap<string, string>): boolean {
  if (entry === "*" || entry === requested) return true;
  return names.get(requested) === entry || names.get(entry) === requested;
}
