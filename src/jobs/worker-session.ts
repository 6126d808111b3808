/**
 * A worker's own database session, on a connection of its own for as long as the worker runs:
 *
 * - its proof of life: a session advisory lock on its id. Leases (`grants.lease_owner`) of a
 *   worker whose lock is gone are free, so a worker that is killed, or loses its connection,
 *   hands its grants over at once;
 * - its doorbell: LISTEN on the work channel, which a merge or a revoke request rings on commit,
 *   so new work starts now rather than at the next tick.
 *
 * If the connection drops while the process lives on, the worker must stop claiming: `onLost`.
 */
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { WORK_CHANNEL } from "../grants/grant-repository.js";
import { WORKER_LOCK_NAMESPACE } from "../grants/work-queue.js";

interface PgConnection {
  query(sql: string, values?: unknown[]): Promise<unknown>;
  on(event: "error" | "end" | "notification", listener: (payload?: unknown) => void): void;
}

/** knex's client is untyped; a session takes one connection out of the pool, past the query builder. */
function pool(db: Knex): { acquireConnection(): Promise<PgConnection>; releaseConnection(connection: PgConnection): Promise<void> } {
  return db.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(connection: PgConnection): Promise<void> };
}

export interface SessionEvents {
  onWork(): void;
  onLost(error?: unknown): void;
}

export class WorkerSession {
  private connection?: PgConnection;
  private lost = false;

  private constructor(
    private readonly db: Knex,
    readonly workerId: string,
    private readonly channel: string,
  ) {}

  static async open(db: Knex, events: SessionEvents, workerId = `worker-${randomUUID()}`, channel = WORK_CHANNEL): Promise<WorkerSession> {
    const session = new WorkerSession(db, workerId, channel);
    const connection = await pool(db).acquireConnection();
    session.connection = connection;
    const lose = (error?: unknown) => {
      if (session.lost) return;
      session.lost = true;
      events.onLost(error);
    };
    connection.on("error", lose);
    connection.on("end", () => lose());
    connection.on("notification", () => events.onWork());
    await connection.query("select pg_advisory_lock(hashtext($1), hashtext($2))", [WORKER_LOCK_NAMESPACE, workerId]);
    await connection.query(`listen ${channel}`);
    return session;
  }

  /** Gives up the lock (and so every lease still held) and returns the connection to the pool. */
  async close(): Promise<void> {
    const connection = this.connection;
    if (!connection) return;
    this.connection = undefined;
    this.lost = true;
    try {
      await connection.query(`unlisten ${this.channel}`);
      await connection.query("select pg_advisory_unlock(hashtext($1), hashtext($2))", [WORKER_LOCK_NAMESPACE, this.workerId]);
    } finally {
      await pool(this.db).releaseConnection(connection);
    }
  }
}
