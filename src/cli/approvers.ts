/**
 * Who can approve a request file, as the merge verdict will count them: code owners of the file's
 * path by CODEOWNERS at the default branch (the matcher the verdict uses), never the requester, and
 * what in CODEOWNERS stops every approval (an invalid line, GitHub's own error report, a reading
 * GitHub's evidence leaves ambiguous). Pure: the governance files are already judged.
 */
import { formatOwner, ownership } from "../approval/codeowners.js";
import type { Governance } from "../approval/governance.js";
import { printable } from "../parsing/printable.js";

export interface Approvers {
  /** Who, and the CODEOWNERS line that says so: `@bob, @acme/platform (.github/CODEOWNERS line 1)`; "nobody" when none. */
  owners: string;
  /** What stops any approval of the file (its pull request's check fails for each of these). */
  blockers: string[];
}

export function approversOf(governance: Governance, path: string, requester: string): Approvers {
  const blockers = governance.codeownersBlockers.map((blocker) => blocker.message);
  const { codeowners } = governance;
  if (!codeowners) return { owners: "nobody (no CODEOWNERS at the default branch)", blockers };

  const owned = ownership(codeowners, path);
  if (owned.ambiguity) blockers.push(owned.ambiguity.message);
  const owners = owned.owners.map(formatOwner);
  if (owners.length === 0) {
    blockers.push(
      `no line of ${codeowners.path} at the default branch owns ${printable(path)}, so nobody can approve it; an admin must add a line such as "/access-requests/ @org/approvers" in a pull request of its own`,
    );
    return { owners: "nobody", blockers };
  }
  const others = owners.filter((owner) => owner.toLowerCase() !== `@${requester}`.toLowerCase());
  const where = `${codeowners.path} line ${owned.rule!.line}`;
  if (others.length === 0) {
    blockers.push(
      `only you (@${requester}) own ${printable(path)} by ${where}, and a requester never approves their own request; ask an admin to add approvers`,
    );
    return { owners: "nobody but you, who cannot", blockers };
  }
  const teams = others.some((owner) => owner.includes("/")) ? ", a team through its active members" : "";
  const notYou = others.length < owners.length ? `; not you, although it names you` : "";
  return { owners: `${others.join(", ")} (${where}${teams}${notYou})`, blockers };
}
