/**
 * Team memberships and repository permissions as the merge verdict reads them. They are asked of
 * GitHub when the merge is judged, which should be at the merge. When the judgement has to wait
 * (GitHub's record of a squash or rebase merge lags behind its webhook), the answers at first sight
 * are kept and used later, so that a pending team member who accepts the invitation after the merge,
 * or write access given after it, never turns into an approval that did not exist at the merge.
 *
 * A membership or a team's existence GitHub does not answer (an error other than 404, after
 * Octokit's own retries) becomes an `Unreadable` answer: it never counts, and the verdict says
 * why on the pull request, rather than the merge waiting in the inbox until it is given up
 * unexplained. Such answers are not kept: a later look (a deferred judgement) asks again.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { teamExistenceKey, teamKey } from "../approval/approval.js";
import { isUnreadable, type ExistenceAnswer, type MembershipAnswer, type Unreadable } from "../approval/owner-groups.js";
import type { RepoPermission, TeamExistence, TeamMembership } from "./types.js";
import type { GitHubGateway } from "./gateway.js";

export interface LookupAnswers {
  memberships: Map<string, MembershipAnswer>;
  permissions: Map<string, RepoPermission>;
  /** Whether each team of a `require_owners` exists, keyed by `teamExistenceKey`. */
  teams: Map<string, ExistenceAnswer>;
}

export interface LookupsNeeded {
  teams: { org: string; slug: string; login: string }[];
  logins: string[];
  existence: { org: string; slug: string }[];
}

export interface MergeKey {
  repositoryId: number;
  pr: { number: number };
  mergeCommitSha: string;
}

/** Each membership and permission asked once, all at the same time; answers kept earlier win. */
export async function lookUp(gateway: GitHubGateway, needed: LookupsNeeded, kept: LookupAnswers): Promise<LookupAnswers> {
  const [memberships, permissions, teams] = await Promise.all([
    Promise.all(
      needed.teams.map(async ({ org, slug, login }) => {
        const key = teamKey(org, slug, login);
        return [key, kept.memberships.get(key) ?? (await unlessUnreadable(gateway.teamMembership(org, slug, login)))] as const;
      }),
    ),
    Promise.all(needed.logins.map(async (login) => [login, kept.permissions.get(login) ?? (await gateway.repoPermission(login))] as const)),
    Promise.all(
      needed.existence.map(async ({ org, slug }) => {
        const key = teamExistenceKey(org, slug);
        return [key, kept.teams.get(key) ?? (await unlessUnreadable(gateway.teamExistence(org, slug)))] as const;
      }),
    ),
  ]);
  return { memberships: new Map(memberships), permissions: new Map(permissions), teams: new Map(teams) };
}

/** GitHub's answer, or why there is none: what the verdict can tell the pull request. */
async function unlessUnreadable<T>(answer: Promise<T>): Promise<T | Unreadable> {
  try {
    return await answer;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (status === 403) return { unreadable: 'GitHub answered 403 (the app needs the "members: read" permission)' };
    return { unreadable: typeof status === "number" ? `GitHub answered ${status}` : "GitHub could not be reached" };
  }
}

export async function keptLookups(db: Knex, merge: MergeKey): Promise<LookupAnswers> {
  const rows = await rowsAs<{ key: string; answer: string }[]>(db("merge_lookups").where(keyOf(merge)).select("key", "answer"));
  const answers: LookupAnswers = { memberships: new Map(), permissions: new Map(), teams: new Map() };
  for (const { key, answer } of rows) {
    if (key.startsWith("team:")) answers.memberships.set(key.slice(5), answer as TeamMembership);
    else if (key.startsWith("permission:")) answers.permissions.set(key.slice(11), answer as RepoPermission);
    else if (key.startsWith("team-existence:")) answers.teams.set(key.slice(15), answer as TeamExistence);
  }
  return answers;
}

/** Keeps the answers of a first look; an answer kept before is never replaced by a later one. */
export async function keepLookups(db: Knex, merge: MergeKey, answers: LookupAnswers): Promise<void> {
  // What GitHub did not answer is asked again at the next look, never kept as an answer.
  const rows = [
    ...readable(answers.memberships).map(([key, answer]) => ({ ...keyOf(merge), key: `team:${key}`, answer })),
    ...[...answers.permissions].map(([login, answer]) => ({ ...keyOf(merge), key: `permission:${login}`, answer })),
    ...readable(answers.teams).map(([key, answer]) => ({ ...keyOf(merge), key: `team-existence:${key}`, answer })),
  ];
  if (rows.length > 0)
    await db("merge_lookups").insert(rows).onConflict(["repository_id", "pr_number", "merge_commit_sha", "key"]).ignore();
}

function readable<T extends string>(answers: ReadonlyMap<string, T | Unreadable>): [string, T][] {
  return [...answers].filter((entry): entry is [string, T] => !isUnreadable(entry[1]));
}

function keyOf(merge: MergeKey) {
  return { repository_id: merge.repositoryId, pr_number: merge.pr.number, merge_commit_sha: merge.mergeCommitSha };
}
