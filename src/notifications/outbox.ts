/**
 * The notification outbox in PostgreSQL (migration 0010). Grant events enter it by trigger, in
 * the transaction of the grant change; a request waiting for approval enters it here. From there:
 *
 * 1. route: each new row gets one delivery per channel of its tenant's config as last seen
 *    (`tenant_configs`), in id order, one router at a time (an advisory lock), so the deliveries of
 *    one grant are created in the order its events happened;
 * 2. claim: due deliveries, each the earliest still pending of its grant on its channel, are
 *    leased in one statement (`FOR UPDATE SKIP LOCKED`, no transaction left open): any replica
 *    may deliver, and a crashed one's leases lapse and are taken again;
 * 3. the dispatcher sends with no connection held, then settles each delivery in one statement,
 *    only if it still holds the lease.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { parseTenantConfig } from "../config/tenant.js";
import { CHANNEL_KINDS, channelsOf, type Channel, type ChannelKind } from "./channels.js";
import { REQUEST_WAITING, type OutboxEvent, type OutboxPayload, type WaitingRequest } from "./events.js";

/** Records, once per (repository, pull request, head commit), that its requests are valid and wait for approval. */
export async function enqueueRequestWaiting(
  db: Knex,
  waiting: {
    tenant: number;
    repositoryId: number;
    repo: string;
    prNumber: number;
    headSha: string;
    author: string;
    requests: WaitingRequest[];
  },
): Promise<boolean> {
  const payload: OutboxPayload = { headSha: waiting.headSha, author: waiting.author, requests: waiting.requests };
  const inserted = await db("notification_outbox")
    .insert({
      dedupe_key: `${REQUEST_WAITING}:${waiting.repositoryId}:${waiting.prNumber}:${waiting.headSha}`,
      type: REQUEST_WAITING,
      tenant: waiting.tenant,
      repository_id: waiting.repositoryId,
      repo: waiting.repo,
      pr_number: waiting.prNumber,
      payload: JSON.stringify(payload),
    })
    .onConflict("dedupe_key")
    .ignore()
    .returning("id");
  return inserted.length > 0;
}

interface OutboxRow {
  id: string;
  event_id: string;
  type: string;
  from_status: string | null;
  to_status: string | null;
  tenant: string;
  repository_id: string | null;
  repo: string;
  pr_number: number | null;
  grant_id: string | null;
  payload: OutboxPayload;
  occurred_at: Date;
}

/** Which channels a row goes to; undefined: not yet known (no config seen for its tenant yet), try again later. */
export type RouteChannels = (
  row: { repositoryId: string | null; repo: string; occurredAt: Date },
  config: TenantChannels,
) => Channel[] | undefined;

/** The tenant's channels as its config last seen says; `seen` false when jitsudo has not read its config yet. */
export interface TenantChannels {
  seen: boolean;
  channels: Channel[];
}

/**
 * Routes up to `limit` new outbox rows; returns how many. Skips (returns 0) when another replica
 * is routing: one router at a time keeps each grant's deliveries in the order of its events.
 */
export async function routeOutbox(db: Knex, route: RouteChannels, limit = 200): Promise<number> {
  return db.transaction(async (trx) => {
    const { rows: locked } = await trx.raw<{ rows: { locked: boolean }[] }>(
      "select pg_try_advisory_xact_lock(hashtext('jitsudo:notification-router')) as locked",
    );
    if (!locked[0]?.locked) return 0;
    const rows = await rowsAs<OutboxRow[]>(
      trx("notification_outbox")
        .whereNull("routed_at")
        .orderBy("id")
        .limit(limit)
        .select("id", "grant_id", "repository_id", "repo", "occurred_at"),
    );
    if (rows.length === 0) return 0;
    const configs = await tenantChannels(trx, rows);
    let routed = 0;
    for (const row of rows) {
      const config = configs.get(row.repository_id ?? `name:${row.repo}`) ?? { seen: false, channels: [] };
      const channels = route({ repositoryId: row.repository_id, repo: row.repo, occurredAt: row.occurred_at }, config);
      if (channels === undefined) continue;
      if (channels.length > 0)
        await trx("notification_deliveries")
          .insert(
            channels.map((channel) => ({
              outbox_id: row.id,
              grant_id: row.grant_id,
              kind: channel.kind,
              target: channel.target,
              channel: channel.key,
            })),
          )
          .onConflict(["outbox_id", "channel"])
          .ignore();
      await trx("notification_outbox").where({ id: row.id }).update({ routed_at: trx.fn.now() });
      routed += 1;
    }
    return routed;
  });
}

