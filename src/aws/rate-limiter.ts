/**
 * The one rate limit every Identity Center call of an instance goes through, shared by every
 * replica: AWS allows 20 requests per second per instance across all its APIs, and a deployment
 * that exceeds it spends its capacity on throttled retries instead of work.
 *
 * The bucket lives in PostgreSQL (`aws_rate_limits`). A caller reserves the next slot with one
 * atomic statement; the bucket may go negative, which means "your slot is that far in the future",
 * so replicas queue in order instead of polling. Within a process, each instance has one pump that
 * holds at most one reservation at a time and hands the slot, when it comes, to the most urgent
 * waiter at that moment: deletes that remove access first; then everything that grants it (name
 * lookups, creates, and the creates' status reads, which free the instance's create slots); then
 * reads confirming deletions; then drift.
 * Drift is also paced to at most half of the instance's rate, so a sweep never starves the rest.
 */
import type { Knex } from "knex";

export const CALL_PRIORITIES = ["revoke", "provision", "poll", "drift"] as const;
export type CallPriority = (typeof CALL_PRIORITIES)[number];

export interface RateLimiter {
  /** Resolves when this call may be sent. */
  acquire(instanceArn: string, priority: CallPriority): Promise<void>;
}

export interface RateLimitOptions {
  /** AWS's 20 TPS less headroom for calls made outside jitsudo (the console, other tools). */
  ratePerSecond?: number;
  /** How many calls may go back to back after a quiet spell. Small: AWS's own burst is not ours to spend. */
  burst?: number;
  /** Drift's share, at most half of the instance's rate. */
  driftRatePerSecond?: number;
}

export const IDENTITY_CENTER_TPS = 20;
export const DEFAULT_RATE_PER_SECOND = 18;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SharedRateLimiter implements RateLimiter {
  private readonly pumps = new Map<string, InstancePump>();
  readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly driftIntervalMs: number;
  private driftNextAt = 0;

  constructor(
    private readonly db: Knex,
    options: RateLimitOptions = {},
  ) {
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    this.burst = options.burst ?? 2;
    this.driftIntervalMs = 1000 / (options.driftRatePerSecond ?? IDENTITY_CENTER_TPS / 2 - 1);
  }

  async acquire(instanceArn: string, priority: CallPriority): Promise<void> {
    if (priority === "drift") {
      // Pace drift locally first; only one replica runs a sweep at a time (it holds the drift lock).
      const now = Date.now();
      const at = Math.max(now, this.driftNextAt);
      this.driftNextAt = at + this.driftIntervalMs;
      if (at > now) await sleep(at - now);
    }
    let pump = this.pumps.get(instanceArn);
    if (!pump) {
      pump = new InstancePump(() => this.reserve(instanceArn));
      this.pumps.set(instanceArn, pump);
    }
    return pump.wait(priority);
  }

  /** Takes the instance's next slot; returns how long until it may be used (0 = now). */
  private async reserve(instanceArn: string): Promise<number> {
    const refill = "least(?, limits.tokens + ? * extract(epoch from clock_timestamp() - limits.refilled_at))";
    const { rows } = await this.db.raw<{ rows: { tokens: number }[] }>(
      `insert into aws_rate_limits as limits (instance_arn, tokens, refilled_at) values (?, ?, clock_timestamp())
       on conflict (instance_arn) do update set tokens = ${refill} - 1, refilled_at = clock_timestamp()
       returning tokens`,
      [instanceArn, this.burst - 1, this.burst, this.ratePerSecond],
    );
    const tokens = Number(rows[0]?.tokens ?? 0);
    return tokens >= 0 ? 0 : (-tokens / this.ratePerSecond) * 1000;
  }
}

/** Waiters of one instance in this process, by priority; one reservation in flight at a time. */
class InstancePump {
  private readonly queues = new Map<CallPriority, (() => void)[]>(CALL_PRIORITIES.map((priority) => [priority, []]));
  private running = false;

  constructor(private readonly reserve: () => Promise<number>) {}

  wait(priority: CallPriority): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queues.get(priority)!.push(resolve);
      if (!this.running) this.run().catch(reject);
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting() > 0) {
        let delayMs: number;
        try {
          delayMs = await this.reserve();
        } catch {
          // The database is unreachable: without the shared count, go at the full rate's pace
          // from this replica alone rather than stall every AWS call.
          delayMs = 1000 / IDENTITY_CENTER_TPS;
        }
        if (delayMs > 0) await sleep(delayMs);
        // The slot goes to whoever is most urgent now, not to whoever asked first.
        this.next()?.();
      }
    } finally {
      this.running = false;
    }
  }

  private waiting(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  private next(): (() => void) | undefined {
    for (const priority of CALL_PRIORITIES) {
      const waiter = this.queues.get(priority)!.shift();
      if (waiter) return waiter;
    }
    return undefined;
  }
}
