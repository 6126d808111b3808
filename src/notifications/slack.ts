/**
 * Slack, through @slack/web-api's chat.postMessage with the operator's bot token (SLACK_BOT_TOKEN).
 * The client's own retries are off: a failed post waits in the outbox and is retried there with
 * backoff, which survives restarts and never holds anything while it waits.
 */
import { ErrorCode, LogLevel, WebClient, type Logger as SlackLogger } from "@slack/web-api";
import type { Log } from "../observability/logger.js";
import { slackText, type NotificationBody } from "./events.js";
import { SEND_TIMEOUT_MS, type NotificationSender, type SendResult } from "./sender.js";

export interface SlackOptions {
  token: string;
  /** SLACK_API_URL: Slack's API base (default https://slack.com/api/), for tests and proxies. */
  apiUrl?: string;
  log: Log;
}

export class SlackSender implements NotificationSender {
  readonly kind = "slack" as const;
  private readonly client: WebClient;

  constructor(options: SlackOptions) {
    this.client = new WebClient(options.token, {
      ...(options.apiUrl ? { slackApiUrl: options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/` } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: SEND_TIMEOUT_MS,
      logger: quietLogger(options.log),
      logLevel: LogLevel.WARN,
    });
  }

  async send(target: string, notification: NotificationBody): Promise<SendResult> {
    try {
      await this.client.chat.postMessage({
        channel: target,
        text: slackText(notification),
        mrkdwn: true,
        // Names in request text stay text: no @here, @channel or @user is turned into a mention.
        link_names: false,
        parse: "none",
        unfurl_links: false,
        unfurl_media: false,
      });
      return { ok: true };
    } catch (error) {
      return slackFailure(error);
    }
  }
}

/** What went wrong, in words safe to log and store (never the token or the request). */
export function slackFailure(error: unknown): SendResult & { ok: false } {
  const coded = error as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number; original?: Error };
  switch (coded.code) {
    case ErrorCode.PlatformError:
      return { ok: false, error: `slack: ${coded.data?.error ?? "error"}` };
    case ErrorCode.RateLimitedError:
      return { ok: false, error: "slack: rate limited", retryAfterMs: (coded.retryAfter ?? 30) * 1000 };
    case ErrorCode.HTTPError:
      return { ok: false, error: `slack: HTTP ${coded.statusCode ?? "error"}` };
    case ErrorCode.RequestError:
      return { ok: false, error: `slack: ${coded.original?.message ?? "request failed"}` };
    default:
      return { ok: false, error: `slack: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The client's own lines, at debug in jitsudo's log (its warnings repeat what the outbox records). */
function quietLogger(log: Log): SlackLogger {
  let level = LogLevel.WARN;
  const line = (msg: unknown[]) => log.debug?.({ slack: msg.map(String).join(" ") }, "slack client");
  return {
    debug: (...msg: unknown[]) => line(msg),
    info: (...msg: unknown[]) => line(msg),
    warn: (...msg: unknown[]) => line(msg),
    error: (...msg: unknown[]) => line(msg),
    setLevel: (next: LogLevel) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}
