/**
 * Every SQL statement about the webhook inbox. A delivery is stored once (by its delivery id, so
 * GitHub's redelivery of it, or a second replica receiving it, changes nothing), claimed by one
 * processor at a time, and never before every earlier delivery of its ordering key is finished.
 */
import type { Knex } from "knex";
import { leaseFree } from "../grants/work-queue.js";
import type { InboxEntry } from "./deliveries.js";

/** Processors LISTEN here; storing a delivery rings it on commit. */
export const INBOX_CHANNEL = "jitsudo_inbox";

export interface StoredDelivery {
  seq: string;
  delivery_id: string;
  event: string;
  action: string | null;
  installation_id: string | null;
  repository_id: string | null;
  ordering_key: string;
  payload: unknown;
  attempts: number;
  received_at: Date;
}

/** True when the delivery is new; false for one already stored (a redelivery). */
export async function storeDelivery(db: Knex, entry: InboxEntry): Promise<boolean> {
  return (await storeDeliveries(db, [{ entry }]))[0]!;
}

/**
 * Stores deliveries in one statement, in the order given (their `seq` follows it), and rings the
 * processors on commit. `body` is the payload as GitHub sent it, stored without serializing it
 * again; as bytes it is sent in PostgreSQL's binary format, which for json is the text itself.
 * Returns, for each row, whether it was new (false: a redelivery, or the same id earlier in the batch).
 */
export async function storeDeliveries(db: Knex, rows: readonly { entry: InboxEntry; body?: string | Buffer }[]): Promise<boolean[]> {
  if (rows.length === 0) return [];
  const values = rows.map(() => "(?, ?, ?, ?::bigint, ?::bigint, ?, ?::json)").join(", ");
  const bindings = rows.flatMap(({ entry, body }) => [
    entry.deliveryId,
    entry.event,
    entry.action ?? null,
    entry.installationId ?? null,
    entry.repositoryId ?? null,
    entry.orderingKey,
    body ?? JSON.stringify(entry.payload),
  ]);
  // One statement, one round trip: a burst of deliveries is answered as soon as it commits.
  const { rows: stored } = await db.raw<{ rows: { delivery_id: string }[] }>(
    `with stored as (
       insert into webhook_inbox (delivery_id, event, action, installation_id, repository_id, ordering_key, payload)
       values ${values}
       on conflict (delivery_id) do nothing
       returning delivery_id
     )
     select delivery_id, pg_notify(?, '') from stored`,
    [...bindings, INBOX_CHANNEL],
  );
  const fresh = new Set(stored.map((row) => row.delivery_id));
  // A second row with the same id in one batch was not stored: only the first counts as new.
  return rows.map(({ entry }) => fresh.delete(entry.deliveryId));
}

/**
 * Up to `limit` deliveries that are due, each the oldest unfinished one of its ordering key, and
 * not held by a live processor (one whose session is gone left its deliveries to be taken again).
 */
export async function claimDeliveries(db: Knex, owner: string, limit: number): Promise<StoredDelivery[]> {
  if (limit <= 0) return [];
  const { rows } = await db.raw<{ rows: StoredDelivery[] }>(
    `with next as (
       select w.seq from webhook_inbox w
       where w.status in ('pending', 'processing') and w.next_attempt_at <= now()
         and (w.status = 'pending' or ${leaseFree("w.lease_owner")})
         and not exists (
           select 1 from webhook_inbox e
           where e.ordering_key = w.ordering_key and e.seq < w.seq and e.status in ('pending', 'processing'))
       order by w.seq
       limit ?
       for update skip locked)
     update webhook_inbox i set status = 'processing', lease_owner = ?, attempts = i.attempts + 1
     from next where i.seq = next.seq
     returning i.seq, i.delivery_id, i.event, i.action, i.installation_id, i.repository_id, i.ordering_key, i.payload, i.attempts, i.received_at`,
    [limit, owner],
  );
  return rows.map((row) => ({ ...row, seq: String(row.seq) }));
}