/** The channels each row's tenant config names (by repository id; by name for rows recorded without one). */
async function tenantChannels(trx: Knex, rows: readonly OutboxRow[]): Promise<Map<string, TenantChannels>> {
  const ids = [...new Set(rows.flatMap((row) => (row.repository_id ? [row.repository_id] : [])))];
  const names = [...new Set(rows.flatMap((row) => (row.repository_id ? [] : [row.repo])))];
  const configs = await rowsAs<{ repository_id: string; repo: string; content: string }[]>(
    trx("tenant_configs")
      .whereIn("repository_id", ids)
      .orWhereIn("repo", names)
      .select(trx.raw("repository_id::text as repository_id"), "repo", "content"),
  );
  const result = new Map<string, TenantChannels>();
  for (const config of configs) {
    const parsed = parseTenantConfig(new TextEncoder().encode(config.content));
    // A config that does not parse names no channel; the last one that did is not kept, so nothing is sent.
    const channels = { seen: true, channels: parsed.ok ? channelsOf(parsed.config.notifications) : [] };
    result.set(config.repository_id, channels);
    result.set(`name:${config.repo}`, channels);
  }
  return result;
}

/** A delivery leased to this dispatcher, with the event it carries. */
export interface ClaimedDelivery {
  id: string;
  kind: ChannelKind;
  target: string;
  channel: string;
  attempts: number;
  event: OutboxEvent;
}

/**
 * Leases up to `limit` due deliveries whose channel this process can send on. A delivery is
 * due when its retry time has come, nobody holds an unexpired lease on it, its grant has no
 * earlier event still pending on the same channel, and no earlier event of its grant waits to be
 * routed. One statement: no transaction stays open while the caller sends.
 */
export async function claimDeliveries(
  db: Knex,
  owner: string,
  options: { limit: number; leaseMs: number; kinds: readonly ChannelKind[] },
): Promise<ClaimedDelivery[]> {
  if (options.kinds.length === 0) return [];
  const { rows } = await db.raw<{
    rows: (OutboxRow & { delivery_id: string; kind: ChannelKind; target: string; channel: string; attempts: number })[];
  }>(
    `with claimed as (
       update notification_deliveries d
          set lease_owner = ?, lease_expires_at = now() + (? * interval '1 millisecond'), attempts = d.attempts + 1
        where d.id in (
          select c.id from notification_deliveries c
           where c.state = 'pending' and c.next_attempt_at <= now()
             and (c.lease_expires_at is null or c.lease_expires_at < now())
             and c.kind in (${options.kinds.map(() => "?").join(", ")})
             and not exists (
               select 1 from notification_deliveries e
                where e.grant_id = c.grant_id and e.channel = c.channel and e.outbox_id < c.outbox_id and e.state = 'pending')
             and not exists (
               select 1 from notification_outbox u
                where u.routed_at is null and u.grant_id = c.grant_id and u.id < c.outbox_id)
           order by c.next_attempt_at, c.id
           limit ?
           for update skip locked)
       returning d.id, d.outbox_id, d.kind, d.target, d.channel, d.attempts)
     select claimed.id as delivery_id, claimed.kind, claimed.target, claimed.channel, claimed.attempts,
            o.event_id, o.type, o.from_status, o.to_status, o.repo, o.pr_number, o.grant_id, o.payload, o.occurred_at
       from claimed join notification_outbox o on o.id = claimed.outbox_id
      order by claimed.id`,
    [owner, options.leaseMs, ...options.kinds, options.limit],
  );
  return rows.map((row) => ({
    id: String(row.delivery_id),
    kind: row.kind,
    target: row.target,
    channel: row.channel,
    attempts: row.attempts,
    event: {
      eventId: row.event_id,
      type: row.type,
      fromStatus: row.from_status,
      toStatus: row.to_status,
      repo: row.repo,
      prNumber: row.pr_number,
      grantId: row.grant_id,
      occurredAt: new Date(row.occurred_at),
      payload: row.payload,
    },
  }));
}

