/** The senders an operator's environment allows: Slack with SLACK_BOT_TOKEN, webhooks with JITSUDO_WEBHOOK_SECRET. */
import type { AppConfig } from "../config/env.js";
import type { Log } from "../observability/logger.js";
import type { NotificationSender } from "./sender.js";
import { SlackSender } from "./slack.js";
import { WebhookSender } from "./webhook.js";

export function notificationSenders(config: AppConfig["notifications"], log: Log): NotificationSender[] {
  const senders: NotificationSender[] = [];
  if (config.slackBotToken)
    senders.push(new SlackSender({ token: config.slackBotToken, ...(config.slackApiUrl ? { apiUrl: config.slackApiUrl } : {}), log }));
  if (config.webhookSecret)
    senders.push(new WebhookSender({ secret: config.webhookSecret, ...(config.webhookAllowLoopback ? { allowLoopback: true } : {}) }));
  return senders;
}
