/**
 * Whether a person is a code owner of a path, asking GitHub about team memberships as needed: for
 * ending access early, where any owner GitHub might apply may act. (The merge verdict reads
 * memberships prefetched instead, so that it stays pure: see approval.ts.)
 */
import { ownersUnderAnyReading, type Codeowners, type CodeownersOwner } from "./codeowners.js";
import type { GitHubGateway } from "../github/gateway.js";

/**
 * `login` is named as a user owner of `path` under any reading of CODEOWNERS, or is an ACTIVE
 * member of a team owner. E-mail owners never count: GitHub does not say which account owns an
 * address. Teams are asked in order, and asking stops at the first yes.
 */
export async function ownsUnderAnyReading(
  teams: Pick<GitHubGateway, "teamMembership">,
  codeowners: Codeowners,
  path: string,
  login: string,
): Promise<boolean> {
  for (const owner of ownersUnderAnyReading(codeowners, path)) {
    if (namesUser(owner, login)) return true;
    if (owner.kind === "team" && (await teams.teamMembership(owner.org, owner.slug, login)) === "active") return true;
  }
  return false;
}

/** A user owner by login; GitHub logins are case-insensitive. */
export function namesUser(owner: CodeownersOwner, login: string): boolean {
  return owner.kind === "user" && owner.login.toLowerCase() === login.toLowerCase();
}
