/**
 * What a part of the local GitHub shares with the rest: accounts, the clock, id numbering, and the
 * outbox of webhook deliveries its operations cause. Each part declares the events it announces
 * (`Event`) beside itself, so this module names no repository and every part can depend on it.
 */
import type { Accounts } from "./accounts.js";
import type { GitHubClock } from "./clock.js";

export interface WebhookDelivery {
  /** The X-GitHub-Event header: `pull_request`, `push`, ... */
  name: string;
  payload: Record<string, unknown>;
}

export interface World<Event> {
  readonly accounts: Accounts;
  readonly clock: GitHubClock;
  nextId(): number;
  /** Announces what happened, as the webhook GitHub sends about it (built by webhook-payloads.ts). */
  emit(event: Event): WebhookDelivery;
}
