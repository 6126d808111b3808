/**
 * What the provisioning and revoke workers do the same way: move a grant they hold to its next
 * status (event, metric, PR report), and run many grants at once without losing track of any.
 */
import { applyMove, StaleGrantError, type GrantRow } from "../grants/grant-repository.js";
import { NOW, type Move } from "../grants/lifecycle.js";
import type { JobContext } from "./context.js";

/** Ends a grant's step early: it was finished, handed over, or moved by someone else (an early revoke). */
export class StepEnded extends Error {
  constructor(reason = "step ended") {
    super(reason);
    this.name = "StepEnded";
  }
}

/** Applies a move of the lifecycle to a grant this worker holds (its lease is the guard), and reports it. */
export async function moveGrant(ctx: JobContext, grant: GrantRow, move: Move): Promise<GrantRow> {
  try {
    await ctx.db.transaction((trx) => applyMove(trx, grant, move, { lease_owner: ctx.workerId }));
  } catch (error) {
    if (error instanceof StaleGrantError) throw new StepEnded("the grant moved under this worker");
    throw error;
  }
  reportMove(ctx, grant, move);
  const endedAt = move.changes.ended_at === NOW ? ctx.now() : move.changes.ended_at;
  return { ...grant, ...move.changes, ...(endedAt ? { ended_at: endedAt } : {}), status: move.to } as GrantRow;
}

/** What every applied move is followed by: its metric, and the report the lifecycle asks of it. */
export function reportMove(ctx: Pick<JobContext, "metrics" | "reporter">, grant: GrantRow, move: Move): void {
  ctx.metrics.transitions.inc({ to: move.to });
  if (move.report === "pull-request") ctx.reporter.changed(grant);
}

/** Claims up to `limit` grants for this worker (see `src/grants/work-queue.ts`). */
export type Claim = (db: JobContext["db"], workerId: string, now: Date, limit: number) => Promise<GrantRow[]>;

/**
 * Grants being carried concurrently by one job: claimed in the order of its claims, each carried by
 * `work`, each failure handled by `onError`, never thrown away.
 */
export class GrantTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly ctx: JobContext,
    private readonly work: (grant: GrantRow) => Promise<void>,
    private readonly onError: (grant: GrantRow, error: unknown) => Promise<void>,
  ) {}

  /** Claims what is due, up to the concurrency limit, and starts each grant; returns how many. */
  async claimAndStart(claims: readonly Claim[]): Promise<number> {
    const now = this.ctx.now();
    let started = 0;
    for (const claim of claims) {
      const room = this.ctx.settings.concurrency - this.running.size;
      if (room <= 0) break;
      const grants = await claim(this.ctx.db, this.ctx.workerId, now, room);
      for (const grant of grants) this.start(grant);
      started += grants.length;
    }
    return started;
  }

  async drain(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private start(grant: GrantRow): void {
    const run = this.work(grant)
      .catch((error: unknown) => this.onError(grant, error))
      .catch((error: unknown) =>
        this.ctx.log.error({ err: error, grant: grant.id }, "could not record a grant's step; it is resumed once its lease is free"),
      )
      .finally(() => {
        this.running.delete(run);
        // Its retry time, or the room it leaves, may be what the next cycle should act on.
        this.ctx.wake();
      });
    this.running.add(run);
  }
}
