/**
 * Session durations the worker read from Identity Center before provisioning earlier grants, for
 * the pull request check (which has no AWS access): a request under a rule with
 * max_session_duration is refused on its pull request when its permission set's session duration
 * is known to be longer. Only the repository's own grants are asked, on its instance, read within
 * `maxAgeMs`: another tenant's readings never decide what this one's pull requests are told, and
 * an old reading is no reading (an admin may have changed the permission set since).
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import type { KnownSessionDuration } from "../requests/policy.js";

/** How recent a reading must be to refuse a pull request on it. */
export const SESSION_READING_MAX_AGE_MS = 24 * 3_600_000;

/** Readings enough to cover every permission set a repository uses. */
const MAX_READINGS = 500;

export async function recentSessionDurations(
  db: Knex,
  scope: { repositoryId: number | string; instanceArn?: string; now: Date; maxAgeMs?: number },
): Promise<Map<string, KnownSessionDuration>> {
  const since = new Date(scope.now.getTime() - (scope.maxAgeMs ?? SESSION_READING_MAX_AGE_MS));
  const query = db("grants")
    .where({ repository_id: scope.repositoryId })
    .where("session_duration_read_at", ">=", since)
    .orderBy("session_duration_read_at", "desc")
    .limit(MAX_READINGS)
    .select("permission_set_ref", "permission_set_arn", "session_duration_seconds", "session_duration_read_at", "pr_number");
  if (scope.instanceArn !== undefined) void query.where({ instance_arn: scope.instanceArn });
  const rows = await rowsAs<
    {
      permission_set_ref: string;
      permission_set_arn: string | null;
      session_duration_seconds: number;
      session_duration_read_at: Date;
      pr_number: number;
    }[]
  >(query);
  // Newest first: each spelling (the name or ARN a request used, and the ARN) keeps its latest reading.
  const known = new Map<string, KnownSessionDuration>();
  for (const row of rows) {
    const reading = { seconds: row.session_duration_seconds, readAt: row.session_duration_read_at, pr: row.pr_number };
    for (const spelling of [row.permission_set_ref, row.permission_set_arn]) {
      if (spelling !== null && !known.has(spelling)) known.set(spelling, reading);
    }
  }
  return known;
}
