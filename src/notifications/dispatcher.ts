/**
 * The notification dispatcher: routes new outbox rows to their tenant's channels, then claims due
 * deliveries, sends them and records each outcome. It runs as a job of its own beside the grant
 * worker (never inside a grant's transaction or step), holds no database connection while a
 * receiver answers, and gives up on nothing before a delivery has failed for `deadAfterMs`:
 * a dead Slack only makes its deliveries wait.
 */
import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import type { Log } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { ScheduledJob } from "../jobs/scheduler.js";
import type { Channel, ChannelKind } from "./channels.js";
import { toNotification } from "./events.js";
import {
  claimDeliveries,
  markDelivered,
  markFailed,
  pruneOutbox,
  routeOutbox,
  type ClaimedDelivery,
  type TenantChannels,
} from "./outbox.js";
import type { NotificationSender } from "./sender.js";

export interface DispatcherSettings {
  /** How often the outbox is looked at when idle. */
  pollMs: number;
  /** Deliveries leased and sent at once. */
  batch: number;
  /** A claimed delivery is this one's for this long; after that (a crash), another replica takes it. */
  leaseMs: number;
  /** First retry after this long, doubling each attempt up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A delivery failing for this long is given up (`dead`, its last error kept). */
  deadAfterMs: number;
  /** An event of a tenant whose config jitsudo has not seen yet waits this long for it (a first merge records it just after). */
  unseenConfigGraceMs: number;
  /** Outbox rows fully delivered are forgotten after this long. */
  keepMs: number;
}

export const DEFAULT_DISPATCHER_SETTINGS: DispatcherSettings = {
  pollMs: 1000,
  batch: 20,
  leaseMs: 60_000,
  retryBaseMs: 5_000,
  retryMaxMs: 10 * 60_000,
  deadAfterMs: 24 * 3_600_000,
  unseenConfigGraceMs: 10 * 60_000,
  keepMs: 7 * 86_400_000,
};

export interface DispatcherOptions {
  db: Knex;
  log: Log;
  metrics: Metrics;
  /** The channels this operator can send on (no SLACK_BOT_TOKEN: no Slack sender). */
  senders: readonly NotificationSender[];
  /** https://github.com, or the GitHub Enterprise Server's web address: where PR links point. */
  webBaseUrl: string;
  settings?: Partial<DispatcherSettings>;
  now?: () => Date;
}

