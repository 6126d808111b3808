/**
 * "Did you mean" for a request no policy rule matches: when the permission set is one no rule
 * lists, the nearest one that is; when the permission set is listed but the account is not among
 * the accounts of the rules that list it, the nearest such account. Pure: the policy is given.
 */
import type { TenantConfig } from "../config/tenant.js";
import { closest } from "../parsing/did-you-mean.js";
import { quote } from "../parsing/printable.js";

export interface NameHint {
  /** The flag whose value is not in the policy. */
  flag: "--permission-set" | "--account";
  message: string;
}

/** At most this many names are listed when none is near enough to suggest. */
const LISTED = 8;

/** Undefined when some rule matches both names (then the names are not the problem), or "*" allows any. */
export function nameHint(config: TenantConfig, permissionSet: string, account: string): NameHint | undefined {
  const { rules, file } = config;
  if (rules.length === 0) return undefined;
  const listsSet = (entries: readonly string[]) => entries.includes("*") || entries.includes(permissionSet);
  const setRules = rules.filter((rule) => listsSet(rule.permissionSets));
  if (setRules.length === 0) {
    const names = unique(rules.flatMap((rule) => rule.permissionSets));
    return {
      flag: "--permission-set",
      message: hint(`permission set ${quote(permissionSet, 100)} is in no rule of ${file}`, permissionSet, names),
    };
  }
  if (setRules.some((rule) => rule.accounts.includes("*") || rule.accounts.includes(account))) return undefined;
  const accounts = unique(setRules.flatMap((rule) => rule.accounts));
  return {
    flag: "--account",
    message: hint(`account ${quote(account)} is not among the accounts ${file} lists for ${quote(permissionSet, 100)}`, account, accounts),
  };
}

function hint(what: string, written: string, names: readonly string[]): string {
  const suggestion = closest(written, names);
  if (suggestion !== undefined) return `${what}; did you mean ${quote(suggestion)}?`;
  const shown = names
    .slice(0, LISTED)
    .map((name) => quote(name))
    .join(", ");
  return `${what}; it lists ${shown}${names.length > LISTED ? ` and ${names.length - LISTED} more` : ""}`;
}

function unique(entries: readonly string[]): string[] {
  return [...new Set(entries.filter((entry) => entry !== "*"))];
}
