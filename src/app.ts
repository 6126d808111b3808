/**
 * The Probot application: wiring only. Every handler lives in src/github and calls into the
 * domain; this file decides which parts are switched on.
 *
 * With a database, the webhook door is the inbox intake: a verified delivery is only written to
 * the webhook inbox and answered; the inbox processor (in this process, and in every other server
 * replica) handles it, in order per pull request, retrying failures. Without one (a
 * validation-only server), Probot's receiver handles deliveries as they arrive.
 */
import type { Knex } from "knex";
import { Context, type ApplicationFunction, type Probot } from "probot";
import { processLock } from "./db/locks.js";
import { AccessRepositories } from "./config/access-repositories.js";
import { eventHandlers, handlerFor, registerPullRequestHandlers } from "./github/handlers.js";
import type { StoredDelivery } from "./inbox/inbox-store.js";
import { InboxWriter } from "./inbox/inbox-writer.js";
import { webhookIntake } from "./inbox/intake.js";
import { IntakeActivity } from "./inbox/intake-activity.js";
import { InboxProcessor, type ProcessorOptions } from "./inbox/processor.js";
import { BackgroundWork } from "./github/background-work.js";
import type { Metrics } from "./observability/metrics.js";
import { WEBHOOK_PATH, type HttpHandler } from "./github/server.js";

export interface AppOptions {
  /** Injectable clock, so tests and the demo control time. */
  now?: () => Date;
  /** The database: with it, deliveries go through the webhook inbox and merges are recorded. */
  db?: Knex;
  /** Where webhook outcomes are counted (/metrics). */
  metrics?: Metrics;
  /** JITSUDO_ACCESS_REPOSITORIES: when set, only these repositories grant. */
  accessRepositories?: readonly string[];
  /** IC_INSTANCE_ARN, when set: role-less configs naming another instance are refused at the merge. */
  instanceArn?: string;
  /** The inbox processor's settings (tests make retries quick). */
  inbox?: Partial<Omit<ProcessorOptions, "log" | "metrics">>;
}

export interface JitsudoApp {
  /** Loaded into Probot's server. */
  app: ApplicationFunction;
  /** The inbox processor, once the app is loaded (with a database). */
  inbox(): InboxProcessor | undefined;
  /** The webhook door with a database (the inbox intake), once the app is loaded; undefined: Probot's receiver. */
  webhookDoor: () => HttpHandler | undefined;
  /** Resolves when the inbox has nothing due and every verdict comment started has been sent (tests, the demo). */
  settle(): Promise<void>;
  /** Stops the inbox processor: deliveries in hand are finished, the rest wait for another replica. */
  stop(): Promise<void>;
}

/** How long a stopping server waits for verdict comments still queued behind GitHub's pacing. */
const STOP_COMMENTS_WAIT_MS = 10_000;

export function createApp(options: AppOptions = {}): JitsudoApp {
  const now = options.now ?? (() => new Date());
  const access = new AccessRepositories(options.accessRepositories, options.db, options.instanceArn);
  let processor: InboxProcessor | undefined;
  let background: BackgroundWork | undefined;
  let door: HttpHandler | undefined;

  const app: ApplicationFunction = async (probot) => {
    const { metrics, db } = options;
    if (!db) {
      if (metrics) {
        probot.onAny((context) => {
          metrics.webhooks.inc({ event: context.name, outcome: "received" });
        });
        probot.onError((error) => {
          for (const event of error.errors ?? [])
            metrics.webhooks.inc({ event: String((event as { event?: { name?: string } }).event?.name ?? "unknown"), outcome: "failed" });
        });
      }
      registerPullRequestHandlers(probot, { now, access, pullRequestLock: processLock() });
      return;
    }
    // Verified with the app's secret, stored once per delivery id, then answered; handled after.
    const intake = new IntakeActivity();
    door = webhookIntake({
      activity: intake,
      path: WEBHOOK_PATH,
      verify: (body, signature) => probot.webhooks.verify(body, signature),
      writer: new InboxWriter(db),
      log: probot.log,
      ...(metrics ? { metrics } : {}),
    });
    background = new BackgroundWork(probot.log);
    const handlers = eventHandlers(probot, { now, access, db, background, ...(metrics ? { metrics } : {}) });
    processor = new InboxProcessor(db, (delivery) => dispatch(probot, handlers, delivery), {
      log: probot.log,
      intake,
      ...(metrics ? { metrics } : {}),
      ...options.inbox,
    });
    await processor.start();
  };

  return {
    app,
    inbox: () => processor,
    webhookDoor: () => door,
    settle: async () => {
      await processor?.settle();
      await background?.flush();
    },
    stop: async () => {
      await processor?.stop();
      await background?.flush(STOP_COMMENTS_WAIT_MS);
    },
  };
}

/** One stored delivery to its handler, with an installation token and a logger naming it. */
async function dispatch(probot: Probot, handlers: ReturnType<typeof eventHandlers>, delivery: StoredDelivery): Promise<string> {
  const handle = handlerFor(handlers, delivery.event, delivery.payload);
  if (!handle) return "ignored";
  const octokit = delivery.installation_id === null ? await probot.auth() : await probot.auth(Number(delivery.installation_id));
  const log = probot.log.child({
    delivery: delivery.delivery_id,
    event: delivery.action ? `${delivery.event}.${delivery.action}` : delivery.event,
  });
  const event = { id: delivery.delivery_id, name: delivery.event, payload: delivery.payload } as ConstructorParameters<typeof Context>[0];
  await handle(new Context(event, octokit, log));
  return "handled";
}