/** The delay before retry number `attempts` (1-based), with ±20 % jitter so replicas do not retry in step. */
export function backoffMs(
  attempts: number,
  settings: Pick<DispatcherSettings, "retryBaseMs" | "retryMaxMs">,
  random = Math.random,
): number {
  const base = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

const PRUNE_EVERY_MS = 3_600_000;
const MAX_ROUNDS_PER_RUN = 10;

export class NotificationDispatcher {
  readonly owner = `notifications-${randomUUID()}`;
  private readonly settings: DispatcherSettings;
  private readonly senders: Map<ChannelKind, NotificationSender>;
  private readonly now: () => Date;
  private lastPrune = 0;
  private readonly warned = new Set<string>();

  constructor(private readonly options: DispatcherOptions) {
    this.settings = { ...DEFAULT_DISPATCHER_SETTINGS, ...options.settings };
    this.senders = new Map(options.senders.map((sender) => [sender.kind, sender]));
    this.now = options.now ?? (() => new Date());
  }

  /** The dispatcher as a job of a scheduler (the worker's): every `pollMs`, never two runs at once. */
  job(): ScheduledJob {
    return { name: "notifications", every: { kind: "interval", everyMs: this.settings.pollMs }, run: (signal) => this.runOnce(signal) };
  }

  /** Routes what is new, then sends what is due until nothing is (or it is stopped); returns deliveries attempted. */
  async runOnce(signal?: AbortSignal): Promise<number> {
    while ((await routeOutbox(this.options.db, (row, config) => this.route(row, config))) > 0 && !signal?.aborted);
    let attempted = 0;
    // A full batch may mean more is due: claim again, a bounded number of times (a retry due
    // within the run must not keep one run going); the next run comes within pollMs.
    for (let round = 0; round < MAX_ROUNDS_PER_RUN && !signal?.aborted; round++) {
      const claimed = await claimDeliveries(this.options.db, this.owner, {
        limit: this.settings.batch,
        leaseMs: this.settings.leaseMs,
        kinds: [...this.senders.keys()],
      });
      // Each claimed delivery is the head of its grant's queue on its channel: sending them together keeps every order.
      await Promise.all(claimed.map((delivery) => this.deliver(delivery, signal)));
      attempted += claimed.length;
      if (claimed.length < this.settings.batch) break;
    }
    await this.pruneNowAndThen();
    return attempted;
  }

  /** The channels of a new row: the tenant's, minus those this operator cannot send on. */
  private route(row: { repositoryId: string | null; repo: string; occurredAt: Date }, config: TenantChannels): Channel[] | undefined {
    if (!config.seen) return this.now().getTime() - row.occurredAt.getTime() < this.settings.unseenConfigGraceMs ? undefined : [];
    return config.channels.filter((channel) => {
      if (!this.senders.has(channel.kind)) {
        this.warnOnce(
          `${row.repo}:${channel.kind}`,
          { repo: row.repo, channel: channel.kind },
          channel.kind === "slack"
            ? "the tenant config asks for Slack notifications but SLACK_BOT_TOKEN is not set; not sent"
            : "the tenant config asks for webhook notifications but JITSUDO_WEBHOOK_SECRET is not set; not sent",
        );
        return false;
      }
      const problem = this.senders.get(channel.kind)?.refuses?.(channel.target);
      if (problem) this.warnOnce(`${row.repo}:${channel.key}`, { repo: row.repo }, `a notification webhook URL ${problem}; not sent`);
      return problem === undefined;
    });
  }

  private async deliver(delivery: ClaimedDelivery, signal?: AbortSignal): Promise<void> {
    const { db, log, metrics } = this.options;
    const notification = toNotification(delivery.event, this.options.webBaseUrl);
    if (!notification) {
      await markDelivered(db, delivery.id, this.owner);
      return;
    }
    const sender = this.senders.get(delivery.kind)!;
    const started = Date.now();
    // No connection or transaction is held here: the lease alone says this delivery is ours.
    const result = await sender.send(delivery.target, notification, signal);
    const context = {
      delivery: delivery.id,
      event: notification.id,
      type: notification.type,
      channel: delivery.kind,
      attempt: delivery.attempts,
    };
    if (result.ok) {
      if (await markDelivered(db, delivery.id, this.owner))
        metrics.notificationDeliveries.inc({ channel: delivery.kind, outcome: "delivered" });
      log.debug?.({ ...context, ms: Date.now() - started }, "notification delivered");
      return;
    }
    const retryInMs = Math.max(result.retryAfterMs ?? 0, backoffMs(delivery.attempts, this.settings));
    const state = await markFailed(db, delivery.id, this.owner, { error: result.error, retryInMs, deadAfterMs: this.settings.deadAfterMs });
    if (state === "dead") {
      metrics.notificationDeliveries.inc({ channel: delivery.kind, outcome: "dead" });
      log.error({ ...context, error: result.error }, "notification given up after failing for too long (dead)");
    } else if (state === "pending") {
      metrics.notificationDeliveries.inc({ channel: delivery.kind, outcome: "failed" });
      log.warn({ ...context, error: result.error, retryInMs }, "notification not delivered; will retry");
    }
  }

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = Date.now();
    const pruned = await pruneOutbox(this.options.db, this.settings.keepMs);
    if (pruned > 0) this.options.log.info({ pruned }, "old delivered notifications forgotten");
  }

  private warnOnce(key: string, context: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.log.warn(context, message);
  }
}
