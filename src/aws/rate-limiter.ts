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
 * Tenants sharing the instance take turns (urgent calls, revokes and provisioning, in one round):
 * a tenant with a thousand calls queued (a burst of merges, a storm of retried deletes) delays
 * another tenant's call by at most one of its own per turn.
 *
 * Hand-written rather than a library: the bucket must be shared through PostgreSQL by every
 * replica, and the waiting order mixes priorities with per-tenant turns; no rate-limiting package
 * we found does either (they keep their buckets in memory or Redis, and queue first come first served).
 */
import { setTimeout as sleep } from "node:timers/promises";
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
   * How many calls may go back to back after a quiet spell (default 12). AWS's bucket holds 20;
   * 12 leaves 8 to whatever else calls the instance and still fits a whole wave of creates (AWS's
   * 10 in flight) with the status read that freed their slots: with 10, the last creates of every
   * wave waited 50-100 ms for tokens, and their slots idled as long.
   */
  burst?: number;
  /** Tokens that calls which can wait leave in the bucket for urgent ones. */
  reserve?: number;
  /** Drift's share, at most half of AWS's rate. */
  driftRatePerSecond?: number;
}

export const IDENTITY_CENTER_TPS = 20;
export const DEFAULT_RATE_PER_SECOND = 19;
export const DEFAULT_BURST = 12;
const URGENT: ReadonlySet<CallPriority> = new Set(["revoke", "provision"]);

/** Slots taken by one reservation, each with how long to wait for it; or none yet, and when to ask again. */
type Reservation = { taken: true; delaysMs: number[] } | { taken: false; retryInMs: number };

/**
 * Slots one reservation may take for the calls waiting in this process. A wave of creates (ten
 * at once when a round of operations finishes) then costs one statement, not ten in a row: one by
 * one, the last create left some 30 ms after the first, and every slot of the wave idled that long
 * at its next round. Bounded, so that one replica never books far ahead of the others.
 */
const MAX_SLOTS_PER_RESERVATION = 10;

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
    this.burst = options.burst ?? DEFAULT_BURST;
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
      pump = new InstancePump((urgent, wanted) => this.reserve(instanceArn, urgent, wanted), 1000 / this.ratePerSecond);
      this.pumps.set(instanceArn, pump);
    }
    return pump.wait(priority, tenant);
  }

  close(): void {
    this.closed = true;
    for (const pump of this.pumps.values()) pump.close();
  }

  /**
   * Takes up to `wanted` of the instance's next slots: urgent calls all of them (the bucket may go
   * below zero: the slots are then in the future), calls that can wait only those above the
   * reserve. None: says when to ask again.
   */
  private async reserve(instanceArn: string, urgent: boolean, wanted: number): Promise<Reservation> {
    // Calls that can wait leave `reserveTokens` in the bucket.
    const floor = urgent ? -1e9 : this.reserveTokens;
    // One statement, one row lock: refill by the time elapsed, then take the tokens allowed.
    const take = () =>
      this.db.raw<{ rows: { available: number; taken: number }[] }>(
        `with current as (
           select least(:burst, tokens + :rate * extract(epoch from clock_timestamp() - refilled_at)) as available
           from aws_rate_limits where instance_arn = :instance for update
         ), allowed as (
           select available, greatest(0, least(:wanted, floor(available - :floor)))::int as taken from current
         )
         update aws_rate_limits
           set tokens = allowed.available - allowed.taken, refilled_at = clock_timestamp()
         from allowed where aws_rate_limits.instance_arn = :instance
         returning allowed.available as available, allowed.taken as taken`,
        { instance: instanceArn, burst: this.burst, rate: this.ratePerSecond, floor, wanted },
      );
    let { rows } = await take();
    if (rows.length === 0) {
      await this.db.raw(
        "insert into aws_rate_limits (instance_arn, tokens, refilled_at) values (?, ?, clock_timestamp()) on conflict do nothing",
        [instanceArn, this.burst],
      );
      ({ rows } = await take());
    }
    const available = Number(rows[0]?.available ?? 0);
    const taken = Number(rows[0]?.taken ?? 0);
    if (taken === 0) return { taken: false, retryInMs: ((floor + 1 - available) / this.ratePerSecond) * 1000 };
    // The i-th slot is the token the bucket holds (or will hold) after the i before it.
    const delaysMs = Array.from({ length: taken }, (_, index) => {
      const after = available - 1 - index;
      return after >= 0 ? 0 : (-after / this.ratePerSecond) * 1000;
    });
    return { taken: true, delaysMs };
  }
}

