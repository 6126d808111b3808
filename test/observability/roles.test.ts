/**
 * Every role can be probed and scraped, as Kubernetes and Prometheus would: `jitsudo worker`
 * alone, `jitsudo server` alone, and `jitsudo start`, each a real process on its own port, with a
 * real database and (for the worker) the local Identity Center reached only through
 * AWS_ENDPOINT_URL. Before issue 12 a worker served no HTTP at all, so its metrics (the revoke
 * failures the README says to alert on) were never scraped.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, INSTANCE_ARN, startAwsWorld, type AwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { startRole, type RoleProcess } from "../support/role-process.js";

const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

describe("every role serves /healthz, /readyz and /metrics", () => {
  let world: AwsWorld;
  let database: Record<string, string>;
  let running: RoleProcess | undefined;
  beforeAll(async () => {
    const { url, schema } = await freshDatabase();
    database = { DATABASE_URL: url, DATABASE_SCHEMA: schema, DATABASE_POOL_MAX: "3" };
    world = await startAwsWorld();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  afterAll(async () => {
    await world.stop();
  });

  const workerEnv = (endpoint: string) => ({
    IC_INSTANCE_ARN: INSTANCE_ARN,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: "AKIDROLESTEST",
    AWS_SECRET_ACCESS_KEY: "not-a-secret",
    JITSUDO_ACCESS_REPOSITORIES: "acme/access",
  });
  // GitHub is never reached in these tests: its host is a closed local port.
  const serverEnv = {
    APP_ID: "1",
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET: "roles-test-secret",
    GHE_HOST: "127.0.0.1:9",
    GHE_PROTOCOL: "http",
  };

  const get = async (base: string, path: string) => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
  };
  const readyz = async (base: string) => {
    const reply = await get(base, "/readyz");
    return {
      status: reply.status,
      body: JSON.parse(reply.text) as { status: string; checks: Record<string, { ok: boolean; reason?: string }> },
    };
  };

  it("jitsudo worker alone: ready once its database session and AWS credentials work, and scraped", async () => {
    running = await startRole("worker", { ...database, ...workerEnv(world.url) });
    expect(await get(running.url, "/healthz")).toMatchObject({ status: 200 });
    await eventually(
      async () => (await readyz(running!.url)).status === 200,
      () => readyz(running!.url),
      20_000,
    );
    expect((await readyz(running.url)).body).toEqual({
      status: "ready",
      checks: { database: { ok: true }, worker: { ok: true }, "aws-credentials": { ok: true } },
    });
    // Checked with GetCallerIdentity (no Identity Center rate spent), at start, not per probe.
    const identityCalls = () => world.ic.calls.filter((call) => call.operation === "GetCallerIdentity").length;
    const before = identityCalls();
    expect(before).toBeGreaterThan(0);
    for (let probe = 0; probe < 5; probe++) await readyz(running.url);
    expect(identityCalls()).toBe(before);

    const metrics = await get(running.url, "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain("text/plain");
    // jitsudo's own, the cluster-wide gauges, the pool, and the process's runtime metrics.
    expect(metrics.text).toContain("jitsudo_revoke_failures_total 0");
    // Series an alert takes increase() of are there before their first increment.
    expect(metrics.text).toContain('jitsudo_drift_sweeps_total{outcome="failed"} 0');
    expect(metrics.text).toMatch(/jitsudo_grants\{status="active"\} 0/);
    expect(metrics.text).toMatch(/jitsudo_grant_oldest_seconds\{status="revoking"\} 0/);
    expect(metrics.text).toMatch(/jitsudo_db_pool_connections\{state="used"\} \d+/);
    expect(metrics.text).toMatch(/process_resident_memory_bytes \d+/);
    expect(metrics.text).toContain("# TYPE nodejs_eventloop_lag_p99_seconds gauge");
    // One log format: every line JSON.
    expect(running.lines.filter((line) => !line.startsWith("{"))).toEqual([]);
  });

  it("jitsudo worker whose AWS credentials do not work: alive, not ready, and says why", async () => {
    running = await startRole("worker", { ...database, ...workerEnv("http://127.0.0.1:9") });
    expect(await get(running.url, "/healthz")).toMatchObject({ status: 200 });
    await eventually(
      async () => (await readyz(running!.url)).body.checks["aws-credentials"]?.reason?.includes("do not work") ?? false,
      () => readyz(running!.url),
      30_000,
    );
    const reply = await readyz(running.url);
    expect(reply.status).toBe(503);
    expect(reply.body.status).toBe("not ready");
    expect(reply.body.checks.database).toEqual({ ok: true });
  });

  it("jitsudo server alone: ready on its database, scraped beside its webhook path", async () => {
    running = await startRole("server", { ...database, ...serverEnv });
    expect(await get(running.url, "/healthz")).toMatchObject({ status: 200 });
    expect(await readyz(running.url)).toEqual({ status: 200, body: { status: "ready", checks: { database: { ok: true } } } });
    const metrics = await get(running.url, "/metrics");
    expect(metrics.text).toContain('jitsudo_webhooks_total{event="pull_request",outcome="failed"} 0');
    expect(metrics.text).toMatch(/jitsudo_inbox_deliveries\{state="dead"\} 0/);
    expect(metrics.text).toMatch(/process_resident_memory_bytes \d+/);
    expect(running.lines.filter((line) => !line.startsWith("{"))).toEqual([]);
  });

  it("jitsudo start: one port, ready only when both halves are", async () => {
    running = await startRole("start", { ...database, ...serverEnv, ...workerEnv(world.url) });
    await eventually(
      async () => (await readyz(running!.url)).status === 200,
      () => readyz(running!.url),
      20_000,
    );
    expect((await readyz(running.url)).body.checks).toEqual({
      database: { ok: true },
      worker: { ok: true },
      "aws-credentials": { ok: true },
    });
    const metrics = await get(running.url, "/metrics");
    expect(metrics.text).toContain("# TYPE jitsudo_aws_calls_total counter");
    expect(metrics.text).toContain("# TYPE jitsudo_webhooks_total counter");
  });
});
