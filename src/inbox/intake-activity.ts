/**
 * Answering webhooks comes before handling them. GitHub waits at most 10 s for an answer and
 * records anything slower as a failed delivery; handling a stored delivery can wait a moment.
 * Under a burst, the inbox processor's work (GitHub calls, verdicts) shared the CPU with the
 * deliveries still arriving and slowed the answers (benchmark webhook-burst). So the intake says
 * when deliveries arrive, and the processor claims only in a quiet moment: nothing being received
 * and nothing new for `QUIET_MS`. It never waits longer than its bound, so a steady stream of
 * deliveries does not starve processing.
 */
import { performance } from "node:perf_hooks";

/** A burst's deliveries arrive a few milliseconds apart; this long without one, the burst is over. */
export const QUIET_MS = 50;

export class IntakeActivity {
  private receiving = 0;
  private lastArrival = -Infinity;

  /** Marks a delivery being received; call the returned function once it is answered. */
  begin(): () => void {
    this.receiving += 1;
    this.lastArrival = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.receiving -= 1;
    };
  }

  /** How long until the intake is quiet (0: it is), as far as is known now. */
  quietInMs(): number {
    if (this.receiving > 0) return QUIET_MS;
    return Math.max(0, this.lastArrival + QUIET_MS - performance.now());
  }

  /** Resolves once the intake is quiet, or after `maxWaitMs`, whichever is first. */
  async whenQuiet(maxWaitMs: number): Promise<void> {
    const deadline = performance.now() + maxWaitMs;
    for (let wait = this.quietInMs(); wait > 0; wait = this.quietInMs()) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, left)));
    }
  }
}