/** Delivered (or nothing to deliver): done. Only while this owner holds the lease; false if it lost it. */
export async function markDelivered(db: Knex, id: string, owner: string): Promise<boolean> {
  const updated = await db("notification_deliveries")
    .where({ id, lease_owner: owner, state: "pending" })
    .update({ state: "delivered", delivered_at: db.fn.now(), lease_owner: null, lease_expires_at: null, last_error: null });
  return updated === 1;
}

/**
 * A failed attempt: retried after `retryInMs`, or given up (`dead`) once it has been failing for
 * `deadAfterMs`. Returns the state it is left in, or undefined if this owner no longer held it.
 */
export async function markFailed(
  db: Knex,
  id: string,
  owner: string,
  failure: { error: string; retryInMs: number; deadAfterMs: number },
): Promise<"pending" | "dead" | undefined> {
  const { rows } = await db.raw<{ rows: { state: "pending" | "dead" }[] }>(
    `update notification_deliveries
        set first_failed_at = coalesce(first_failed_at, now()),
            state = case when coalesce(first_failed_at, now()) <= now() - (? * interval '1 millisecond') then 'dead' else 'pending' end,
            next_attempt_at = now() + (? * interval '1 millisecond'),
            last_error = ?, lease_owner = null, lease_expires_at = null
      where id = ? and lease_owner = ? and state = 'pending'
      returning state`,
    [failure.deadAfterMs, failure.retryInMs, failure.error.slice(0, 500), id, owner],
  );
  return rows[0]?.state;
}

export interface OutboxGauges {
  /** Pending deliveries by channel kind, and outbox rows not yet routed. */
  pending: Map<ChannelKind | "unrouted", number>;
  dead: Map<ChannelKind, number>;
  /** Seconds since the oldest pending delivery's event (or unrouted row) happened; 0 when none. */
  oldestPendingSeconds: number;
}

export async function outboxGauges(db: Knex): Promise<OutboxGauges> {
  const { rows } = await db.raw<{ rows: { kind: string; state: string; n: string; oldest: string | null }[] }>(
    `select d.kind, d.state, count(*) as n, max(extract(epoch from now() - o.occurred_at)) filter (where d.state = 'pending') as oldest
       from notification_deliveries d join notification_outbox o on o.id = d.outbox_id
      where d.state in ('pending', 'dead')
      group by d.kind, d.state
     union all
     select 'unrouted', 'pending', count(*), max(extract(epoch from now() - occurred_at))
       from notification_outbox where routed_at is null`,
  );
  const pending = new Map<ChannelKind | "unrouted", number>([["unrouted", 0], ...CHANNEL_KINDS.map((kind) => [kind, 0] as const)]);
  const dead = new Map<ChannelKind, number>(CHANNEL_KINDS.map((kind) => [kind, 0]));
  let oldest = 0;
  for (const row of rows) {
    if (row.state === "pending") pending.set(row.kind as ChannelKind | "unrouted", Number(row.n));
    else dead.set(row.kind as ChannelKind, Number(row.n));
    if (row.oldest !== null) oldest = Math.max(oldest, Number(row.oldest));
  }
  return { pending, dead, oldestPendingSeconds: oldest };
}

/** Forgets what was delivered (or given up) long ago: the audit trail is grant_events, not this. */
export async function pruneOutbox(db: Knex, olderThanMs: number): Promise<number> {
  return db("notification_outbox")
    .whereNotNull("routed_at")
    .where("occurred_at", "<", db.raw("now() - (? * interval '1 millisecond')", [olderThanMs]))
    .whereNotExists((query) => {
      void query
        .select(db.raw("1"))
        .from("notification_deliveries as d")
        .whereRaw("d.outbox_id = notification_outbox.id")
        .where("d.state", "pending");
    })
    .delete();
}
