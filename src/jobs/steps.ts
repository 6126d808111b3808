/**
 * What the provisioning and revoke workers do the same way: move a grant they hold to its next
 * status (event, metric, PR report), and run many grants at once without losing track of any.
 */
import { StaleGrantError, transition, type EventInput, type GrantRow } from "../grants/store.js";
import { JITSUDO, type JobContext } from "./context.js";

/** Ends a grant's step early: it was finished, handed over, or moved by someone else (an early revoke). */
export class StepEnded extends Error {
  constructor(reason = "step ended") {
    super(reason);
    this.name = "StepEnded";
  }
}

export type StepEvent = Omit<EventInput, "actor"> & { actor?: string };

/** A status change of a grant this worker holds (its lease is the guard), reported on its PR. */
export async function moveGrant(ctx: JobContext, grant: GrantRow, to: GrantRow["status"], event: StepEvent, changes: Record<string, unknown>): Promise<GrantRow> {
  try {
    await ctx.db.transaction((trx) => transition(trx, grant, to, { actor: JITSUDO, ...event }, changes, { lease_owner: ctx.workerId }));
  } catch (error) {
    if (error instanceof StaleGrantError) throw new StepEnded("the grant moved under this worker");
    throw error;
  }
  ctx.metrics.transitions.inc({ to });
  ctx.reporter.changed(grant);
  return { ...grant, ...changes, status: to } as GrantRow;
}

/** Grants being carried concurrently; each one's failure is handled by `onError`, never thrown away. */
export class GrantTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly ctx: JobContext) {}

  get size(): number {
    return this.running.size;
  }

  get room(): number {
    return Math.max(0, this.ctx.settings.concurrency - this.running.size);
  }

  start(grant: GrantRow, work: (grant: GrantRow) => Promise<void>, onError: (grant: GrantRow, error: unknown) => Promise<void>): void {
    const run = work(grant)
      .catch((error: unknown) => onError(grant, error))
      .catch((error: unknown) => this.ctx.log.error({ err: error, grant: grant.id }, "could not record a grant's step; it is resumed once its lease is free"))
      .finally(() => {
        this.running.delete(run);
        // Its retry time, or the room it leaves, may be what the next cycle should act on.
        this.ctx.wake();
      });
    this.running.add(run);
  }

  async drain(): Promise<void> {
    await Promise.all([...this.running]);
  }
}
