/**
 * Work a handler starts and does not wait for: the comment after a merge, the worker's reports. GitHub spaces an app's
 * comment writes seconds apart (the Octokit throttle's content-creation queue), so a verdict that
 * waited for its comment held an inbox slot for as long as every comment queued before it, and a
 * burst of merges was judged one comment at a time. The verdict is recorded first, durably; the
 * comment follows here. Tracked so shutdown and tests can wait for it.
 */
import type { Log } from "../observability/logger.js";

export class BackgroundWork {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly log: Log) {}

  /** Work started and not yet finished. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Starts `work`; a failure is logged with `context` (a verdict comment stays owed and is sent again; a report is rewritten by the next one). */
  run(what: string, context: Record<string, unknown>, work: () => Promise<unknown>): void {
    // Started on the next tick, so even a synchronous throw in `work` is caught and logged here.
    const running: Promise<void> = Promise.resolve()
      .then(work)
      .then(() => undefined)
      .catch((error: unknown) => this.log.warn({ ...context, err: error }, `${what} failed`))
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  /**
   * Resolves when everything started so far (and anything it started) has finished, or after
   * `timeoutMs`: a stopping replica with hundreds of comments queued behind GitHub's pacing does
   * not wait minutes for them (the next report of each PR writes its comment again).
   */
  async flush(timeoutMs = Infinity): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.log.warn({ unsent: this.inFlight.size }, "stopped waiting: comments not yet sent");
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = Number.isFinite(left)
        ? new Promise<void>((resolve) => (timer = setTimeout(resolve, left)))
        : new Promise<void>(() => undefined);
      await Promise.race([Promise.all([...this.inFlight]), timeout]);
      clearTimeout(timer);
    }
  }
}
