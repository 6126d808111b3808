/**
 * Mutual exclusion by key. With PostgreSQL it holds across every replica (a transaction-scoped
 * advisory lock, released on commit, rollback or a dropped connection, so a crashed holder never
 * leaves it taken); the in-process variant is for tools that run without a database.
 */
import type { Knex } from "knex";

export interface KeyedLock {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
}

export function postgresLock(db: Knex, namespace: string): KeyedLock {
  return {
    run: (key, work) =>
      db.transaction(async (trx) => {
        // Two int4 keys: a namespace per purpose, the key hashed within it.
        await trx.raw("select pg_advisory_xact_lock(hashtext(?), hashtext(?))", [namespace, key]);
        return work();
      }),
  };
}

/**
 * Runs `work` only if no other session holds the lock, and says whether it ran: for periodic jobs
 * where one replica doing the work is enough and the others should skip the cycle, not queue.
 * The lock lives in a transaction on one pooled connection for as long as `work` runs; a replica
 * that dies mid-cycle drops that connection, and PostgreSQL releases the lock with it.
 */
export async function runIfUnlocked<T>(db: Knex, namespace: string, key: string, work: () => Promise<T>): Promise<{ ran: true; result: T } | { ran: false }> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: { locked: boolean }[] }>("select pg_try_advisory_xact_lock(hashtext(?), hashtext(?)) as locked", [namespace, key]);
    if (!rows[0]?.locked) return { ran: false as const };
    return { ran: true as const, result: await work() };
  });
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
