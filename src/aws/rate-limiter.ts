/**
 * The one rate limit every Identity Center call of an instance goes through, shared by every
 * replica: AWS allows 20 requests per second per instance across all its APIs, and a deployment
 * that exceeds it spends its capacity on throttled retries instead of work.
 *
 * The bucket lives in PostgreSQL (`aws_rate_limits`), refilled at `ratePerSecond` up to `burst`.
 * A caller reserves the next slot with one atomic statement. Urgent calls may take the bucket
 * below zero, which means "your slot is that far in the future": replicas queue in order instead
 * of polling. Calls that can wait (reads confirming deletions, drift) only take a token while the
 * bucket holds more than a reserve, so a clump of expiries always finds tokens waiting for it.
 *
 * Within a process, each instance has one pump that holds at most one reservation at a time and
 * hands the slot, when it comes, to the most urgent waiter at that moment: deletes that remove
 * access first; then everything that grants it (name lookups, creates, and the creates' status
 * reads, which free the instance's create slots); then reads confirming deletions; then drift,
 * which is also paced to at most half of AWS's rate so that a sweep never starves the rest.
 * Within one priority, tenants sharing the instance take turns: a tenant with a thousand calls
 * queued (a burst of merges, a retry storm) delays another tenant's call by at most one of its own.
 *
 * Hand-written rather than a library: the bucket must be shared through PostgreSQL by every
 * replica, and the waiting order mixes priorities with per-tenant turns; no rate-limiting package
 * we found does either (they keep their buckets in memory or Redis, and queue first come first served).
 */
import type { Knex } from "knex";

export const CALL_PRIORITIES = ["revoke", "provision", "poll", "drift"] as const;
export type CallPriority = (typeof CALL_PRIORITIES)[number];

export interface RateLimiter {
  /** Resolves when this call may be sent. `tenant` (a repository id) takes turns with the instance's other tenants. */
  acquire(instanceArn: string, priority: CallPriority, tenant?: string): Promise<void>;
  /** Fails every call still waiting: nothing is sent after a shutdown began. */
  close?(): void;
}

export interface RateLimitOptions {
  /** AWS's 20 TPS less headroom for calls made outside jitsudo (the console, other tools). */
  ratePerSecond?: number;
  /**
   * How many calls may go back to back after a quiet spell. AWS's bucket holds 20; taking at most
   * half of it leaves the rest to whatever else calls the instance.
   */
  burst?: number;
  /** Tokens that calls which can wait leave in the bucket for urgent ones. */
  reserve?: number;
  /** Drift's share, at most half of AWS's rate. */
  driftRatePerSecond?: number;
}

export const IDENTITY_CENTER_TPS = 20;
export const DEFAULT_RATE_PER_SECOND = 19;
const URGENT: ReadonlySet<CallPriority> = new Set(["revoke", "provision"]);

type Reservation = { taken: true; delayMs: number } | { taken: false; retryInMs: number };

export class SharedRateLimiter implements RateLimiter {
  private readonly pumps = new Map<string, InstancePump>();
  readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly reserveTokens: number;
  private readonly driftIntervalMs: number;
  private driftNextAt = 0;
  private closed = false;

  constructor(
    private readonly db: Knex,
    options: RateLimitOptions = {},
  ) {
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND;
    this.burst = options.burst ?? IDENTITY_CENTER_TPS / 2;
    this.reserveTokens = options.reserve ?? this.burst - 2;
    this.driftIntervalMs = 1000 / (options.driftRatePerSecond ?? IDENTITY_CENTER_TPS / 2 - 1);
  }

  async acquire(instanceArn: string, priority: CallPriority, tenant = ""): Promise<void> {
    if (this.closed) throw new Error("the rate limiter is closed (shutting down)");
    if (priority === "drift") {
      // Pace drift locally first; only one replica runs a sweep at a time (it holds the drift lock).
      const now = Date.now();
      const at = Math.max(now, this.driftNextAt);
      this.driftNextAt = at + this.driftIntervalMs;
      if (at > now) await sleep(at - now);
    }
    let pump = this.pumps.get(instanceArn);
    if (!pump) {
      pump = new InstancePump((urgent) => this.reserve(instanceArn, urgent), 1000 / this.ratePerSecond);
      this.pumps.set(instanceArn, pump);
    }
    return pump.wait(priority, tenant);
  }

  close(): void {
    this.closed = true;
    for (const pump of this.pumps.values()) pump.close();
  }

