/**
 * Signed webhooks: each notification POSTed as JSON to a tenant's URL, signed with the operator's
 * JITSUDO_WEBHOOK_SECRET (GitHub's scheme, see signature.ts), its event id in the body and in
 * `X-Jitsudo-Event-Id` so a receiver can drop a repeat (delivery is at least once).
 *
 * Redirects are never followed (a 3xx is a failure): a tenant must not bounce the worker's POST
 * to an address the URL check refused. The URL is checked again here, at every send, since the
 * config snapshot may predate the check.
 */
import { webhookUrlProblem, type WebhookUrlRules } from "./channels.js";
import type { NotificationBody } from "./events.js";
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign } from "./signature.js";
import { SEND_TIMEOUT_MS, type NotificationSender, type SendResult } from "./sender.js";

export interface WebhookOptions extends WebhookUrlRules {
  secret: string;
  /** For tests: another fetch. */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class WebhookSender implements NotificationSender {
  readonly kind = "webhook" as const;
  constructor(private readonly options: WebhookOptions) {}

  refuses(url: string): string | undefined {
    return webhookUrlProblem(url, this.options);
  }

  async send(url: string, notification: NotificationBody, signal?: AbortSignal): Promise<SendResult> {
    const problem = this.refuses(url);
    if (problem) return { ok: false, error: `webhook URL ${problem}` };
    const body = JSON.stringify(notification);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? SEND_TIMEOUT_MS);
    try {
      const response = await (this.options.fetch ?? fetch)(url, {
        method: "POST",
        redirect: "manual",
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: {
          "content-type": "application/json",
          "user-agent": "jitsudo-notifications",
          [SIGNATURE_HEADER]: sign(this.options.secret, body),
          [EVENT_ID_HEADER]: notification.id,
          [EVENT_TYPE_HEADER]: notification.type,
        },
        body,
      });
      // The answer is not read beyond its status: nothing of it reaches logs or the tenant.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true };
      const retryAfter = Number(response.headers.get("retry-after"));
      return {
        ok: false,
        error: `webhook: HTTP ${response.status}`,
        ...(response.status === 429 && retryAfter > 0 ? { retryAfterMs: Math.min(retryAfter, 3600) * 1000 } : {}),
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { ok: false, error: `webhook: ${cause ?? (error instanceof Error ? error.name : "request failed")}` };
    }
  }
}
