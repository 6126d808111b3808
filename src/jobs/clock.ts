/**
 * The one notion of time for the jobs and the scheduler that runs them: what time it is, and a
 * way to be called back later. The jobs read `now()` (through `JobContext.now`); the scheduler
 * reads the same clock to decide when a job is due, and sets its timers with it. A test or the
 * demo that moves time moves it for both, so "the next grant is due at T" means the same T to the
 * worker that computed it and to the scheduler that wakes it.
 */

/** A timer set with a clock; `cancel` is harmless once it has fired. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): Date;
  /** Calls `fire` once, `ms` milliseconds from now (0 or less: as soon as possible, never synchronously). */
  setTimer(fire: () => void, ms: number): Timer;
}

/** Node's timers take at most 2^31-1 ms; a longer delay would fire after 1 ms. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/** A timer in real milliseconds; delays beyond what setTimeout takes are waited in stretches. */
function realTimer(fire: () => void, ms: number): Timer {
  let handle: NodeJS.Timeout;
  const wait = (left: number) => {
    handle = setTimeout(
      () => (left > LONGEST_TIMEOUT_MS ? wait(left - LONGEST_TIMEOUT_MS) : fire()),
      Math.min(Math.max(0, left), LONGEST_TIMEOUT_MS),
    );
  };
  wait(ms);
  return { cancel: () => clearTimeout(handle) };
}

/** The wall clock and real timers: what production runs on. */
export const systemClock: Clock = { now: () => new Date(), setTimer: realTimer };

/**
 * A clock that reads `now` and waits in real milliseconds: for a test clock that runs at real
 * speed but can be jumped forward (test/support/aws-world.ts's TestClock). A timer set for "in
 * 60 s" still fires 60 real seconds later; a job that wants to see a jump sooner is woken.
 */
export function clockReading(now: () => Date): Clock {
  return { now, setTimer: realTimer };
}
