/**
 * From an outbox row to what people are told: which notification a grant event is, the JSON a
 * webhook receives and the Slack message. Pure: no database, no network, no clock.
 *
 * Everything a request's author wrote (reason, ticket, principal, names) is untrusted: in Slack it
 * is escaped (`&`, `<`, `>`, Slack's only control characters in mrkdwn, so no `<!channel>`, no
 * `<@U…>` mention and no disguised link can be injected) and stripped of unprintable characters;
 * messages are sent with link_names off, so a bare `@here` stays text.
 */
import { capped, printable } from "../parsing/printable.js";

/** What receivers see in `type`. Stable: receivers switch on these. */
export const NOTIFICATION_TYPES = [
  "request.waiting",
  "grant.approved",
  "grant.active",
  "grant.expiring",
  "grant.revoked",
  "grant.expired",
  "grant.extended",
  "grant.failed",
  "merge.rejected",
  "drift.unexpected",
  "break_glass.used",
  "break_glass.review_due",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The outbox type of a request waiting for approval (no grant event exists for it). */
export const REQUEST_WAITING = "request_waiting";

/** Grant event types that notify whatever their statuses (not status changes). */
const BY_EVENT_TYPE: Readonly<Record<string, NotificationType>> = {
  [REQUEST_WAITING]: "request.waiting",
  rejected: "merge.rejected",
  drift_unexpected: "drift.unexpected",
  expiry_reminder: "grant.expiring",
  // The extended grant's end (active → expired) is no loss of access: its extension took over.
  extended: "grant.extended",
  break_glass: "break_glass.used",
  break_glass_review_due: "break_glass.review_due",
};

/** A status a grant moved into (from another one) that notifies. */
const BY_STATUS_REACHED: Readonly<Record<string, NotificationType>> = {
  approved: "grant.approved",
  active: "grant.active",
  revoked: "grant.revoked",
  expired: "grant.expired",
  failed: "grant.failed",
};

/**
 * Which notification an event is, if any. The same set as the outbox trigger's condition
 * (migration 0010): a status change into a notifying status, or one of the event types above.
 */
export function notificationTypeOf(event: {
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
}): NotificationType | undefined {
  const byType = BY_EVENT_TYPE[event.type];
  if (byType) return byType;
  if (event.toStatus !== null && event.fromStatus !== event.toStatus) return BY_STATUS_REACHED[event.toStatus];
  return undefined;
}

/** The grant as the outbox trigger snapshotted it (JSON: times are strings). */
export interface GrantSnapshot {
  id: string;
  status: string;
  file_path: string;
  requester: string;
  principal: string;
  account_ref: string;
  account_id: string | null;
  permission_set_ref: string;
  starts_at: string;
  expires_at: string;
  reason: string;
  ticket: string | null;
  approvers: string[] | null;
  failure_reason: string | null;
  last_error: string | null;
}

/** A request that passed its check and waits for code-owner approval. */
export interface WaitingRequest {
  file: string;
  principal: string;
  account: string;
  permissionSet: string;
  duration: string;
  reason: string;
  ticket?: string;
  /** Who may approve (`@login`, `@org/team`, an email), never the author. */
  approvers: string[];
  approvalsRequired: number;
}

export interface OutboxPayload {
  actor?: string;
  reason?: string;
  details?: Record<string, unknown>;
  grant?: GrantSnapshot | null;
  /** request_waiting only. */
  headSha?: string;
  author?: string;
  requests?: WaitingRequest[];
}

/** An outbox row, as the dispatcher hands it over. */
export interface OutboxEvent {
  eventId: string;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  repo: string;
  prNumber: number | null;
  grantId: string | null;
  occurredAt: Date;
  payload: OutboxPayload;
}

/** The JSON body of a webhook: the contract receivers code against (README, "Notifications"). */
export interface NotificationBody {
  /** The event id: the same on every retry, for the receiver to deduplicate. */
  id: string;
  type: NotificationType;
  occurred_at: string;
  repository: string;
  pull_request: { number: number; url: string } | null;
  grant: {
    id: string;
    status: string;
    requester: string;
    principal: string;
    account: string;
    permission_set: string;
    starts_at: string;
    expires_at: string;
    reason: string;
    ticket: string | null;
  } | null;
  /** One plain-text sentence saying what happened (untrusted values included verbatim: escape before rendering). */
  summary: string;
  /** Why: the event's own reason (an approval's approvers, AWS's failure, a refusal's reasons). */
  reason: string | null;
  /** request.waiting: the requests and who may approve them. */
  requests?: WaitingRequest[];
}

const MAX_VALUE = 200;

/** The web address of a pull request on github.com or a GitHub Enterprise Server (`webBaseUrl`). */
export function pullRequestUrl(webBaseUrl: string, repo: string, prNumber: number): string {
  return `${webBaseUrl.replace(/\/+$/, "")}/${repo}/pull/${prNumber}`;
}

/** The notification an outbox row stands for, or undefined when it is not one (nothing is sent). */
export function toNotification(event: OutboxEvent, webBaseUrl: string): NotificationBody | undefined {
  const type = notificationTypeOf(event);
  if (!type) return undefined;
  const grant = event.payload.grant ?? null;
  return {
    id: event.eventId,
    type,
    occurred_at: event.occurredAt.toISOString(),
    repository: event.repo,
    pull_request: event.prNumber === null ? null : { number: event.prNumber, url: pullRequestUrl(webBaseUrl, event.repo, event.prNumber) },
    grant: grant && {
      id: grant.id,
      status: grant.status,
      requester: grant.requester,
      principal: grant.principal,
      account: grant.account_id ?? grant.account_ref,
      permission_set: grant.permission_set_ref,
      starts_at: new Date(grant.starts_at).toISOString(),
      expires_at: new Date(grant.expires_at).toISOString(),
      reason: grant.reason,
      ticket: grant.ticket,
    },
    summary: summaryOf(type, event, grant),
    reason: event.payload.reason ?? null,
    ...(event.payload.requests ? { requests: event.payload.requests } : {}),
  };
}

/** 2026-11-26 09:00 UTC, as jitsudo writes times everywhere. */
function utc(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function summaryOf(type: NotificationType, event: OutboxEvent, grant: GrantSnapshot | null): string {
  const what = grant ? `${grant.principal} on ${grant.account_id ?? grant.account_ref} as ${grant.permission_set_ref}` : "";
  const pr = event.prNumber === null ? event.repo : `${event.repo}#${event.prNumber}`;
  switch (type) {
    case "request.waiting": {
      const requests = event.payload.requests ?? [];
      return `${pr}: ${requests.length === 1 ? "an access request is" : `${requests.length} access requests are`} valid and waiting for approval`;
    }
    case "grant.approved":
      return `Access approved: ${what}, ${utc(grant!.starts_at)} to ${utc(grant!.expires_at)} (${pr})`;
    case "grant.active":
      return `Access active: ${what} until ${utc(grant!.expires_at)} (${pr})`;
    case "grant.expiring":
      return `Access expiring soon: ${what} ends at ${utc(grant!.expires_at)} (${pr})`;
    case "grant.revoked":
      return `Access revoked: ${what} (${pr})`;
    case "grant.expired":
      return `Access ended: ${what}; the assignment stays for another live grant (${pr})`;
    case "grant.extended":
      return `Access extended without interruption: ${what}; its extension keeps the assignment (${pr})`;
    case "grant.failed":
      return `Access failed: ${what} (${pr})`;
    case "merge.rejected":
      return `Merge refused, nothing granted (${pr})`;
    case "drift.unexpected":
      return `Drift: an assignment no grant explains (${event.repo})`;
    case "break_glass.used":
      return `Break-glass access: ${what || "emergency access granted"} (${pr})`;
    case "break_glass.review_due":
      return `Break-glass review due: ${what || "emergency access"} needs its review (${pr})`;
  }
}

const EMOJI: Readonly<Record<NotificationType, string>> = {
  "request.waiting": ":hourglass_flowing_sand:",
  "grant.approved": ":ballot_box_with_check:",
  "grant.active": ":white_check_mark:",
  "grant.expiring": ":alarm_clock:",
  "grant.revoked": ":lock:",
  "grant.expired": ":lock:",
  "grant.extended": ":arrows_counterclockwise:",
  "grant.failed": ":x:",
  "merge.rejected": ":no_entry:",
  "drift.unexpected": ":warning:",
  "break_glass.used": ":rotating_light:",
  "break_glass.review_due": ":rotating_light:",
};

/**
 * A value for Slack mrkdwn: unprintable characters shown as \uXXXX, capped, and Slack's three
 * control characters escaped as Slack documents (`&amp;`, `&lt;`, `&gt;`).
 */
export function slackEscape(value: string, max = MAX_VALUE): string {
  return printable(capped(value, max)).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The Slack message (mrkdwn) for a notification; every value in it is escaped, the link is ours. */
export function slackText(body: NotificationBody): string {
  const lines = [`${EMOJI[body.type]} ${slackEscape(body.summary, 500)}`];
  if (body.grant) {
    lines.push(`*Reason:* ${slackEscape(body.grant.reason)}${body.grant.ticket ? ` (ticket ${slackEscape(body.grant.ticket, 80)})` : ""}`);
    lines.push(`*Requested by:* ${slackEscape(body.grant.requester, 80)}`);
  }
  for (const request of body.requests ?? []) {
    lines.push(
      `• ${slackEscape(request.principal, 80)} on ${slackEscape(request.account, 80)} as ${slackEscape(request.permissionSet, 80)} for ${slackEscape(request.duration, 40)}: ${slackEscape(request.reason)}` +
        `\n   can approve: ${slackEscape(request.approvers.join(", ") || "nobody but the author", 300)} (${request.approvalsRequired} needed)`,
    );
  }
  if (body.reason && body.type !== "grant.active") lines.push(`_${slackEscape(body.reason, 500)}_`);
  // The URL is built by jitsudo from GitHub's repository name (safe characters only); the label is fixed text.
  if (body.pull_request) lines.push(`<${body.pull_request.url}|${slackEscape(body.repository, 140)}#${body.pull_request.number}>`);
  return lines.join("\n");
}
