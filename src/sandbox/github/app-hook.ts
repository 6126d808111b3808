/**
 * The GitHub App's webhook as GitHub runs it: deliveries POSTed to the app's URL, each recorded
 * with GitHub's verdict on the answer, and the REST API over that record (GitHub's "webhook
 * deliveries" endpoints for apps, JWT-authenticated): list newest first with cursor pagination,
 * get one, and ask for a redelivery, which GitHub sends again with the same GUID and
 * `redelivery: true`. GitHub never redelivers on its own.
 */
import { deliverWebhook } from "../webhooks.js";
import { githubTime, type GitHubClock } from "./clock.js";
import type { WebhookDelivery } from "./world.js";

/** One attempt, as GitHub lists it ("hook-delivery-item"). */
export interface HookDelivery {
  id: number;
  guid: string;
  deliveredAt: Date;
  redelivery: boolean;
  durationSeconds: number;
  /** "OK" for a 2xx answer, else what went wrong ("Invalid HTTP Response: 500", "failed to connect to host"). */
  status: string;
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  payload: Record<string, unknown>;
}

export class AppHook {
  /** Every attempt, oldest first. */
  readonly deliveries: HookDelivery[] = [];
  private target: { url: string; secret: string } | undefined;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly clock: GitHubClock,
    private readonly nextId: () => number,
  ) {}

  /** Where GitHub sends the app's webhooks (the app's "Webhook URL" and secret). */
  configure(url: string, secret: string): void {
    this.target = { url, secret };
  }

  /** Sends a webhook as GitHub does, records the attempt, and resolves with it. */
  async send(
    webhook: Pick<WebhookDelivery, "name" | "payload">,
    options: { guid?: string; redelivery?: boolean } = {},
  ): Promise<HookDelivery> {
    if (!this.target) throw new Error("the app has no webhook URL: configure it first");
    const guid = options.guid ?? crypto.randomUUID();
    const started = Date.now();
    let statusCode = 0;
    let status: string;
    try {
      statusCode = await deliverWebhook(this.target.url, this.target.secret, webhook.name, webhook.payload, guid);
      status = statusCode >= 200 && statusCode < 300 ? "OK" : `Invalid HTTP Response: ${statusCode}`;
    } catch {
      status = "failed to connect to host";
    }
    const payload = webhook.payload;
    const attempt: HookDelivery = {
      id: this.nextId(),
      guid,
      deliveredAt: this.clock.now(),
      redelivery: options.redelivery ?? false,
      durationSeconds: (Date.now() - started) / 1000,
      status,
      statusCode,
      event: webhook.name,
      action: typeof payload.action === "string" ? payload.action : null,
      installationId: numberAt(payload, "installation"),
      repositoryId: numberAt(payload, "repository"),
      payload,
    };
    this.deliveries.push(attempt);
    return attempt;
  }

  /** POST …/attempts: GitHub accepts at once (202) and delivers in the background. */
  redeliver(id: number): boolean {
    const original = this.deliveries.find((delivery) => delivery.id === id);
    if (!original) return false;
    const sending = this.send({ name: original.event, payload: original.payload }, { guid: original.guid, redelivery: true });
    this.pending.add(sending);
    void sending.finally(() => this.pending.delete(sending)).catch(() => undefined);
    return true;
  }

  /** Waits for redeliveries in flight (tests). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  itemJson(delivery: HookDelivery): Record<string, unknown> {
    return {
      id: delivery.id,
      guid: delivery.guid,
      delivered_at: githubTime(delivery.deliveredAt),
      redelivery: delivery.redelivery,
      duration: delivery.durationSeconds,
      status: delivery.status,
      status_code: delivery.statusCode,
      event: delivery.event,
      action: delivery.action,
      installation_id: delivery.installationId,
      repository_id: delivery.repositoryId,
      throttled_at: null,
    };
  }
}

function numberAt(payload: Record<string, unknown>, key: string): number | null {
  const id = (payload[key] as { id?: unknown } | undefined)?.id;
  return typeof id === "number" ? id : null;
}
