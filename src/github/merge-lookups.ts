/**
 * Team memberships and repository permissions as the merge verdict reads them. They are asked of
 * GitHub when the merge is judged, which should be at the merge. When the judgement has to wait
 * (GitHub's record of a squash or rebase merge lags behind its webhook), the answers at first sight
 * are kept and used later, so that a pending team member who accepts the invitation after the merge,
 * or write access given after it, never turns into an approval that did not exist at the merge.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { teamKey } from "../approval/approval.js";
import type { RepoPermission, TeamMembership } from "./types.js";
import type { GitHubGateway } from "./gateway.js";

export interface LookupAnswers {
  memberships: Map<string, TeamMembership>;
  permissions: Map<string, RepoPermission>;
}

export interface LookupsNeeded {
  teams: { org: string; slug: string; login: string }[];
  logins: string[];
}

export interface MergeKey {
  repositoryId: number;
  pr: { number: number };
  mergeCommitSha: string;
}

/** Each membership and permission asked once, all at the same time; answers kept earlier win. */
export async function lookUp(gateway: GitHubGateway, needed: LookupsNeeded, kept: LookupAnswers): Promise<LookupAnswers> {
  const [memberships, permissions] = await Promise.all([
    Promise.all(
      needed.teams.map(async ({ org, slug, login }) => {
        const key = teamKey(org, slug, login);
        return [key, kept.memberships.get(key) ?? (await gateway.teamMembership(org, slug, login))] as const;
      }),
    ),
    Promise.all(needed.logins.map(async (login) => [login, kept.permissions.get(login) ?? (await gateway.repoPermission(login))] as const)),
  ]);
  return { memberships: new Map(memberships), permissions: new Map(permissions) };
}

export async function keptLookups(db: Knex, merge: MergeKey): Promise<LookupAnswers> {
  const rows = await rowsAs<{ key: string; answer: string }[]>(db("merge_lookups").where(keyOf(merge)).select("key", "answer"));
  const answers: LookupAnswers = { memberships: new Map(), permissions: new Map() };
  for (const { key, answer } of rows) {
    if (key.startsWith("team:")) answers.memberships.set(key.slice(5), answer as TeamMembership);
    else if (key.startsWith("permission:")) answers.permissions.set(key.slice(11), answer as RepoPermission);
  }
  return answers;
}

/** Keeps the answers of a first look; an answer kept before is never replaced by a later one. */
export async function keepLookups(db: Knex, merge: MergeKey, answers: LookupAnswers): Promise<void> {
  const rows = [
    ...[...answers.memberships].map(([key, answer]) => ({ ...keyOf(merge), key: `team:${key}`, answer })),
    ...[...answers.permissions].map(([login, answer]) => ({ ...keyOf(merge), key: `permission:${login}`, answer })),
  ];
  if (rows.length > 0)
    await db("merge_lookups").insert(rows).onConflict(["repository_id", "pr_number", "merge_commit_sha", "key"]).ignore();
}

function keyOf(merge: MergeKey) {
  return { repository_id: merge.repositoryId, pr_number: merge.pr.number, merge_commit_sha: merge.mergeCommitSha };
}
