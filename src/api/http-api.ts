/**
 * The operator's HTTP endpoints, served beside the webhook path by Probot's server:
 *
 *   GET /healthz          the process is up (the container's HEALTHCHECK)
 *   GET /readyz           the database answers and has every migration this build needs
 *   GET /metrics          Prometheus text: grants by status, latencies, AWS calls, drift, webhooks
 *   GET /api/grants       grants, newest first; ?status=active&account=123456789012&repo=o/r&limit=100
 *   GET /api/grants/:id   one grant with its whole event history
 *
 * /readyz and /metrics answer anyone (probes and Prometheus do not authenticate), so what they read
 * from the database is cached: at most one readiness check every 2 s and one set of gauge queries
 * every 10 s per process, however many requests arrive.
 *
 * The grants API is read-only and needs `Authorization: Bearer <JITSUDO_API_TOKEN>`; without a
 * token configured it is off. Tokens are compared as SHA-256 digests in constant time, so neither
 * their length nor their content leaks through timing. Every error is a JSON body with a reason;
 * nothing a request sends can crash the server.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Knex } from "knex";
import { migrationsPending } from "../db/migrate.js";
import { cachedFor } from "./cached.js";
import { inboxCounts } from "../inbox/inbox-store.js";
import { countOpenFindings } from "../jobs/drift/repository.js";
import { eventsOfGrant, findGrants, grantCountsByStatus, grantForApi, type GrantFilter } from "../grants/grant-repository.js";
import { GRANT_STATUSES, isGrantStatus } from "../grants/lifecycle.js";
import type { Log } from "../logger.js";
import { Gauge, type Metrics } from "../metrics.js";

export interface ApiOptions {
  /** Without a database (a validation-only server) /readyz says so and the grants API is off. */
  db?: Knex;
  metrics: Metrics;
  log: Log;
  /** JITSUDO_API_TOKEN; unset: the grants API answers 404. */
  token?: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACCOUNT = /^(\d{12}|[\w .+=,@-]{1,50})$/;
const REPO = /^[\w.-]+\/[\w.-]+$/;
const MAX_LIMIT = 1000;

/** Columns the API shows: everything an auditor needs, nothing internal to the workers. */

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/** How long /readyz reuses its answer. */
export const READINESS_TTL_MS = 2_000;
/** How long the database gauges of /metrics reuse their values. */
export const GAUGES_TTL_MS = 10_000;

export function apiHandler(options: ApiOptions): Handler {
  const { db } = options;
  const ready = db ? cachedFor(READINESS_TTL_MS, () => readiness(db)) : undefined;
  const expected = options.token && db ? sha256(options.token) : undefined;
  const routes: [RegExp, (match: RegExpExecArray, url: URL, request: IncomingMessage) => Promise<Reply>][] = [
    [/^\/healthz$/, () => Promise.resolve({ status: 200, body: { status: "ok" } })],
    [/^\/readyz$/, async () => (ready ? ready() : { status: 503, body: { status: "not ready", reason: "no database configured" } })],
    [/^\/metrics$/, async () => ({ status: 200, text: await options.metrics.render(), type: "text/plain; version=0.0.4; charset=utf-8" })],
    [/^\/api\/grants$/, (_match, url, request) => guarded(request, () => listGrants(db!, url))],
    [/^\/api\/grants\/([^/]+)$/, (match, _url, request) => guarded(request, () => oneGrant(db!, match[1]!))],
  ];

  const guarded = async (request: IncomingMessage, answer: () => Promise<Reply>): Promise<Reply> => {
    if (!expected) return { status: 404, body: { error: "the grants API is disabled; set JITSUDO_API_TOKEN to enable it" } };
    const header = request.headers.authorization ?? "";
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (!token || !timingSafeEqual(sha256(token), expected)) {
      return {
        status: 401,
        body: { error: "send Authorization: Bearer <JITSUDO_API_TOKEN>" },
        headers: { "www-authenticate": 'Bearer realm="jitsudo"' },
      };
    }
    return answer();
  };

  return async (request, response) => {
    const url = new URL(request.url ?? "/", "http://jitsudo.local");
    const route = routes.map(([pattern, answer]) => [pattern.exec(url.pathname), answer] as const).find(([match]) => match);
    if (!route) return false;
    let reply: Reply;
    if (request.method !== "GET" && request.method !== "HEAD") {
      reply = { status: 405, body: { error: `${request.method} is not allowed; this API is read-only` }, headers: { allow: "GET" } };
    } else {
      try {
        reply = await route[1](route[0]!, url, request);
      } catch (error) {
        options.log.error({ err: error, path: url.pathname }, "HTTP API request failed");
        reply = { status: 500, body: { error: "internal error; see the server log" } };
      }
    }
    const payload = reply.text ?? `${JSON.stringify(reply.body)}\n`;
    response.writeHead(reply.status, {
      "content-type": reply.type ?? "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...reply.headers,
    });
    response.end(request.method === "HEAD" ? undefined : payload);
    return true;
  };
}

