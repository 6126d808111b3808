/**
 * The one interface the dispatcher sends through, whatever the channel: Slack and webhooks are
 * behind it, and tests can put anything there.
 */
import type { ChannelKind } from "./channels.js";
import type { NotificationBody } from "./events.js";

export type SendResult =
  | { ok: true }
  /** `retryAfterMs`: the receiver said when to come back (HTTP 429, Slack's rate limit). */
  | { ok: false; error: string; retryAfterMs?: number };

export interface NotificationSender {
  readonly kind: ChannelKind;
  /** Sends one notification to one target (a Slack channel, a webhook URL). Never throws. */
  send(target: string, notification: NotificationBody, signal?: AbortSignal): Promise<SendResult>;
  /** Why this sender will never send to `target` (a webhook URL its rules refuse), if it will not. */
  refuses?(target: string): string | undefined;
}

/** How long one send may take: well inside a delivery's lease, so a slow receiver never has it sent twice at once. */
export const SEND_TIMEOUT_MS = 10_000;
