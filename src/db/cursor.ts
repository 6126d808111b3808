/**
 * A query read in batches through a server-side cursor (DECLARE … FETCH), for results too large to
 * hold: at most two batches of `batchSize` rows are in memory at a time (the one being consumed and
 * the next, fetched meanwhile), and no further batch is fetched until the consumer has taken the
 * current one, so a slow writer downstream holds the query back instead of buffering.
 *
 * No extra package: knex's `.stream()` needs `pg-query-stream`, and a cursor is plain SQL. The
 * query runs in a transaction of its own (a cursor lives in one), on one pooled connection held
 * until the rows are read or the consumer stops (`return()` on the iterator, e.g. a `break` out
 * of `for await`), which rolls it back: the query only reads.
 */
import type { Knex } from "knex";
import { rowsAs } from "./knex.js";

export async function* fetchInBatches<Row>(
  db: Knex,
  sql: string,
  bindings: readonly Knex.RawBinding[],
  batchSize = 2000,
): AsyncGenerator<Row, void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive whole number, not ${batchSize}`);
  const trx = await db.transaction();
  // The transaction is this call's own, so one name never meets another cursor.
  const name = "jitsudo_batches";
  const fetch = async () => (await rowsAs<{ rows: Row[] }>(trx.raw(`fetch forward ${batchSize} from ${name}`))).rows;
  let next: Promise<Row[]> | undefined;
  try {
    await trx.raw(`declare ${name} no scroll cursor for ${sql}`, bindings);
    next = fetch();
    while (next) {
      const rows: Row[] = await next;
      // The next batch is on its way while this one is consumed: the database and this process work
      // at the same time, and at most two batches are held.
      next = rows.length === batchSize ? fetch() : undefined;
      yield* rows;
    }
  } finally {
    // A consumer that stopped early leaves a fetch in flight: let it end before the rollback.
    await next?.catch(() => undefined);
    await trx.rollback();
  }
}
