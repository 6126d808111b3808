/**
 * The one scheduler every periodic or timed background job runs under: the worker's cycles (woken
 * by a merge, timed to the next start or expiry), its safety net, drift, and the server's catch-up,
 * redelivery and verdict-comment jobs. A job is run:
 *
 * - on its cadence (`every`): at fixed instants of the clock, the same on every replica, as cron's
 *   are; or a fixed time after its previous run started (drift: any interval, 45 s or 7 m);
 * - when woken (`wake`): at once, or right after the run in flight (a merge just happened, the
 *   work channel rang);
 * - when it asked (`runAt`): at the time it named, the worker's "next grant is due at T".
 *
 * Guarantees, whatever the reason a run starts:
 * - a job's runs never overlap. A tick that finds the job running is dropped (the run in flight
 *   does that tick's work); a wake-up or an asked-for run that finds it running runs it once more
 *   right after, since it may bring news the run in flight started too early to see;
 * - a failing run is logged (`err`) and retried: on its next tick, or after `retryAfterMs`;
 * - `stop` aborts the runs' signal, waits for runs in flight, and starts none after, so a shutdown
 *   never cuts one in half.
 *
 * Time is the `Clock`'s (src/jobs/clock.ts): the same one the jobs read, so tests and the demo that
 * move it move it for the scheduler too.
 */
import type { Log } from "../observability/logger.js";
import { systemClock, type Clock, type Timer } from "./clock.js";

/**
 * When a job runs by itself.
 * - `aligned`: at every instant whose time since the epoch is `offsetMs` past a multiple of
 *   `everyMs` (every 2 minutes at :45 s: everyMs 120 000, offsetMs 45 000), first at the next one.
 *   Every replica ticks at the same instants, so a job under a shared lock (runIfUnlocked) runs
 *   once a period across all of them: one takes the lock, the others skip.
 * - `interval`: at once, then `everyMs` after each run started (at once if the run took longer).
 *   After a skipped run (another replica held the lock), a random 0.3 to 0.9 of `everyMs` later.
 */
export type Cadence = Aligned | { kind: "interval"; everyMs: number };
type Aligned = { kind: "aligned"; everyMs: number; offsetMs?: number };

export interface ScheduledJob {
  name: string;
  /**
   * One run. `signal` aborts when the scheduler stops: a long run may end early at a safe point.
   * A run that resolves to `{ ran: false }` (runIfUnlocked's answer when another replica holds the
   * job) was skipped; that matters to an `interval` cadence only.
   */
  run(signal: AbortSignal): Promise<unknown> | void;
  /** Unset: the job runs only when woken or when it asked. */
  every?: Cadence;
  /** After a failed run, run again this soon. Unset: at its next tick. */
  retryAfterMs?: number;
}

export interface SchedulerOptions {
  log: Log;
  /** Default: the wall clock with real timers. */
  clock?: Clock;
  /** For the jitter after a skipped run; default Math.random. */
  random?: () => number;
}

interface JobState {
  readonly job: ScheduledJob;
  /** The run in flight (with its re-runs), if any. */
  running?: Promise<void>;
  /** Woken, or asked for, while running: run once more right after. */
  again: boolean;
  /** The cadence's next run. */
  tick?: Timer;
  /** The run the job asked for (`runAt`), or its retry after a failure. */
  asked?: Timer;
}

const FAILED = Symbol("failed");