interface Reply {
  status: number;
  body?: unknown;
  text?: string;
  type?: string;
  headers?: Record<string, string>;
}

async function readiness(db: Knex): Promise<Reply> {
  try {
    if (await migrationsPending(db))
      return { status: 503, body: { status: "not ready", reason: "database migrations are pending; run jitsudo migrate" } };
    return { status: 200, body: { status: "ready" } };
  } catch {
    return { status: 503, body: { status: "not ready", reason: "the database does not answer" } };
  }
}

async function listGrants(db: Knex, url: URL): Promise<Reply> {
  const params = url.searchParams;
  const unknown = [...params.keys()].filter((key) => !["status", "account", "repo", "limit"].includes(key));
  if (unknown.length) return bad(`unknown parameter ${unknown.map((key) => `"${key}"`).join(", ")}; use status, account, repo, limit`);
  const filter: GrantFilter = {};
  const status = params.get("status");
  if (status !== null) {
    if (!isGrantStatus(status)) return bad(`status "${status}" is not one of ${GRANT_STATUSES.join(", ")}`);
    filter.status = status;
  }
  const account = params.get("account");
  if (account !== null) {
    if (!ACCOUNT.test(account)) return bad("account must be a 12-digit account id or an account name");
    filter.account = account;
  }
  const repo = params.get("repo");
  if (repo !== null) {
    if (!REPO.test(repo)) return bad("repo must be owner/name");
    filter.repo = repo;
  }
  const limitText = params.get("limit") ?? "100";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return bad(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  const grants = await findGrants(db, filter, limit);
  return { status: 200, body: { grants: grants.map(presentGrant) } };
}

async function oneGrant(db: Knex, id: string): Promise<Reply> {
  if (!UUID.test(id)) return bad(`"${id.slice(0, 60)}" is not a grant id (a UUID)`);
  const grant = await grantForApi(db, id);
  if (!grant) return { status: 404, body: { error: `no grant ${id}` } };
  const events = await eventsOfGrant(db, id);
  return { status: 200, body: { grant: presentGrant(grant), events: events.map((event) => ({ ...event, id: String(event.id) })) } };
}

function presentGrant(row: Record<string, unknown>): Record<string, unknown> {
  return { ...row, tenant: String(row.tenant) };
}

function bad(error: string): Reply {
  return { status: 400, body: { error } };
}

/** Gauges read from the database when Prometheus scrapes: what exists, not what happened here. */
export function registerDatabaseGauges(metrics: Metrics, db: Knex): void {
  metrics.addGauge(
    new Gauge(
      "jitsudo_grants",
      "Grants by status, across every replica.",
      cachedFor(GAUGES_TTL_MS, async () => {
        const counts = await grantCountsByStatus(db);
        return GRANT_STATUSES.map((status) => ({ labels: { status }, value: counts.get(status) ?? 0 }));
      }),
    ),
  );
  metrics.addGauge(
    new Gauge(
      "jitsudo_inbox_deliveries",
      "Webhook deliveries in the inbox: waiting (or being handled), and given up after their last attempt (alert on any).",
      cachedFor(GAUGES_TTL_MS, async () => {
        const counts = await inboxCounts(db);
        return [
          { labels: { state: "waiting" }, value: counts.waiting },
          { labels: { state: "dead" }, value: counts.dead },
        ];
      }),
    ),
  );
  metrics.addGauge(
    new Gauge(
      "jitsudo_db_pool_connections",
      "This process's database pool: connections in use, idle, and acquisitions waiting for one.",
      () => {
        const pool = (db.client as { pool?: { numUsed(): number; numFree(): number; numPendingAcquires(): number } }).pool;
        if (!pool) return Promise.resolve([]);
        return Promise.resolve([
          { labels: { state: "used" }, value: pool.numUsed() },
          { labels: { state: "idle" }, value: pool.numFree() },
          { labels: { state: "waiting" }, value: pool.numPendingAcquires() },
        ]);
      },
    ),
  );
  metrics.addGauge(
    new Gauge(
      "jitsudo_drift_findings_open",
      "Unexpected assignments found by drift and not yet gone.",
      cachedFor(GAUGES_TTL_MS, async () => [{ labels: {}, value: await countOpenFindings(db) }]),
    ),
  );
}
