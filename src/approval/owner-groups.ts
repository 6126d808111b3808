/**
 * Cross-team approval (`require_owners` on a policy rule): for each team the rule names, at least
 * one of the approvals that already count (a code owner of the file, write access, the final
 * commit, not the requester, the grantee or a commit author: see `approval.ts`) must come from an
 * ACTIVE member of that team. One person in several teams stands for each of them; `approvals`
 * still counts people, so that person is one approval. Pure: memberships and whether each team
 * exists are read by the caller, and a lookup GitHub did not answer never counts (fail closed).
 */
import { TENANT_CONFIG_PATH, type TeamRef } from "../config/tenant.js";
import type { TeamExistence, TeamMembership } from "../github/types.js";

/** A lookup GitHub did not answer (an error other than 404): it never counts, and `unreadable` says why. */
export interface Unreadable {
  unreadable: string;
}

export type MembershipAnswer = TeamMembership | Unreadable;
export type ExistenceAnswer = TeamExistence | Unreadable;

/** One team of `require_owners`, as read for the verdict. */
export interface RequiredTeam {
  team: TeamRef;
  existence: ExistenceAnswer;
}

/** Who stood for one team: the approvers (who count) that are active members; empty while it is still needed. */
export interface OwnerGroup {
  team: string;
  approvers: string[];
}

export interface OwnerGroupsJudgement {
  groups: OwnerGroup[];
  /** Empty when every team has an approver. */
  reasons: string[];
}

/** `@org/slug`, as people write a team. */
function teamName(team: Pick<TeamRef, "org" | "slug">): string {
  return `@${team.org}/${team.slug}`;
}

export function isUnreadable<T extends string>(answer: T | Unreadable): answer is Unreadable {
  return typeof answer === "object";
}

/**
 * Judges the rule's teams against the approvers who count for the path. `membership` answers for
 * every approver who counts (the caller read each of their memberships of each team, whatever
 * the answers); `ruleIndex` names the rule in messages.
 */
export function judgeOwnerGroups(
  required: readonly RequiredTeam[],
  counted: readonly string[],
  membership: (team: TeamRef, login: string) => MembershipAnswer,
  ruleIndex: number,
): OwnerGroupsJudgement {
  const groups: OwnerGroup[] = [];
  const reasons: string[] = [];
  for (const { team, existence } of required) {
    const name = teamName(team);
    const where = `require_owners of rules[${ruleIndex}] (${TENANT_CONFIG_PATH} line ${team.line})`;
    // A team that is gone answers 404 for every member: say so, rather than blame each approver.
    if (existence === "not-found") {
      groups.push({ team: name, approvers: [] });
      reasons.push(
        `${name}, named in ${where}, does not exist on GitHub (renamed or deleted?), so no approval can count for it; an admin must name an existing team there`,
      );
      continue;
    }
    if (existence === "has-child-teams") {
      groups.push({ team: name, approvers: [] });
      reasons.push(
        `${name}, named in ${where}, has child teams, and GitHub counts their members as its own, so jitsudo cannot tell who is in ${name} itself and no approval can count for it; an admin must name a team without child teams there`,
      );
      continue;
    }
    if (isUnreadable(existence)) {
      groups.push({ team: name, approvers: [] });
      reasons.push(`jitsudo could not read whether ${name} (${where}) exists: ${existence.unreadable}; so no approval can count for it`);
      continue;
    }
    const answers = counted.map((login) => ({ login, answer: membership(team, login) }));
    const members = answers.filter(({ answer }) => answer === "active").map(({ login }) => login);
    groups.push({ team: name, approvers: members });
    if (members.length > 0) continue;
    const countedText = counted.length > 0 ? ` among the approvals that count (${counted.map((login) => `@${login}`).join(", ")})` : "";
    reasons.push(`needs an approval from an active member of ${name} (${where}), and has none${countedText}`);
    for (const { login, answer } of answers) {
      if (answer === "pending") reasons.push(`@${login}'s membership of ${name} is pending`);
      else if (isUnreadable(answer))
        reasons.push(
          `jitsudo could not read whether @${login} is a member of ${name}: ${answer.unreadable}; so their approval does not count for it`,
        );
    }
  }
  return { groups, reasons };
}
