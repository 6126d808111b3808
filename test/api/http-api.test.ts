/**
 * The operator endpoints on the running server (Probot's HTTP server, real PostgreSQL).
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerDatabaseGauges } from "../../src/observability/database-gauges.js";
import { READINESS_TTL_MS } from "../../src/observability/readiness.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { seed } from "../support/merge-world.js";

const TOKEN = "test-api-token-0123456789abcdef";

describe("the HTTP API", () => {
  let db: Knex;
  let harness: Harness;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db, apiToken: TOKEN });
    registerDatabaseGauges(harness.metrics, db);
    await harness.deliver("pull_request", seed(harness.github).closed);
  });
  afterEach(async () => {
    await harness.stop();
  });

  const get = async (path: string, token: string | null = TOKEN, method = "GET") => {
    const response = await fetch(`${harness.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : text,
    };
  };

  it("turns a flood of unauthenticated /readyz and /metrics requests into a handful of queries", async () => {
    let queries = 0;
    // The inbox processor polls the same database meanwhile; only what the requests cause counts.
    const count = (query: { sql: string }) => {
      if (!query.sql.includes("webhook_inbox") || query.sql.includes("filter (where status")) queries += 1;
    };
    db.on("query", count);
    const began = Date.now();
    try {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, index) => get(index % 2 ? "/readyz" : "/metrics", null)));
      expect(replies.every((reply) => reply.status === 200)).toBe(true);
    } finally {
      db.off("query", count);
    }
    // One readiness check (its migration lookups) and one read per database gauge (grants, oldest,
    // inbox, drift, break-glass, the notification outbox), once per 2 s at most (the readiness
    // cache's life; the gauges' is longer): on a quiet machine the flood takes well under 2 s, on a
    // busy one longer, and uncached it would be 100 queries and more.
    const windows = Math.ceil((Date.now() - began) / READINESS_TTL_MS);
    expect(queries).toBeLessThanOrEqual(12 * windows);
    expect(queries).toBeLessThan(50);
  });

  it("answers health and readiness", async () => {
    expect(await get("/healthz", null)).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await get("/readyz", null)).toMatchObject({ status: 200, body: { status: "ready" } });
  });

  it("lists grants and shows one with its events, only with the token", async () => {
    const list = await get("/api/grants?status=approved&account=123456789012&repo=Codertocat/Hello-World");
    expect(list.status).toBe(200);
    expect(list.body.grants).toHaveLength(1);
    const [grant] = list.body.grants;
    expect(grant).toMatchObject({
      status: "approved",
      principal: "alice@example.com",
      account_ref: "123456789012",
      requester: "alice",
      approvers: ["bob"],
      tenant: "1",
    });
    expect(grant).not.toHaveProperty("lease_owner");
    // Not provisioned yet: the permission set's session duration is unknown, so is when access truly ends.
    expect(grant).toMatchObject({ session_duration_seconds: null, access_ends_by: null });
    expect(grant).not.toHaveProperty("create_requested_at");

    const one = await get(`/api/grants/${grant.id}`);
    expect(one.status).toBe(200);
    expect(one.body.grant).toMatchObject({ access_ends_by: null });
    expect(one.body.events.map((event: { type: string }) => event.type)).toEqual(["approved"]);

    expect((await get("/api/grants?status=revoked")).body.grants).toEqual([]);
    expect(await get("/api/grants", null)).toMatchObject({
      status: 401,
      body: { error: "send Authorization: Bearer <JITSUDO_API_TOKEN>" },
    });
    expect((await get("/api/grants", `${TOKEN}x`)).status).toBe(401);
  });

  it.each([
    [
      "/api/grants?status=granted",
      400,
      'status "granted" is not one of approved, provisioning, active, revoking, revoked, failed, rejected, expired',
    ],
    ["/api/grants?limit=100000", 400, "limit must be a whole number from 1 to 1000"],
    ["/api/grants?acount=1", 400, 'unknown parameter "acount"; use status, account, repo, unreviewed, limit'],
    ["/api/grants?repo=;drop", 400, "repo must be owner/name"],
    ["/api/grants/not-a-uuid", 400, '"not-a-uuid" is not a grant id (a UUID)'],
    ["/api/grants/00000000-0000-4000-8000-000000000000", 404, "no grant 00000000-0000-4000-8000-000000000000"],
  ])("refuses %s with %i and a reason", async (path, status, error) => {
    expect(await get(path)).toMatchObject({ status, body: { error } });
  });

  it("is read-only", async () => {
    expect(await get("/api/grants", TOKEN, "DELETE")).toMatchObject({
      status: 405,
      body: { error: "DELETE is not allowed; this API is read-only" },
    });
  });

  it("exports Prometheus metrics: grants by status, webhooks handled", async () => {
    const metrics = await get("/metrics", null);
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(metrics.body).toContain('jitsudo_grants{status="approved"} 1');
    expect(metrics.body).toContain('jitsudo_grants{status="active"} 0');
    expect(metrics.body).toContain('jitsudo_webhooks_total{event="pull_request",outcome="received"} 1');
    expect(metrics.body).toContain("# TYPE jitsudo_provision_seconds histogram");
    expect(metrics.body).toMatch(/jitsudo_db_pool_connections\{state="used"\} \d+/);
    expect(metrics.body).toContain('jitsudo_db_pool_connections{state="waiting"} 0');
    expect(metrics.body).toContain('jitsudo_inbox_deliveries_total{event="pull_request.closed",outcome="done"} 1');
  });
});

describe("the HTTP API without a token", () => {
  it("keeps the grants API off", async () => {
    const { db } = await freshDatabase();
    const harness = await startHarness({ db });
    try {
      const response = await fetch(`${harness.url}/api/grants`, { headers: { authorization: "Bearer anything-at-all-1234567890" } });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "the grants API is disabled; set JITSUDO_API_TOKEN to enable it" });
    } finally {
      await harness.stop();
    }
  });
});
