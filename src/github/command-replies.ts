/**
 * The bot's replies to comment commands, one row per pull request and kind (`command_replies`): the
 * record that keeps a flood of comments from becoming a flood of replies.
 */
import type { Knex } from "knex";

/**
 * Records a reply of `kind` on the pull request at `now`, unless one was recorded after `since`;
 * true when this caller may reply (atomic across replicas: one insert-or-update decides).
 */
export async function claimReply(
  db: Knex,
  pull: { repositoryId: number; pullNumber: number },
  kind: "help",
  now: Date,
  since: Date,
): Promise<boolean> {
  const { rowCount } = await db.raw<{ rowCount: number }>(
    `insert into command_replies (repository_id, pr_number, kind, replied_at) values (?, ?, ?, ?)
     on conflict (repository_id, pr_number, kind) do update set replied_at = excluded.replied_at
     where command_replies.replied_at <= ?`,
    [pull.repositoryId, pull.pullNumber, kind, now, since],
  );
  return rowCount === 1;
}
