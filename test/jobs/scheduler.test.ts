/**
 * The scheduler's guarantees, on a clock the test moves by hand (no real waiting, no database):
 * cadences, no overlapping runs, failures logged and retried, wake-ups, asked-for runs, and a stop
 * that waits for the run in flight.
 */
import { describe, expect, it } from "vitest";
import type { Clock, Timer } from "../../src/jobs/clock.js";
import { Scheduler, type ScheduledJob } from "../../src/jobs/scheduler.js";

/** Time that moves only when told; timers fire, in order, as it passes them. */
class ManualClock implements Clock {
  private time: number;
  private readonly timers = new Set<{ at: number; fire: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1, 9, 0, 0)) {
    this.time = start;
  }

  now(): Date {
    return new Date(this.time);
  }

  get ms(): number {
    return this.time;
  }

  setTimer(fire: () => void, ms: number): Timer {
    const timer = { at: this.time + Math.max(0, ms), fire };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  /** Moves time forward by `ms`, firing each timer at its time and letting the runs it starts proceed. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    await settle();
    for (;;) {
      const next = [...this.timers].filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = next.at;
      next.fire();
      await settle();
    }
    this.time = until;
  }
}

/** Lets promise callbacks run (a job's run awaiting a resolved promise, the scheduler's bookkeeping). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A promise the test resolves: a run that takes as long as the test says. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

interface Logged {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function world(options: { random?: () => number } = {}) {
  const clock = new ManualClock();
  const errors: Logged[] = [];
  const log = {
    info: () => undefined,
    warn: () => undefined,
    error: (obj: object, msg?: string) => void errors.push({ obj: obj as Record<string, unknown>, msg }),
  };
  const scheduler = new Scheduler({ log, clock, ...options });
  return { clock, errors, scheduler };
}

/** A job that records when each run started and ended, and how many ran at once. */
function recorder(clock: ManualClock, body: (index: number) => unknown = () => undefined) {
  const starts: number[] = [];
  const ends: number[] = [];
  let inFlight = 0;
  let mostAtOnce = 0;
  const run = async () => {
    const index = starts.length;
    starts.push(clock.ms);
    inFlight += 1;
    mostAtOnce = Math.max(mostAtOnce, inFlight);
    try {
      return await body(index);
    } finally {
      inFlight -= 1;
      ends.push(clock.ms);
    }
  };
  return {
    run,
    starts,
    ends,
    get mostAtOnce() {
      return mostAtOnce;
    },
  };
}

const MINUTE = 60_000;

describe("Scheduler", () => {
  it("runs an aligned job at the clock's multiples of its period plus its offset, like cron", async () => {
    const { clock, scheduler } = world();
    const job = recorder(clock);
    // Like "45 */2 * * * *": every two minutes, at 45 s past.
    scheduler.add({ name: "verdicts", every: { kind: "aligned", everyMs: 2 * MINUTE, offsetMs: 45_000 }, run: job.run });
    await clock.advance(7 * MINUTE);
    expect(job.starts.map((at) => new Date(at).toISOString().slice(11, 19))).toEqual(["09:00:45", "09:02:45", "09:04:45", "09:06:45"]);
    await scheduler.stop();
  });

  it("never overlaps a job's runs: a tick that finds it running is dropped", async () => {
    const { clock, scheduler } = world();
    const slow = gate();
    const job = recorder(clock, (index) => (index === 0 ? slow.opened : Promise.resolve()));
    scheduler.add({ name: "catch-up", every: { kind: "aligned", everyMs: 30_000 }, run: job.run });
    await clock.advance(30_000); // the first run starts, and hangs
    await clock.advance(100_000); // three more ticks pass while it runs
    expect(job.starts).toHaveLength(1);
    slow.open();
    await clock.advance(20_000); // the next tick after it ended, at 150 s
    expect(job.starts.map((at) => (at - job.starts[0]!) / 1000)).toEqual([0, 120]);
    expect(job.mostAtOnce).toBe(1);
    await scheduler.stop();
  });

  it("logs a failing run with its error and runs the job again on its next tick", async () => {
    const { clock, errors, scheduler } = world();
    const boom = new Error("the database went away");
    const job = recorder(clock, (index) => {
      if (index === 0) throw boom;
    });
    scheduler.add({ name: "redelivery", every: { kind: "aligned", everyMs: 5 * MINUTE, offsetMs: 30_000 }, run: job.run });
    await clock.advance(11 * MINUTE);
    expect(job.starts).toHaveLength(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.obj).toMatchObject({ err: boom, job: "redelivery" });
    await scheduler.stop();
  });

  it("retries a failed run after retryAfterMs when the job has no ticks of its own", async () => {
    const { clock, errors, scheduler } = world();
    const job = recorder(clock, (index) => {
      if (index < 2) throw new Error(`failure ${index}`);
    });
    scheduler.add({ name: "grant-worker", retryAfterMs: 1000, run: job.run });
    scheduler.wake("grant-worker");
    await clock.advance(10_000);
    expect(job.starts.map((at) => at - job.starts[0]!)).toEqual([0, 1000, 2000]);
    expect(errors.map((error) => (error.obj.err as Error).message)).toEqual(["failure 0", "failure 1"]);
    await scheduler.stop();
  });

  it("runs a woken job at once, and once more after its run in flight however often it is woken meanwhile", async () => {
    const { clock, scheduler } = world();
    const slow = gate();
    const job = recorder(clock, (index) => (index === 0 ? slow.opened : Promise.resolve()));
    scheduler.add({ name: "grant-worker", run: job.run });
    scheduler.wake("grant-worker");
    expect(job.starts).toHaveLength(1); // started synchronously: a merge's work begins now
    scheduler.wake("grant-worker");
    scheduler.wake("grant-worker");
    await clock.advance(1000);
    expect(job.starts).toHaveLength(1);
    slow.open();
    await clock.advance(1000);
    expect(job.starts).toHaveLength(2);
    expect(job.mostAtOnce).toBe(1);
    await clock.advance(60_000);
    expect(job.starts).toHaveLength(2); // no cadence: nothing more unless woken or asked
    await scheduler.stop();
  });

  it("a run that wakes its own job runs again right after (more work was due)", async () => {
    const { clock, scheduler } = world();
    const job = recorder(clock, (index) => {
      if (index < 2) scheduler.wake("grant-worker");
    });
    scheduler.add({ name: "grant-worker", run: job.run });
    scheduler.wake("grant-worker");
    await clock.advance(0);
    expect(job.starts).toHaveLength(3);
    expect(job.mostAtOnce).toBe(1);
    await scheduler.stop();
  });

  it("runs a job at the time it asked for; a later request replaces the earlier one", async () => {
    const { clock, scheduler } = world();
    const job = recorder(clock);
    scheduler.add({ name: "grant-worker", run: job.run });
    const t0 = clock.ms;
    scheduler.runAt("grant-worker", new Date(t0 + 60_000));
    scheduler.runAt("grant-worker", new Date(t0 + 2_500)); // a grant falls due sooner
    await clock.advance(120_000);
    expect(job.starts.map((at) => at - t0)).toEqual([2_500]);
    scheduler.runAt("grant-worker", new Date(clock.ms - 5_000)); // already past: at once
    await clock.advance(0);
    expect(job.starts).toHaveLength(2);
    await scheduler.stop();
  });

  it("an asked-for run that comes due while the job runs follows right after it", async () => {
    const { clock, scheduler } = world();
    const slow = gate();
    const job = recorder(clock, (index) => (index === 0 ? slow.opened : Promise.resolve()));
    scheduler.add({ name: "grant-worker", run: job.run });
    scheduler.wake("grant-worker");
    scheduler.runAt("grant-worker", new Date(clock.ms + 500));
    await clock.advance(1000);
    expect(job.starts).toHaveLength(1);
    slow.open();
    await clock.advance(0);
    expect(job.starts).toHaveLength(2);
    await scheduler.stop();
  });

  it("runs an interval job at once, then its interval after each run started, for any interval", async () => {
    const { clock, scheduler } = world();
    const job = recorder(clock, async (index) => {
      if (index === 1) await new Promise<void>((resolve) => clock.setTimer(resolve, 10_000)); // a 10 s sweep
    });
    scheduler.add({ name: "drift", every: { kind: "interval", everyMs: 45_000 }, run: job.run });
    await clock.advance(0);
    expect(job.starts).toHaveLength(1);
    await clock.advance(3 * 45_000);
    expect(job.starts.map((at) => at - job.starts[0]!)).toEqual([0, 45_000, 90_000, 135_000]);
    await scheduler.stop();
  });

  it("runs an interval job that overran its interval again at once, never alongside itself", async () => {
    const { clock, scheduler } = world();
    const job = recorder(clock, async (index) => {
      if (index === 0) await new Promise<void>((resolve) => clock.setTimer(resolve, 7 * MINUTE + 5_000));
    });
    scheduler.add({ name: "drift", every: { kind: "interval", everyMs: 7 * MINUTE }, run: job.run });
    await clock.advance(8 * MINUTE);
    expect(job.starts.map((at) => at - job.starts[0]!)).toEqual([0, 7 * MINUTE + 5_000]);
    expect(job.mostAtOnce).toBe(1);
    await scheduler.stop();
  });

  it("after a skipped run ({ ran: false }), runs an interval job again after 0.3 to 0.9 of its interval", async () => {
    const draws = [0, 1, 0.5];
    const { clock, scheduler } = world({ random: () => draws.shift() ?? 0.5 });
    const job = recorder(clock, (index) => (index < 3 ? { ran: false } : { ran: true }));
    scheduler.add({ name: "drift", every: { kind: "interval", everyMs: 30_000 }, run: job.run });
    await clock.advance(100_000);
    const gaps = job.starts.slice(1).map((at, index) => at - job.starts[index]!);
    expect(gaps.slice(0, 4)).toEqual([9_000, 27_000, 18_000, 30_000]);
    await scheduler.stop();
  });

  it("stop waits for the run in flight, tells it through its signal, and starts nothing after", async () => {
    const { clock, scheduler } = world();
    const slow = gate();
    let signal: AbortSignal | undefined;
    const job = recorder(clock);
    scheduler.add({
      name: "drift",
      every: { kind: "interval", everyMs: 30_000 },
      run: async (given) => {
        signal = given;
        await job.run();
        await slow.opened;
      },
    });
    scheduler.add({ name: "grant-worker", run: job.run });
    await clock.advance(0);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await settle();
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    slow.open();
    await stopping;
    scheduler.wake("grant-worker");
    scheduler.runAt("grant-worker", clock.now());
    await clock.advance(10 * MINUTE);
    expect(job.starts).toHaveLength(1);
  });

  it("refuses a job name twice, and wake-ups of a job it does not have", () => {
    const { scheduler } = world();
    const run = () => Promise.resolve();
    const job: ScheduledJob = { name: "drift", run };
    scheduler.add(job);
    expect(() => scheduler.add(job)).toThrow(/already scheduled/);
    expect(() => scheduler.wake("nope")).toThrow(/no job named nope/);
    expect(() => scheduler.add({ name: "zero", every: { kind: "interval", everyMs: 0 }, run })).toThrow(/positive/);
  });
});
