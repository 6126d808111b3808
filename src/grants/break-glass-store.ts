/**
 * Break-glass grants in the database: which are unreviewed, recording a code owner's review, and
 * claiming the reminders owed while none has reviewed them. A grant is break-glass when
 * `break_glass_team` is set (at its merge); its review is `break_glass_reviewed_at/_by`. Reminders
 * fall due at `break_glass_next_reminder_at`, first `review_within` after the access started,
 * then at doubling intervals; each is claimed once across replicas, with its grant event
 * (`break_glass_review_due`, which the notification channels carry) in the same transaction.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { noteEvent, type GrantRow } from "./grant-repository.js";
import { JITSUDO } from "./lifecycle.js";

export type BreakGlassGrant = GrantRow & {
  break_glass_team: string;
  break_glass_review_due_at: Date;
  break_glass_reviewed_at: Date | null;
  break_glass_reviewed_by: string | null;
  break_glass_next_reminder_at: Date | null;
  break_glass_reminders: number;
};

/** The break-glass grants of a pull request that no code owner has reviewed yet. */
export async function unreviewedOfPullRequest(
  db: Knex,
  repositoryId: number,
  prNumber: number,
  tenant: number,
): Promise<BreakGlassGrant[]> {
  return rowsAs<BreakGlassGrant[]>(
    db("grants")
      .where({ repository_id: repositoryId, pr_number: prNumber, tenant })
      .whereNotNull("break_glass_team")
      .whereNull("break_glass_reviewed_at")
      .orderBy("file_path"),
  );
}

/**
 * Records the review of these grants by `reviewer`, once: a grant someone else reviewed meanwhile
 * keeps that review. Returns the grants this call recorded.
 */
export async function recordBreakGlassReview(
  db: Knex,
  grants: readonly BreakGlassGrant[],
  review: { reviewer: string; how: "approval" | "ack"; at: Date },
): Promise<BreakGlassGrant[]> {
  return db.transaction(async (trx) => {
    const reviewed = await rowsAs<BreakGlassGrant[]>(
      trx("grants")
        .whereIn(
          "id",
          grants.map((grant) => grant.id),
        )
        .whereNull("break_glass_reviewed_at")
        .update({ break_glass_reviewed_at: review.at, break_glass_reviewed_by: review.reviewer, break_glass_next_reminder_at: null })
        .returning("*"),
    );
    for (const grant of reviewed) {
      await noteEvent(trx, grant, {
        type: "break_glass_reviewed",
        actor: review.reviewer,
        reason: `break-glass reviewed by code owner @${review.reviewer} (${review.how === "ack" ? "/jitsudo ack" : "approved the merged pull request"})`,
        details: { how: review.how },
      });
    }
    return reviewed;
  });
}

/**
 * Claims the review reminders due at `now` (at most `limit`), each once across replicas: the next
 * one is pushed out (the interval doubles: review_within, then twice that, and so on, measured
 * from the due time) in the same statement that claims this one, with its event.
 */
export async function claimDueReviewReminders(db: Knex, now: Date, limit: number): Promise<BreakGlassGrant[]> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: BreakGlassGrant[] }>(
      `update grants set
         break_glass_reminders = break_glass_reminders + 1,
         break_glass_next_reminder_at = :now::timestamptz
           + (break_glass_review_due_at - starts_at) * power(2, least(break_glass_reminders + 1, 20))
       where id in (select id from grants
                    where break_glass_team is not null and break_glass_reviewed_at is null
                      and break_glass_next_reminder_at <= :now
                    order by break_glass_next_reminder_at limit :limit for update skip locked)
       returning *`,
      { now, limit },
    );
    for (const grant of rows) {
      await noteEvent(trx, grant, {
        type: "break_glass_review_due",
        actor: JITSUDO,
        reason: `break-glass by @${grant.requester} (${grant.break_glass_team}) has not been reviewed by a code owner; it was due ${grant.break_glass_review_due_at.toISOString()} (reminder ${grant.break_glass_reminders})`,
        details: { reminder: grant.break_glass_reminders, next_reminder_at: grant.break_glass_next_reminder_at?.toISOString() ?? null },
      });
    }
    return rows;
  });
}

/** When the next review reminder falls due, if any is waiting. */
export async function nextReviewReminderAt(db: Knex): Promise<Date | undefined> {
  const row = await rowsAs<{ at: Date | null } | undefined>(
    db("grants").whereNotNull("break_glass_team").whereNull("break_glass_reviewed_at").min({ at: "break_glass_next_reminder_at" }).first(),
  );
  return row?.at ?? undefined;
}

/** Break-glass grants no code owner has reviewed yet, for the gauge. */
export async function countUnreviewed(db: Knex): Promise<number> {
  const row = await rowsAs<{ n: string } | undefined>(
    db("grants").whereNotNull("break_glass_team").whereNull("break_glass_reviewed_at").count({ n: "*" }).first(),
  );
  return Number(row?.n ?? 0);
}
