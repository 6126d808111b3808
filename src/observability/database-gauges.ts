/**
 * Gauges read from the database when Prometheus scrapes: what exists across every replica, not
 * what happened in this process. Every role exports them, so a worker-only install is watched as
 * well as a server. /metrics answers anyone, so the queries are cached: at most one set every 10 s
 * per process, however many scrapes arrive.
 */
import { countUnreviewed } from "../grants/break-glass-store.js";
import type { Knex } from "knex";
import { grantCountsByStatus, oldestInStatus } from "../grants/grant-repository.js";
import { GRANT_STATUSES } from "../grants/lifecycle.js";
import { inboxCounts } from "../inbox/inbox-store.js";
import { countOpenFindings } from "../jobs/drift/repository.js";
import { outboxGauges } from "../notifications/outbox.js";
import { cachedFor } from "./cached.js";
import type { Metrics } from "./metrics.js";

/** How long the database gauges of /metrics reuse their values. */
export const GAUGES_TTL_MS = 10_000;

/** The statuses a grant should pass through in seconds; minutes in one is what an alert is for. */
const TRANSIENT = ["provisioning", "revoking"] as const;

interface KnexPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

export function registerDatabaseGauges(metrics: Metrics, db: Knex): void {
  metrics.addGauge(
    "jitsudo_grants",
    "Grants by status, across every replica.",
    ["status"],
    cachedFor(GAUGES_TTL_MS, async () => {
      const counts = await grantCountsByStatus(db);
      return GRANT_STATUSES.map((status) => ({ labels: { status }, value: counts.get(status) ?? 0 }));
    }),
  );
  metrics.addGauge(
    "jitsudo_grant_oldest_seconds",
    "Seconds the longest-waiting grant has been in provisioning or revoking (0 when none is); alert when it passes minutes.",
    ["status"],
    cachedFor(GAUGES_TTL_MS, async () => {
      const oldest = await oldestInStatus(db, TRANSIENT);
      return TRANSIENT.map((status) => ({ labels: { status }, value: oldest.get(status) ?? 0 }));
    }),
  );
  metrics.addGauge(
    "jitsudo_inbox_deliveries",
    "Webhook deliveries in the inbox: waiting (or being handled), and given up after their last attempt (alert on any).",
    ["state"],
    cachedFor(GAUGES_TTL_MS, async () => {
      const counts = await inboxCounts(db);
      return [
        { labels: { state: "waiting" }, value: counts.waiting },
        { labels: { state: "dead" }, value: counts.dead },
      ];
    }),
  );
  metrics.addGauge(
    "jitsudo_drift_findings_open",
    "Unexpected assignments found by drift and not yet gone.",
    [],
    cachedFor(GAUGES_TTL_MS, async () => [{ labels: {}, value: await countOpenFindings(db) }]),
  );
  metrics.addGauge(
    "jitsudo_break_glass_unreviewed",
    "Grants approved by break-glass that no code owner has reviewed yet (approved the merged PR or /jitsudo ack).",
    [],
    cachedFor(GAUGES_TTL_MS, async () => [{ labels: {}, value: await countUnreviewed(db) }]),
  );
  const notifications = cachedFor(GAUGES_TTL_MS, () => outboxGauges(db));
  metrics.addGauge(
    "jitsudo_notifications_pending",
    "Notifications waiting in the outbox, by channel (unrouted: not yet matched to the tenant's channels).",
    ["channel"],
    async () => [...(await notifications()).pending].map(([channel, value]) => ({ labels: { channel }, value })),
  );
  metrics.addGauge(
    "jitsudo_notifications_oldest_pending_seconds",
    "Age of the oldest notification not yet delivered (0 when none waits); grows while a receiver is down.",
    [],
    async () => [{ labels: {}, value: (await notifications()).oldestPendingSeconds }],
  );
  metrics.addGauge(
    "jitsudo_notifications_dead",
    "Notification deliveries given up after failing for 24 h, by channel (their last error is in the log and the table): alert on any.",
    ["channel"],
    async () => [...(await notifications()).dead].map(([channel, value]) => ({ labels: { channel }, value })),
  );
  // knex keeps its pool (tarn) on the client; read at each scrape, never cached: it is this process's own.
  metrics.addGauge(
    "jitsudo_db_pool_connections",
    "This process's database pool: connections in use, idle, and acquisitions waiting for one.",
    ["state"],
    () => {
      const pool = (db.client as { pool?: KnexPool }).pool;
      if (!pool) return Promise.resolve([]);
      return Promise.resolve([
        { labels: { state: "used" }, value: pool.numUsed() },
        { labels: { state: "idle" }, value: pool.numFree() },
        { labels: { state: "waiting" }, value: pool.numPendingAcquires() },
      ]);
    },
  );
}