export async function finishDelivery(db: Knex, delivery: StoredDelivery, owner: string, outcome: string): Promise<void> {
  await db("webhook_inbox")
    .where({ seq: delivery.seq, lease_owner: owner })
    .update({ status: "done", outcome, lease_owner: null, last_error: null, finished_at: db.fn.now() });
}

/** A failed attempt: tried again after `delayMs`, or given up (`dead`) when out of attempts. */
export async function failDelivery(
  db: Knex,
  delivery: StoredDelivery,
  owner: string,
  error: string,
  retry: { delayMs: number; keepAttempt?: boolean } | "give-up",
): Promise<void> {
  const changes =
    retry === "give-up"
      ? { status: "dead", finished_at: db.fn.now() }
      : {
          status: "pending",
          next_attempt_at: db.raw("now() + ? * interval '1 millisecond'", [Math.round(retry.delayMs)]),
          ...(retry.keepAttempt ? { attempts: db.raw("greatest(0, attempts - 1)") } : {}),
        };
  await db("webhook_inbox")
    .where({ seq: delivery.seq, lease_owner: owner })
    .update({ ...changes, lease_owner: null, last_error: error.slice(0, 2000) });
}

/** Every waiting delivery due now: for tests and the demo, which control time themselves. */
export async function makeAllDue(db: Knex): Promise<void> {
  await db("webhook_inbox").where({ status: "pending" }).update({ next_attempt_at: db.fn.now() });
}

/** How long until the next delivery is due (0: now), or undefined when nothing is waiting. */
export async function nextDueInMs(db: Knex): Promise<number | undefined> {
  const { rows } = await db.raw<{ rows: { ms: string | null }[] }>(
    `select greatest(0, extract(epoch from (min(next_attempt_at) - now())) * 1000) as ms
     from webhook_inbox where status = 'pending'`,
  );
  return rows[0]?.ms === null || rows[0]?.ms === undefined ? undefined : Number(rows[0].ms);
}

/** Deliveries waiting or in progress, and those given up on: for /metrics. */
export async function inboxCounts(db: Knex): Promise<{ waiting: number; dead: number }> {
  const { rows } = await db.raw<{ rows: { waiting: string; dead: string }[] }>(
    `select count(*) filter (where status in ('pending', 'processing')) as waiting,
            count(*) filter (where status = 'dead') as dead
     from webhook_inbox`,
  );
  return { waiting: Number(rows[0]?.waiting ?? 0), dead: Number(rows[0]?.dead ?? 0) };
}

/** Finished deliveries are kept a week for the record, then deleted. */
export async function pruneDeliveries(db: Knex, olderThanMs: number): Promise<number> {
  return db("webhook_inbox")
    .whereIn("status", ["done", "dead"])
    .where("finished_at", "<", db.raw("now() - ? * interval '1 millisecond'", [olderThanMs]))
    .delete();
}

/** Which of these delivery ids the inbox holds (whatever their state): GitHub need not send them again. */
export async function deliveriesHeld(db: Knex, deliveryIds: readonly string[]): Promise<Set<string>> {
  if (deliveryIds.length === 0) return new Set();
  return new Set((await db("webhook_inbox").whereIn("delivery_id", deliveryIds).pluck("delivery_id")) as string[]);
}

/** Until when the redelivery job has looked at the app's failed deliveries. */
export async function redeliveryCheckedUntil(db: Knex, appKey: string): Promise<Date | undefined> {
  const row = (await db("webhook_redelivery_checks").where({ app: appKey }).first()) as { checked_until: Date } | undefined;
  return row?.checked_until;
}

export async function saveRedeliveryCheckedUntil(db: Knex, appKey: string, until: Date): Promise<void> {
  await db("webhook_redelivery_checks").insert({ app: appKey, checked_until: until }).onConflict("app").merge();
}
