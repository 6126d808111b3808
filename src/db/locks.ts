/**
 * Mutual exclusion: job leases across replicas for periodic jobs, and an in-process keyed lock for
 * the validation-only server (no database). Work on one pull request across replicas is ordered
 * by the webhook inbox instead (src/inbox).
 */
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";

export interface KeyedLock {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/**
 * Runs `work` only if no other replica is running it, and says whether it ran: for periodic jobs
 * where one replica doing the work is enough and the others should skip the cycle, not queue.
 *
 * The lock is a row (`job_leases`) with an expiry, renewed while `work` runs: nothing holds a
 * pooled connection or a transaction open across the job's GitHub or AWS calls, so a long sweep
 * never takes a connection from webhook handling. A replica that dies mid-job frees it when the
 * lease expires (`ttlMs`); times are the database's, so replicas' clocks do not matter.
 */
export async function runIfUnlocked<T>(
  db: Knex,
  namespace: string,
  key: string,
  work: () => Promise<T>,
  { ttlMs = 60_000 }: { ttlMs?: number } = {},
): Promise<{ ran: true; result: T } | { ran: false }> {
  const owner = randomUUID();
  const { rows } = await db.raw<{ rows: { owner: string }[] }>(
    `insert into job_leases (name, key, owner, expires_at) values (?, ?, ?, now() + ? * interval '1 millisecond')
     on conflict (name, key) do update set owner = excluded.owner, expires_at = excluded.expires_at
     where job_leases.expires_at < now()
     returning owner`,
    [namespace, key, owner, ttlMs],
  );
  if (rows.length === 0) return { ran: false };
  const mine = () => db("job_leases").where({ name: namespace, key, owner });
  const renewal = setInterval(() => {
    void mine()
      .update({ expires_at: db.raw("now() + ? * interval '1 millisecond'", [ttlMs]) })
      .catch(() => undefined);
  }, ttlMs / 3);
  try {
    return { ran: true, result: await work() };
  } finally {
    clearInterval(renewal);
    await mine()
      .delete()
      .catch(() => undefined);
  }
}

export function processLock(): KeyedLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    async run(key, work) {
      const previous = tails.get(key) ?? Promise.resolve();
      const current = previous.catch(() => undefined).then(work);
      tails.set(key, current);
      try {
        return await current;
      } finally {
        if (tails.get(key) === current) tails.delete(key);
      }
    },
  };
}
