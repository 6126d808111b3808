/**
 * Time on the local GitHub. Every mutating operation asks the clock for a tick, so each event
 * (commit, review, merge, comment) has its own timestamp and events sort the way they happened,
 * as they do on GitHub. GitHub's REST timestamps have whole seconds ("2011-01-26T19:01:12Z").
 */
export interface GitHubClock {
  /** The current time, without moving it. */
  now(): Date;
  /** The time of a new event: later than every earlier tick. */
  tick(): Date;
  /** Moves time forward (a simulated clock only). */
  advance(ms: number): void;
  /** Jumps forward to `date` (a simulated clock only). */
  set(date: Date | string): void;
}

/** The simulated default: starts at 2026-11-25T09:00:00Z, one second per event, moved only when told. */
export class SimulatedClock implements GitHubClock {
  private time: number;
  private frozen = false;

  constructor(start: Date | string = "2026-11-25T09:00:00Z") {
    this.time = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  tick(): Date {
    if (!this.frozen) this.time += 1000;
    return new Date(this.time);
  }

  /**
   * Events until the returned function is called happen in the same second as the last one, as
   * GitHub's second-granular timestamps show events a few hundred milliseconds apart.
   */
  freeze(): () => void {
    this.frozen = true;
    return () => {
      this.frozen = false;
    };
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error("the clock does not run backwards");
    this.time += ms;
  }

  /** Jumps to `date`, which may not be before the current time (events keep their order). */
  set(date: Date | string): void {
    const target = new Date(date).getTime();
    if (target < this.time) throw new Error(`cannot set the clock back from ${githubTime(this.now())} to ${githubTime(new Date(target))}`);
    this.time = target;
  }
}

/** Real time, for the demo (the app judges merges against its own wall clock); ticks stay ordered. */
export class WallClock implements GitHubClock {
  private last = 0;

  now(): Date {
    return new Date(Math.max(Date.now(), this.last));
  }

  tick(): Date {
    this.last = Math.max(Date.now(), this.last + 1);
    return new Date(this.last);
  }

  advance(): void {
    throw new Error("the wall clock moves by itself");
  }

  set(): void {
    throw new Error("the wall clock moves by itself");
  }
}

/** GitHub's timestamp format: ISO 8601 in UTC with whole seconds. */
export function githubTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}