export class Scheduler {
  private readonly jobs = new Map<string, JobState>();
  private readonly stopping = new AbortController();
  private readonly log: Log;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(options: SchedulerOptions) {
    this.log = options.log;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  add(job: ScheduledJob): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is already scheduled`);
    if (job.every && !(job.every.everyMs > 0)) throw new Error(`job ${job.name}: its interval must be a positive number of milliseconds`);
    const state: JobState = { job, again: false };
    this.jobs.set(job.name, state);
    if (this.stopped || !job.every) return;
    if (job.every.kind === "aligned") this.armAligned(state, job.every, this.clock.now().getTime());
    else this.armTick(state, 0);
  }

  /** Runs a job now, or once more right after the run in flight. */
  wake(name: string): void {
    this.trigger(this.state(name), "woken");
  }

  /**
   * Runs a job at `at` (at once if that has passed). A job has one such request at a time: a later
   * call replaces the earlier one, as a worker that learns of an earlier due time re-sets its alarm.
   */
  runAt(name: string, at: Date): void {
    const state = this.state(name);
    if (this.stopped) return;
    state.asked?.cancel();
    state.asked = this.clock.setTimer(() => {
      state.asked = undefined;
      this.trigger(state, "woken");
    }, at.getTime() - this.clock.now().getTime());
  }

  /** No new runs; the runs in flight are told (their signal aborts) and waited for. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const state of this.jobs.values()) {
      state.tick?.cancel();
      state.asked?.cancel();
    }
    await Promise.all([...this.jobs.values()].flatMap((state) => state.running ?? []));
  }

  private state(name: string): JobState {
    const state = this.jobs.get(name);
    if (!state) throw new Error(`no job named ${name} is scheduled`);
    return state;
  }

  private trigger(state: JobState, cause: "tick" | "woken"): void {
    if (this.stopped) return;
    if (state.running) {
      // A tick's work is being done (node-cron's noOverlap); a wake-up may bring news the run missed.
      if (cause === "woken") state.again = true;
      return;
    }
    // Marked running before the run starts: its synchronous part may already wake the job again.
    let finished!: () => void;
    state.running = new Promise<void>((resolve) => (finished = resolve));
    void this.runWhileAsked(state).finally(finished);
  }

  /** Runs the job, again for as long as it is woken meanwhile; then sets what comes next. */
  private async runWhileAsked(state: JobState): Promise<void> {
    const startedAt = this.clock.now().getTime();
    let outcome: unknown;
    try {
      do {
        state.again = false;
        outcome = await this.runOnce(state.job);
      } while (state.again && outcome !== FAILED && !this.stopped);
    } finally {
      state.running = undefined;
    }
    if (this.stopped) return;
    const { retryAfterMs, every } = state.job;
    if (outcome === FAILED && retryAfterMs !== undefined) this.runAt(state.job.name, new Date(this.clock.now().getTime() + retryAfterMs));
    if (every?.kind === "interval") this.armTick(state, this.intervalDelay(every.everyMs, startedAt, outcome));
  }

  private async runOnce(job: ScheduledJob): Promise<unknown> {
    try {
      return await job.run(this.stopping.signal);
    } catch (error) {
      const when = job.retryAfterMs !== undefined ? `in ${job.retryAfterMs} ms` : "on its next tick";
      this.log.error({ err: error, job: job.name }, `background job failed; it runs again ${when}`);
      return FAILED;
    }
  }

  /** How long after a run an `interval` job runs next. */
  private intervalDelay(everyMs: number, startedAt: number, outcome: unknown): number {
    // A replica that found another running the job tries again after a random part of the
    // interval, so that replicas take turns instead of one ticking forever just inside the other's
    // runs (drift's sweeps: each replica sweeps some of the time).
    if (skipped(outcome)) return everyMs * (0.3 + this.random() * 0.6);
    return everyMs - (this.clock.now().getTime() - startedAt);
  }

  private armTick(state: JobState, ms: number): void {
    state.tick?.cancel();
    state.tick = this.clock.setTimer(() => {
      state.tick = undefined;
      this.trigger(state, "tick");
    }, ms);
  }

  /** Arms the next aligned instant strictly after `after` (an instant that just fired, or now). */
  private armAligned(state: JobState, cadence: Aligned, after: number): void {
    const { everyMs, offsetMs = 0 } = cadence;
    // From the later of the instant that fired and now: a timer firing a little early does not fire
    // the same instant twice, and after a long pause (a suspended laptop) the missed ones are skipped.
    const from = Math.max(after, this.clock.now().getTime());
    const next = from - mod(from - offsetMs, everyMs) + everyMs;
    state.tick = this.clock.setTimer(() => {
      state.tick = undefined;
      if (this.stopped) return;
      this.armAligned(state, cadence, next);
      this.trigger(state, "tick");
    }, next - this.clock.now().getTime());
  }
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

function skipped(outcome: unknown): boolean {
  return typeof outcome === "object" && outcome !== null && "ran" in outcome && outcome.ran === false;
}