  /** Takes the instance's next slot, or (for calls that can wait) says when to ask again. */
  private async reserve(instanceArn: string, urgent: boolean): Promise<Reservation> {
    const floor = urgent ? -1e9 : this.reserveTokens + 1;
    // One statement, one row lock: refill by the time elapsed, then take a token if allowed.
    const take = () =>
      this.db.raw<{ rows: { available: number; taken: boolean }[] }>(
        `with current as (
           select least(:burst, tokens + :rate * extract(epoch from clock_timestamp() - refilled_at)) as available
           from aws_rate_limits where instance_arn = :instance for update
         )
         update aws_rate_limits
           set tokens = current.available - (case when current.available >= :floor then 1 else 0 end), refilled_at = clock_timestamp()
         from current where aws_rate_limits.instance_arn = :instance
         returning current.available as available, current.available >= :floor as taken`,
        { instance: instanceArn, burst: this.burst, rate: this.ratePerSecond, floor },
      );
    let { rows } = await take();
    if (rows.length === 0) {
      await this.db.raw("insert into aws_rate_limits (instance_arn, tokens, refilled_at) values (?, ?, clock_timestamp()) on conflict do nothing", [instanceArn, this.burst]);
      ({ rows } = await take());
    }
    const available = Number(rows[0]?.available ?? 0);
    if (!rows[0]?.taken) return { taken: false, retryInMs: ((floor - available) / this.ratePerSecond) * 1000 };
    const after = available - 1;
    return { taken: true, delayMs: after >= 0 ? 0 : (-after / this.ratePerSecond) * 1000 };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/** Waiters of one priority, in turns by tenant: each tenant's own calls stay in order. */
class TenantTurns {
  private readonly queues = new Map<string, Waiter[]>();
  /** Tenants with waiters, in the order their turn comes. */
  private readonly order: string[] = [];

  get size(): number {
    return this.order.length;
  }

  push(tenant: string, waiter: Waiter): void {
    const queue = this.queues.get(tenant);
    if (queue) {
      queue.push(waiter);
      return;
    }
    this.queues.set(tenant, [waiter]);
    this.order.push(tenant);
  }

  /** The next tenant's oldest waiter; that tenant goes to the back of the line. */
  shift(): Waiter | undefined {
    const tenant = this.order.shift();
    if (tenant === undefined) return undefined;
    const queue = this.queues.get(tenant)!;
    const waiter = queue.shift()!;
    if (queue.length > 0) this.order.push(tenant);
    else this.queues.delete(tenant);
    return waiter;
  }

  drain(): Waiter[] {
    const all = [...this.queues.values()].flat();
    this.queues.clear();
    this.order.length = 0;
    return all;
  }
}

/** Waiters of one instance in this process, by priority; one reservation in flight at a time. */
class InstancePump {
  private readonly queues = new Map<CallPriority, TenantTurns>(CALL_PRIORITIES.map((priority) => [priority, new TenantTurns()]));
  private running = false;
  /** Cuts short a pause taken for calls that can wait, when an urgent one arrives. */
  private interrupt: (() => void) | undefined;

  constructor(
    private readonly reserve: (urgent: boolean) => Promise<Reservation>,
    private readonly fallbackMs: number,
  ) {}

  wait(priority: CallPriority, tenant: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queues.get(priority)!.push(tenant, { resolve, reject });
      if (URGENT.has(priority)) this.interrupt?.();
      if (!this.running) void this.run();
    });
  }

  close(): void {
    for (const queue of this.queues.values()) {
      for (const waiter of queue.drain()) waiter.reject(new Error("the rate limiter is closed (shutting down)"));
    }
    this.interrupt?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let head = this.head(); head; head = this.head()) {
        let reservation: Reservation;
        try {
          reservation = await this.reserve(URGENT.has(head));
        } catch {
          // The database is unreachable: without the shared count, keep this replica alone to the rate.
          reservation = { taken: true, delayMs: this.fallbackMs };
        }
        if (!reservation.taken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(1, reservation.retryInMs));
            this.interrupt = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.interrupt = undefined;
          continue;
        }
        if (reservation.delayMs > 0) await sleep(reservation.delayMs);
        // The slot goes to whoever is most urgent now, not to whoever asked first.
        this.next()?.resolve();
      }
    } finally {
      this.running = false;
    }
  }

  private head(): CallPriority | undefined {
    return CALL_PRIORITIES.find((priority) => this.queues.get(priority)!.size > 0);
  }

  private next(): Waiter | undefined {
    for (const priority of CALL_PRIORITIES) {
      const waiter = this.queues.get(priority)!.shift();
      if (waiter) return waiter;
    }
    return undefined;
  }
}
