/**
 * GET /api/events?after=<cursor>&limit=: every grant event, in commit order, a page at a time, for
 * a SIEM to pull. Each event is the flat audit record (src/audit/audit-event.ts) with its link in
 * its tenant's hash chain; `next` is the cursor to ask with next time (the last event's `seq`, or
 * the same cursor when nothing new has been committed), and `more` says whether a full page is
 * waiting already. The cursor is stable: asking again with it never skips an event, however the
 * transactions that wrote them interleaved (migration 0013 says why), and never repeats one.
 */
import type { Knex } from "knex";
import { auditEvent } from "../audit/audit-event.js";
import { eventsAfter } from "../audit/audit-store.js";

export const EVENTS_DEFAULT_LIMIT = 100;
export const EVENTS_MAX_LIMIT = 1000;
const PARAMETERS = ["after", "limit"];
const MAX_BIGINT = 2n ** 63n - 1n;

export type EventsQuery = { after: string; limit: number } | { error: string };

/** The page asked for, or why the request is wrong, in words that say what to send instead. */
export function parseEventsQuery(params: URLSearchParams): EventsQuery {
  const unknown = [...params.keys()].filter((key) => !PARAMETERS.includes(key));
  if (unknown.length) return { error: `unknown parameter ${unknown.map((key) => `"${key.slice(0, 40)}"`).join(", ")}; use after, limit` };
  const after = params.get("after") ?? "0";
  if (!/^\d{1,19}$/.test(after) || BigInt(after) > MAX_BIGINT) {
    return {
      error: `after must be the "next" cursor of an earlier page (a whole number; 0 or none for the start), not "${after.slice(0, 40)}"`,
    };
  }
  const limitText = params.get("limit") ?? String(EVENTS_DEFAULT_LIMIT);
  const limit = /^\d{1,4}$/.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= EVENTS_MAX_LIMIT)) return { error: `limit must be a whole number from 1 to ${EVENTS_MAX_LIMIT}` };
  return { after: BigInt(after).toString(), limit };
}

export async function listEvents(db: Knex, url: URL, webBaseUrl: string): Promise<{ status: number; body: unknown }> {
  const query = parseEventsQuery(url.searchParams);
  if ("error" in query) return { status: 400, body: { error: query.error } };
  // One more than asked: whether a full page is already waiting, without a count.
  const rows = await eventsAfter(db, query.after, query.limit + 1);
  const events = rows.slice(0, query.limit).map((row) => auditEvent(row, webBaseUrl));
  return { status: 200, body: { events, next: events.at(-1)?.seq ?? query.after, more: rows.length > query.limit } };
}
