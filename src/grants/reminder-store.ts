/**
 * Expiry reminders in the database (the rules are in `reminders.ts`). A reminder is claimed once
 * across every replica: `reminded_at` is set by one conditional UPDATE over rows taken `FOR UPDATE
 * SKIP LOCKED`, and its grant event (`expiry_reminder`, what the notification channels read) is
 * written in the same transaction. The PR comment it owes is a separate, durable step: taken under
 * a short lease (`reminder_comment_tried_at`), recorded once GitHub has it, tried again when
 * GitHub failed, given up only when the grant is no longer active or has expired.
 */
import type { Knex } from "knex";
import { noteEvent, type GrantRow } from "./grant-repository.js";
import { JITSUDO } from "./lifecycle.js";
import { describeLead } from "./reminders.js";

/**
 * SQL over `g`: an active grant with a reminder not yet claimed, and not being extended (its
 * extension, on its way or active, is reminded instead; one that failed leaves the grant reminded).
 */
const REMINDABLE = `g.status = 'active' and g.reminded_at is null and g.remind_before_seconds is not null
  and not exists (select 1 from grants e where e.id = g.superseded_by and e.extends_grant_id = g.id
                  and e.status in ('approved', 'provisioning', 'active'))`;
const DUE_AT = "g.expires_at - g.remind_before_seconds * interval '1 second'";

/** Claims the reminders due at `now` (at most `limit`), each exactly once across replicas, with its event. */
export async function claimDueReminders(db: Knex, now: Date, limit: number): Promise<GrantRow[]> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: GrantRow[] }>(
      `update grants set reminded_at = :now
       where id in (select g.id from grants g where ${REMINDABLE} and g.expires_at > :now and ${DUE_AT} <= :now
                    order by g.expires_at limit :limit for update of g skip locked)
         and reminded_at is null
       returning *`,
      { now, limit },
    );
    for (const grant of rows) {
      const lead = grant.remind_before_seconds ?? 0;
      await noteEvent(trx, grant, {
        type: "expiry_reminder",
        actor: JITSUDO,
        reason: `access ends at ${grant.expires_at.toISOString()}; to extend it, merge an approved edit of duration in ${grant.file_path}`,
        details: {
          expires_at: grant.expires_at.toISOString(),
          remind_before: describeLead(lead),
          requester: grant.requester,
          principal: grant.principal,
          account: grant.account_id ?? grant.account_ref,
          permission_set: grant.permission_set_ref,
          file_path: grant.file_path,
          extend: { file_path: grant.file_path, key: "duration" },
        },
      });
    }
    return rows.map((row) => ({ ...row, tenant: String(row.tenant) }));
  });
}

/** When the next reminder falls due (undefined: none is waiting), for the worker's sleep. */
export async function nextReminderAt(db: Knex, now: Date): Promise<Date | undefined> {
  const { rows } = await db.raw<{ rows: { at: Date | null }[] }>(
    `select min(${DUE_AT}) as at from grants g where ${REMINDABLE} and g.expires_at > :now`,
    { now },
  );
  return rows[0]?.at ?? undefined;
}

/**
 * Takes the reminder comments owed (claimed, not yet on GitHub, grant still active) whose lease is
 * free, leasing each for `leaseMs` to this caller: one sender at a time, across replicas.
 */
export async function takeOwedReminderComments(db: Knex, now: Date, leaseMs: number, limit: number): Promise<GrantRow[]> {
  const { rows } = await db.raw<{ rows: GrantRow[] }>(
    `update grants set reminder_comment_tried_at = :now
     where id in (select id from grants
                  where reminded_at is not null and reminder_comment_sent_at is null and status = 'active' and expires_at > :now
                    and (reminder_comment_tried_at is null or reminder_comment_tried_at <= :leaseEnd)
                  order by reminded_at limit :limit for update skip locked)
     returning *`,
    { now, leaseEnd: new Date(now.getTime() - leaseMs), limit },
  );
  return rows.map((row) => ({ ...row, tenant: String(row.tenant) }));
}

export async function markReminderCommentSent(db: Knex, grantId: string): Promise<void> {
  await db("grants").where({ id: grantId }).update({ reminder_comment_sent_at: db.fn.now() });
}

/** The send failed: the lease is shortened so the comment is taken again `retryMs` after `now`. */
export async function retryReminderComment(db: Knex, grantId: string, now: Date, leaseMs: number, retryMs: number): Promise<void> {
  await db("grants")
    .where({ id: grantId })
    .whereNull("reminder_comment_sent_at")
    .update({ reminder_comment_tried_at: new Date(now.getTime() - leaseMs + retryMs) });
}