/** Whom a slot taken for `head` may serve: urgent calls share one round of turns; calls that can wait are served by priority. */
function eligibleFor(head: CallPriority): CallPriority[] {
  return URGENT.has(head) ? [...URGENT] : [head];
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Waiters of one instance in this process, by tenant and priority; one reservation in flight at
 * a time. Who gets the next slot:
 * - while any call is urgent (a revoke, or provisioning), tenants with urgent calls take turns, and
 *   each turn serves that tenant's most urgent call (its revokes before its creates). A tenant's
 *   storm of revokes (deletes AWS keeps refusing, say) delays another tenant's create by one call
 *   per turn, never by the whole storm;
 * - otherwise reads confirming deletions before drift, tenants again taking turns.
 * Each tenant's calls of one priority keep their order.
 */
class InstancePump {
  private readonly waiting = new Map<string, Map<CallPriority, Waiter[]>>();
  /** Tenants with waiters, in the order their turn comes. */
  private readonly turns: string[] = [];
  private running = false;
  /** Cuts short a pause taken for calls that can wait, when an urgent one arrives. */
  private interrupt: (() => void) | undefined;

  constructor(
    private readonly reserve: (urgent: boolean, wanted: number) => Promise<Reservation>,
    private readonly fallbackMs: number,
  ) {}

  wait(priority: CallPriority, tenant: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let queues = this.waiting.get(tenant);
      if (!queues) {
        queues = new Map();
        this.waiting.set(tenant, queues);
        this.turns.push(tenant);
      }
      queues.set(priority, [...(queues.get(priority) ?? []), { resolve, reject }]);
      if (URGENT.has(priority)) this.interrupt?.();
      if (!this.running) void this.run();
    });
  }

  close(): void {
    for (const queues of this.waiting.values()) {
      for (const waiter of [...queues.values()].flat()) waiter.reject(new Error("the rate limiter is closed (shutting down)"));
    }
    this.waiting.clear();
    this.turns.length = 0;
    this.interrupt?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      // Callers that arrive together (the creates of a wave, each from its own promise chain)
      // share the first reservation: it is taken after the current turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      for (let head = this.head(); head; head = this.head()) {
        let reservation: Reservation;
        try {
          reservation = await this.reserve(URGENT.has(head), Math.min(MAX_SLOTS_PER_RESERVATION, this.waitingFor(head)));
        } catch {
          // The database is unreachable: without the shared count, keep this replica alone to the rate.
          reservation = { taken: true, delaysMs: [this.fallbackMs] };
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
        const reservedAt = Date.now();
        for (const delayMs of reservation.delaysMs) {
          const wait = reservedAt + delayMs - Date.now();
          if (wait > 0) await sleep(wait);
          // Each slot goes to whoever is most urgent when it comes, not to whoever asked first.
          // (A slot nobody waits for any more is left unused: the bucket only ever errs slow.)
          this.next()?.resolve();
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** How many calls wait that a slot taken for `head` would serve (see `next`). */
  private waitingFor(head: CallPriority): number {
    const eligible = eligibleFor(head);
    let count = 0;
    for (const queues of this.waiting.values()) for (const priority of eligible) count += queues.get(priority)?.length ?? 0;
    return count;
  }

  /** The most urgent priority anyone waits with. */
  private head(): CallPriority | undefined {
    return CALL_PRIORITIES.find((priority) => [...this.waiting.values()].some((queues) => (queues.get(priority)?.length ?? 0) > 0));
  }

  private next(): Waiter | undefined {
    const head = this.head();
    if (!head) return undefined;
    const eligible = eligibleFor(head);
    const tenant = this.turns.find((candidate) =>
      eligible.some((priority) => (this.waiting.get(candidate)!.get(priority)?.length ?? 0) > 0),
    );
    if (tenant === undefined) return undefined;
    const queues = this.waiting.get(tenant)!;
    const priority = CALL_PRIORITIES.find((candidate) => eligible.includes(candidate) && (queues.get(candidate)?.length ?? 0) > 0)!;
    const queue = queues.get(priority)!;
    const waiter = queue.shift()!;
    if (queue.length === 0) queues.delete(priority);
    // This tenant's turn is over: to the back of the line, or out of it.
    this.turns.splice(this.turns.indexOf(tenant), 1);
    if (queues.size > 0) this.turns.push(tenant);
    else this.waiting.delete(tenant);
    return waiter;
  }
}
