/**
 * Works through the webhook inbox: claims due deliveries (the oldest unfinished one of each
 * ordering key), hands each to its handler, records the outcome, and retries a failure with
 * backoff (about an hour of attempts) before giving it up loudly.
 *
 * Any number of processors, on any replicas, share the inbox. Each holds a session lock on a
 * connection of its own while it lives; a delivery held by a processor whose lock is gone (killed,
 * or cut off from the database) is claimed again by another. A delivery may therefore be handled
 * twice, never lost: every handler is idempotent (merges are recorded once, comments edited in
 * place, grants keyed by their merge).
 */
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Log } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { WorkerSession } from "../jobs/worker-session.js";
import {
  claimDeliveries,
  failDelivery,
  finishDelivery,
  INBOX_CHANNEL,
  nextDueInMs,
  pruneDeliveries,
  type StoredDelivery,
} from "./inbox-store.js";
import type { IntakeActivity } from "./intake-activity.js";

/** Handles one delivery; resolves with what came of it (for the record), throws to have it retried. */
export type DeliveryHandler = (delivery: StoredDelivery) => Promise<string>;

/**
 * Thrown by a handler that cannot act yet for a reason that is not a failure (GitHub's record of
 * a merge lags behind its webhook): tried again after `retryInMs`, without using up an attempt.
 */
export interface Deferral {
  readonly retryInMs: number;
}

const isDeferral = (error: unknown): error is Error & Deferral => typeof (error as Partial<Deferral> | undefined)?.retryInMs === "number";

export interface ProcessorOptions {
  log: Log;
  metrics?: Metrics;
  /** Deliveries handled at once by this processor (default 4: with a pool of 10, receiving never waits for a connection). */
  concurrency?: number;
  /** Attempts before a delivery is given up (dead). */
  maxAttempts?: number;
  /** First retry delay; it doubles with each attempt, up to `maxDelayMs`. */
  retryBaseMs?: number;
  maxDelayMs?: number;
  /** How often to look for due retries when nothing rings. */
  pollMs?: number;
  /** Deliveries being received by this process: claiming waits for them to be answered (up to a second). */
  intake?: IntakeActivity;
}

/** The longest claiming waits for the deliveries being received: a steady stream never starves processing. */
const YIELD_TO_INTAKE_MS = 1_000;

const KEEP_FINISHED_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export class InboxProcessor {
  readonly owner = `inbox-${randomUUID()}`;
  private session?: WorkerSession;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private wakeUp?: () => void;
  private loop?: Promise<void>;
  private prunedAt = 0;
  private filling: Promise<void> = Promise.resolve();
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly maxDelayMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Knex,
    private readonly handle: DeliveryHandler,
    private readonly options: ProcessorOptions,
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.maxAttempts = options.maxAttempts ?? 12;
    this.retryBaseMs = options.retryBaseMs ?? 5_000;
    this.maxDelayMs = options.maxDelayMs ?? 10 * 60_000;
    this.pollMs = options.pollMs ?? 1_000;
  }

  /** Opens the processor's session (its liveness lock and its doorbell), then processes until stopped. */
  async start(): Promise<void> {
    this.session = await WorkerSession.open(
      this.db,
      {
        onWork: () => this.wake(),
        onLost: (error) => {
          this.options.log.error(
            { err: error, processor: this.owner },
            "the inbox processor lost its database session; its deliveries go to another processor",
          );
          this.stopped = true;
          this.wake();
        },
      },
      this.owner,
      INBOX_CHANNEL,
    );
    this.loop = this.run();
  }

  /** Stops claiming, waits for the deliveries in hand, and gives up the session. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    await this.session?.close();
  }

  /**
   * Processes until nothing is due (retries scheduled for later stay scheduled), for tests and the
   * demo: a delivery answered by the server has then been handled.
   */
  async settle(): Promise<void> {
    for (;;) {
      await this.fill();
      if (this.inFlight.size === 0) return;
      await Promise.race([...this.inFlight]);
    }
  }

  private wake(): void {
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.fill();
        await this.prune();
      } catch (error) {
        this.options.log.error({ err: error }, "the inbox could not be read; trying again");
      }
      if (this.stopped) break;
      const due = this.inFlight.size >= this.concurrency ? undefined : await nextDueInMs(this.db).catch(() => undefined);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(10, Math.min(this.pollMs, due ?? this.pollMs)));
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
        // A finished delivery frees a slot and may free the next delivery of its key.
        for (const running of this.inFlight) void running.then(() => this.wakeUp?.());
      });
      this.wakeUp = undefined;
    }
  }

  /**
   * Claims as many due deliveries as there are free slots and starts them. One claim at a time:
   * `settle` must not find nothing in flight while the loop is between claiming and starting.
   */
  private fill(): Promise<void> {
    const next = this.filling.then(() => this.claimAndStart());
    this.filling = next.catch(() => undefined);
    return next;
  }

  private async claimAndStart(): Promise<void> {
    if (this.stopped && this.loop) return;
    await this.options.intake?.whenQuiet(YIELD_TO_INTAKE_MS);
    const claimed = await claimDeliveries(this.db, this.owner, this.concurrency - this.inFlight.size);
    for (const delivery of claimed) {
      const running = this.process(delivery).finally(() => this.inFlight.delete(running));
      this.inFlight.add(running);
    }
  }

  private async process(delivery: StoredDelivery): Promise<void> {
    const { log, metrics } = this.options;
    const event = delivery.action ? `${delivery.event}.${delivery.action}` : delivery.event;
    try {
      const outcome = await this.handle(delivery);
      await finishDelivery(this.db, delivery, this.owner, outcome);
      metrics?.inboxDeliveries.inc({ event, outcome: "done" });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (isDeferral(error)) {
        log.info(
          { delivery: delivery.delivery_id, event, reason: message, retryInMs: error.retryInMs },
          "webhook delivery cannot be handled yet; it is tried again",
        );
        await failDelivery(this.db, delivery, this.owner, message, { delayMs: error.retryInMs, keepAttempt: true }).catch(() => undefined);
        metrics?.inboxDeliveries.inc({ event, outcome: "deferred" });
        return;
      }
      if (delivery.attempts >= this.maxAttempts) {
        log.error(
          { err: error, delivery: delivery.delivery_id, event, attempts: delivery.attempts },
          "webhook delivery given up after its last attempt; the catch-up scan is the last net for merges",
        );
        await failDelivery(this.db, delivery, this.owner, message, "give-up").catch(() => undefined);
        metrics?.inboxDeliveries.inc({ event, outcome: "dead" });
        return;
      }
      const delayMs = this.retryDelayMs(delivery.attempts);
      log.warn(
        { err: error, delivery: delivery.delivery_id, event, attempt: delivery.attempts, retryInMs: Math.round(delayMs) },
        "webhook delivery failed; retrying",
      );
      await failDelivery(this.db, delivery, this.owner, message, { delayMs }).catch(() => undefined);
      metrics?.inboxDeliveries.inc({ event, outcome: "retry" });
    }
  }

  /** Between half and all of base·2^(attempt−1), capped: retries of many deliveries spread out. */
  private retryDelayMs(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.retryBaseMs * 2 ** Math.max(0, attempt - 1));
    return cap / 2 + Math.random() * (cap / 2);
  }

  private async prune(): Promise<void> {
    if (Date.now() - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = Date.now();
    await pruneDeliveries(this.db, KEEP_FINISHED_MS);
  }
}
