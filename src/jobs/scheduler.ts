/**
 * The safety-net clock for background jobs (node-cron). Work normally starts at once (a merge
 * wakes the provisioner, expiries are timed to the second); these ticks only guarantee that
 * nothing waits forever if a wake-up was lost. A tick never overlaps the previous run of the same
 * job, a failing run is logged and retried on the next tick, and `stop` waits for runs in flight
 * so a shutdown never cuts one in half.
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Log } from "../logger.js";

export interface ScheduledJob {
  name: string;
  /** A six-field cron expression (seconds first), e.g. every 30 s: "*\/30 * * * * *". */
  cron: string;
  run(): Promise<unknown>;
}

export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly log: Log) {}

  add(job: ScheduledJob): void {
    if (!cron.validate(job.cron)) throw new Error(`job ${job.name}: invalid cron expression "${job.cron}"`);
    const task = cron.schedule(job.cron, () => this.runOnce(job), { name: job.name, noOverlap: true });
    this.tasks.push(task);
  }

  /** Runs a job now (at start, or when woken), with the same error handling as a tick. */
  async runOnce(job: Pick<ScheduledJob, "name" | "run">): Promise<void> {
    if (this.stopped) return;
    const run = job
      .run()
      .catch((error: unknown) => this.log.error({ err: error, job: job.name }, "background job failed; it runs again on its next tick"));
    this.running.add(run);
    try {
      await run;
    } finally {
      this.running.delete(run);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.tasks.map((task) => task.destroy()));
    await Promise.all([...this.running]);
  }
}
