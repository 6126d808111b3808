/**
 * Writes deliveries to the inbox in batches: every delivery that arrives while a write is in
 * flight goes into the next one, a single INSERT of many rows. A burst of deliveries then costs a
 * handful of statements and one connection instead of one of each per delivery, which is what kept
 * answers slow under a burst (each waited its turn for a pooled connection). A delivery is answered
 * only once its batch has committed.
 *
 * One batch at a time: rows get their `seq` in arrival order (the order deliveries of one pull
 * request are handled in), which two batches committing side by side would not promise.
 *
 * Written here rather than taken from a library: what is batched is one SQL statement of ours
 * (`storeDeliveries`), and knex has no group-commit helper.
 */
import type { Knex } from "knex";
import type { InboxEntry } from "./deliveries.js";
import { storeDeliveries } from "./inbox-store.js";

interface Waiting {
  entry: InboxEntry;
  /** The payload as GitHub sent it (JSON), stored as it is. */
  body: string | Buffer;
  resolve(stored: boolean): void;
  reject(error: unknown): void;
}

/** Rows in one statement (7 parameters each, far below PostgreSQL's 65,535). */
const BATCH_ROWS = 100;

export class InboxWriter {
  private queue: Waiting[] = [];
  private writing = false;

  constructor(private readonly db: Knex) {}

  /** Resolves true when the delivery is new, false for one already stored (a redelivery), once committed. */
  store(entry: InboxEntry, body: string | Buffer = JSON.stringify(entry.payload)): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, body, resolve, reject });
      // Deliveries read in the same turn of the event loop share the batch.
      if (!this.writing && this.queue.length === 1) setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.write(this.queue.splice(0, BATCH_ROWS));
    } finally {
      this.writing = false;
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const stored = await storeDeliveries(this.db, batch);
      batch.forEach((waiting, index) => waiting.resolve(stored[index]!));
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One row the database refuses must not fail the deliveries it happened to share a
      // statement with: each is written on its own, in order, and only the bad one fails.
      for (const waiting of batch) await this.write([waiting]);
    }
  }
}
