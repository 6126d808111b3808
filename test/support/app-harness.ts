/**
 * The real jitsudo server (Probot's HTTP server, signature checks and webhook pipeline, our app
 * loaded) on a loopback port, with GitHub's API answered by FakeGitHub through nock. Webhooks are
 * the ones the local GitHub sent, delivered signed as GitHub delivers them.
 */
import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import nock from "nock";
import { afterEach, beforeEach } from "vitest";
import type { Knex } from "knex";
import { Probot } from "probot";
import { createApp } from "../../src/app.js";
import { makeAllDue } from "../../src/inbox/inbox-store.js";
import { parseEnv } from "../../src/config/env.js";
import { startServer } from "../../src/github/server.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { databaseCheck, Readiness } from "../../src/observability/readiness.js";
import { freshDatabase } from "./db.js";
import { APP_ID, FakeGitHub } from "./fake-github.js";
import { UnthrottledOctokit } from "./octokit.js";
import { freePort } from "../../src/net.js";
import { deliverWebhook } from "../../src/sandbox/webhooks.js";

export const WEBHOOK_SECRET = "test-webhook-secret-do-not-log";
const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();

export interface Harness {
  github: FakeGitHub;
  /** http://127.0.0.1:<port> of the running server. */
  url: string;
  logs: string[];
  /** A Probot client of the same app outside the server, as the jobs use one. */
  probot: Probot;
  metrics: Metrics;
  /**
   * Delivers a webhook as GitHub does and answers with the HTTP status, once the delivery has also
   * been handled (with a database, it goes through the inbox: handled before this resolves).
   */
  deliver(name: string, payload: unknown, options?: { secret?: string }): Promise<number>;
  /** Delivers the latest webhook of a kind GitHub sent (`pull_request.opened`, `push`). */
  deliverLatest(kind: string, options?: { secret?: string }): Promise<number>;
  /** Handles every inbox delivery that is due; with `retriesNow`, scheduled retries too (as if their time had come). */
  settle(options?: { retriesNow?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  now?: () => Date;
  github?: FakeGitHub;
  env?: Record<string, string>;
  /** The database the app uses; several harnesses sharing one behave as replicas. */
  db?: Knex;
  /** JITSUDO_API_TOKEN of the grants API. */
  apiToken?: string;
  metrics?: Metrics;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const github = options.github ?? new FakeGitHub();
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith("127.0.0.1"));
  github.start();

  const port = await freePort();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const metrics = options.metrics ?? new Metrics();
  const config = parseEnv({
    APP_ID: String(APP_ID),
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    PORT: String(port),
    HOST: "127.0.0.1",
    // As an operator would: the default repository is the one access repository.
    JITSUDO_ACCESS_REPOSITORIES: "Codertocat/Hello-World",
    ...options.env,
  });
  const jitsudo = createApp({
    now: options.now ?? (() => new Date("2026-11-25T12:00:00Z")),
    metrics,
    ...(options.db ? { db: options.db } : {}),
    ...(config.accessRepositories ? { accessRepositories: config.accessRepositories } : {}),
    ...(config.aws.instanceArn ? { instanceArn: config.aws.instanceArn } : {}),
  });
  const server = await startServer({
    config,
    log: createLogger({ level: "info", format: "json", destination: sink }),
    app: jitsudo.app,
    webhookDoor: () => jitsudo.webhookDoor(),
    api: { ...(options.db ? { db: options.db } : {}), ...(options.apiToken ? { token: options.apiToken } : {}) },
    ops: { metrics, readiness: new Readiness().add("database", options.db ? databaseCheck(options.db) : () => "no database configured") },
    Octokit: UnthrottledOctokit,
  });

  const settle = async ({ retriesNow = false } = {}) => {
    if (retriesNow && options.db) await makeAllDue(options.db);
    await jitsudo.settle();
  };

  return {
    github,
    url: `http://127.0.0.1:${port}`,
    logs,
    probot: new Probot({ appId: APP_ID, privateKey, log: createLogger({ level: "silent" }), Octokit: UnthrottledOctokit }),
    metrics,
    deliver: async (name, payload, { secret = WEBHOOK_SECRET } = {}) => {
      const status = await deliverWebhook(`http://127.0.0.1:${port}`, secret, name, payload);
      await settle();
      return status;
    },
    deliverLatest: async (kind, { secret = WEBHOOK_SECRET } = {}) => {
      const status = await deliverWebhook(`http://127.0.0.1:${port}`, secret, kind.split(".")[0]!, github.lastWebhook(kind));
      await settle();
      return status;
    },
    settle,
    async stop() {
      await server.stop();
      await jitsudo.stop();
      github.stop();
      nock.enableNetConnect();
    },
  };
}

/**
 * For each test of the calling `describe`: a fresh schema and a harness on it, stopped afterwards.
 * Read `db` and `harness` inside the tests (they change per test).
 */
export function useHarnessWithDatabase(options: Omit<HarnessOptions, "db"> = {}): { readonly db: Knex; readonly harness: Harness } {
  const current = {} as { db: Knex; harness: Harness };
  beforeEach(async () => {
    ({ db: current.db } = await freshDatabase());
    current.harness = await startHarness({ ...options, db: current.db });
  });
  afterEach(async () => {
    await current.harness.stop();
  });
  return current;
}
