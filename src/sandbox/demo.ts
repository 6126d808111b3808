/**
 * `npm run demo`: the whole story on one machine, with no AWS account and no GitHub App.
 *
 * jitsudo's real server (Probot's webhook pipeline, signed deliveries) and real worker (rate
 * limiter, poller, drift) run against a local GitHub (as a GitHub Enterprise Server on a loopback
 * port) and the local Identity Center (AWS's wire protocols, 2 s provisioning), with an embedded
 * PostgreSQL (or DATABASE_URL). A pull request adds a request file; the check and the sticky
 * comment are printed; a code owner approves; the merge is processed; the grant goes active; an
 * assignment deleted outside jitsudo is repaired by drift; a minute later the grant expires and is
 * revoked. Every PR comment is printed as GitHub would show it, and the simulator's assignment
 * list ends the story. It takes about 80 seconds.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { registerDatabaseGauges } from "../observability/database-gauges.js";
import { databaseCheck, Readiness } from "../observability/readiness.js";
import { createApp } from "../app.js";
import { AwsConnections } from "../aws/connections.js";
import { SharedRateLimiter } from "../aws/rate-limiter.js";
import { parseEnv } from "../config/env.js";
import { createDb, dropSchema, ensureSchema } from "../db/knex.js";
import { migrateLatest } from "../db/migrate.js";
import { PullRequestReporter } from "../github/grant-comments.js";
import { installationGateways } from "../github/installation-gateway.js";
import { appClient, startServer } from "../github/server.js";
import { STICKY_MARKER } from "../github/sticky-comment.js";
import type { GrantRow } from "../grants/grant-repository.js";
import { systemClock } from "../jobs/clock.js";
import { GrantWorker } from "../jobs/worker.js";
import type { Logger } from "pino";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { freePort } from "../net.js";
import { APP_ID, INSTALLATION_ID, REPOSITORY_ID, WallClock, type LocalGitHub, type Repository } from "./github.js";
import { startLocalGitHub, type RunningLocalGitHub } from "./github-server.js";
import type { LocalIdentityCenter } from "./identity-center.js";
import { startLocalIdentityCenter } from "./server.js";
import { deliverWebhook } from "./webhooks.js";

const OWNER = "acme";
const REPO = "access";
const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-de0de0de0de0de0d";
const IDENTITY_STORE_ID = "d-de0de0de0d";
const ACCOUNT = "123456789012";
const SECRET = "demo-webhook-secret";
const REQUEST_PATH = "access-requests/alice/incident-4711.yaml";
const BRANCH = "alice/incident-4711";

/** How long the demo grant lasts; JITSUDO_DEMO_DURATION shortens it (the tests run the demo with 15s). */
const DURATION = process.env.JITSUDO_DEMO_DURATION ?? "1m";
const POLICY = `users:
  alice: alice@example.com
rules:
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    min_duration: 10s
    max_duration: 8h
drift:
  managed_permission_sets: [ReadOnlyAccess]
`;
const REQUEST = `account: "${ACCOUNT}"
permission_set: ReadOnlyAccess
duration: ${DURATION}
reason: "INC-4711: look at the failed deploy of the payments service"
`;

const out = (line = "") => process.stdout.write(`${line}\n`);
const time = () => new Date().toISOString().slice(11, 19);
const step = (text: string) => out(`\n[${time()}] ${text}`);

async function main(): Promise<void> {
  out("jitsudo demo: a pull request, an approval, a merge, an assignment in (local) AWS, drift repair, expiry.");
  const log = createLogger({ level: "silent" });
  const database = await openDatabase();
  // One clock for the local Identity Center and jitsudo's worker and scheduler: real time, as a deployment's.
  const clock = systemClock;
  const { identityCenter, readOnly, alice } = await startIdentityCenter(clock);
  const { local, repo } = await startGitHub();
  const { config, access, metrics, jitsudo, server, connections, reporter, port } = await startJitsudo(
    database.db,
    local.host,
    identityCenter.url,
    log,
  );
  // The worker starts once the merge's verdict is on the PR, so the demo shows each state in turn.
  let worker: GrantWorker | undefined;
  const stage = openAlicesPullRequest(database.db, identityCenter.ic, local.github, repo, reporter, async (name, payload) => {
    // Delivered as GitHub does; answered once it is in the inbox, then handled there.
    const status = await deliverWebhook(`http://127.0.0.1:${port}`, SECRET, name, payload);
    await jitsudo.settle();
    return status;
  });

  try {
    await pullRequestChapter(stage);
    await mergeChapter(stage);

    step("The worker creates the assignment in Identity Center and waits until AWS reports it SUCCEEDED.");
    worker = await GrantWorker.start({
      db: database.db,
      log,
      aws: connections,
      defaults: config.aws,
      ...access,
      reporter,
      metrics,
      clock,
      settings: { initialPollMs: 2000, listSettleMs: 0 } /* the local Identity Center's lists do not lag */,
    });
    await stage.until("the grant going active", async () => (await stage.grant())?.status === "active");
    await stage.showComment();

    await driftChapter(stage, worker, readOnly, alice);
    await expiryChapter(stage);
    await epilogue(stage);
  } finally {
    await worker?.stop(1000);
    connections.close();
    await server.stop();
    await jitsudo.stop();
    await local.stop();
    await identityCenter.stop();
    await database.close();
  }
}

/** The local Identity Center with one instance, the ReadOnlyAccess permission set, the production account and alice. */
async function startIdentityCenter(clock: typeof systemClock) {
  const identityCenter = await startLocalIdentityCenter({ provisioningDelayMs: 2000, now: () => clock.now().getTime() });
  const { ic } = identityCenter;
  ic.addInstance({ instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID, ownerAccountId: "000000000000" });
  const readOnly = ic.addPermissionSet(INSTANCE_ARN, { name: "ReadOnlyAccess" });
  ic.addAccount({ id: ACCOUNT, name: "production" });
  const alice = ic.addUser(IDENTITY_STORE_ID, { userName: "alice@example.com", email: "alice@example.com" });
  return { identityCenter, readOnly, alice };
}

/** The local GitHub with the access repository, its policy and CODEOWNERS on main. */
async function startGitHub(): Promise<{ local: RunningLocalGitHub; repo: Repository }> {
  // The local GitHub keeps real time, as the app does: the merge is judged when it happens.
  const local = await startLocalGitHub({ clock: new WallClock(), defaultRepository: false });
  const { github } = local;
  github.createInstallation({ account: OWNER, id: INSTALLATION_ID });
  const repo = github.createRepository({ owner: OWNER, name: REPO, id: REPOSITORY_ID });
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  repo.commit("main", {
    files: { ".github/jitsudo.yml": POLICY, ".github/CODEOWNERS": "/access-requests/ @bob\n" },
    author: OWNER,
    message: "Access policy: read-only up to 8h, approved by @bob",
  });
  return { local, repo };
}

/** jitsudo's real server, configured as a deployment would be, and what its worker will need. */
async function startJitsudo(db: Knex, githubHost: string, identityCenterUrl: string, log: Logger) {
  const port = await freePort();
  const config = parseEnv({
    APP_ID: String(APP_ID),
    PRIVATE_KEY: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: githubHost,
    GHE_PROTOCOL: "http",
    PORT: String(port),
    HOST: "127.0.0.1",
    IC_INSTANCE_ARN: INSTANCE_ARN,
    AWS_REGION: "us-east-1",
    // The one access repository; its policy names no role, so jitsudo's own credentials serve it.
    JITSUDO_ACCESS_REPOSITORIES: `${OWNER}/${REPO}`,
  });
  const access = { accessRepositories: config.accessRepositories ?? [] };
  const metrics = new Metrics();
  registerDatabaseGauges(metrics, db);
  const jitsudo = createApp({ db, metrics, ...access, instanceArn: INSTANCE_ARN });
  const server = await startServer({
    config,
    log,
    app: jitsudo.app,
    webhookDoor: jitsudo.webhookDoor,
    api: { db },
    ops: { metrics, readiness: new Readiness().add("database", databaseCheck(db)) },
  });
  const connections = new AwsConnections({
    limiter: new SharedRateLimiter(db),
    endpoint: identityCenterUrl,
    credentials: { accessKeyId: "AKIDDEMO", secretAccessKey: "demo" },
    metrics,
  });
  const reporter = new PullRequestReporter({
    db,
    gatewayFor: installationGateways(appClient(config, log)!),
    log,
    coalesceMs: 50,
  });
  return { config, access, metrics, jitsudo, server, connections, reporter, port };
}

/** What every chapter of the story acts on. */
interface Stage {
  db: Knex;
  ic: LocalIdentityCenter;
  github: LocalGitHub;
  repo: Repository;
  number: number;
  webhook: (name: string, payload: unknown) => Promise<number>;
  grant: () => Promise<GrantRow | undefined>;
  until: (what: string, check: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
  /** Prints the sticky comment when it changed, as GitHub would show it. */
  showComment: () => Promise<void>;
}

function openAlicesPullRequest(
  db: Knex,
  ic: LocalIdentityCenter,
  github: LocalGitHub,
  repo: Repository,
  reporter: PullRequestReporter,
  webhook: Stage["webhook"],
): Stage {
  const grant = async () => (await db("grants").first()) as GrantRow | undefined;
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`demo: ${what} did not happen`);
      await sleep(100);
    }
  };
  // alice's branch with her request, and the pull request GitHub announces with pull_request.opened.
  repo.createBranch(BRANCH, "main", "alice");
  repo.commit(BRANCH, { files: { [REQUEST_PATH]: REQUEST }, author: "alice", message: "Request read-only access for INC-4711" });
  const number = repo.openPull({ head: BRANCH, author: "alice", title: "Access for INC-4711" });
  let shown = "";
  const showComment = async () => {
    await reporter.flush();
    const body = repo.conversation.commentsOn(number)[0]?.body ?? "";
    if (body === shown) return;
    shown = body;
    out(`\n  ┌─ comment by jitsudo[bot] on ${repo.fullName}#${number} ${"─".repeat(40)}`);
    for (const line of body.replace(`${STICKY_MARKER}\n`, "").split("\n")) out(`  │ ${line}`);
    out("  └" + "─".repeat(83));
  };
  return { db, ic, github, repo, number, webhook, grant, until, showComment };
}

async function pullRequestChapter({ github, repo, number, webhook, showComment }: Stage): Promise<void> {
  step(`@alice opens pull request #${number} adding ${REQUEST_PATH}:`);
  for (const line of REQUEST.trimEnd().split("\n")) out(`    ${line}`);
  await webhook("pull_request", github.lastWebhook("pull_request.opened"));
  const run = repo.conversation.checkRuns.at(-1)?.body as { conclusion: string; output: { title: string; summary: string } } | undefined;
  out(`\n  check run "jitsudo": ${run?.conclusion}: ${run?.output.title}`);
  await showComment();
}

async function mergeChapter({ repo, number, webhook, showComment }: Stage): Promise<void> {
  step("@bob, a code owner of access-requests/, approves the pull request, and merges it.");
  repo.review(number, "bob", "APPROVED");
  const merged = repo.merge(number, { by: "bob" });
  out(`  merge commit ${merged.sha.slice(0, 7)} on main`);
  await webhook("pull_request", merged.closed);
  await showComment();
}

async function driftChapter({ ic, grant, until, showComment }: Stage, worker: GrantWorker, readOnly: string, alice: string): Promise<void> {
  step("Someone deletes the assignment outside jitsudo (the console, a script)...");
  ic.deleteAssignmentOutOfBand({
    instanceArn: INSTANCE_ARN,
    accountId: ACCOUNT,
    permissionSetArn: readOnly,
    principalType: "USER",
    principalId: alice,
  });
  out(`  assignments in Identity Center: ${ic.assignments().length}`);
  step("...and the next drift sweep notices and creates it again.");
  const [sweep] = await worker.drift.runOnce();
  const lists = sweep?.scopesChecked ?? 0;
  out(
    `  drift sweep: ${lists} ${lists === 1 ? "list" : "lists"}, ${sweep?.missing} missing assignment repaired, ${sweep?.unexpected} unexpected`,
  );
  await until("the repair", async () => (await grant())?.status === "active" && ic.assignments().length === 1);
  await showComment();
}

async function expiryChapter({ grant, until, showComment }: Stage): Promise<void> {
  const expiresAt = (await grant())!.expires_at;
  step(`The grant expires at ${expiresAt.toISOString().slice(11, 19)} UTC; the worker sleeps until exactly then...`);
  await until("the revoke", async () => (await grant())?.status === "revoked", 120_000);
  await showComment();
}

async function epilogue({ db, ic }: Stage): Promise<void> {
  step("What Identity Center holds now, and what happened, from jitsudo's append-only event log:");
  out(`  assignments: ${JSON.stringify(ic.assignments())}`);
  const events = (await db("grant_events").orderBy("id")) as {
    created_at: Date;
    type: string;
    from_status: string | null;
    to_status: string | null;
    actor: string;
    reason: string;
  }[];
  for (const event of events) {
    out(
      `  ${event.created_at.toISOString().slice(11, 19)}  ${event.type.padEnd(15)} ${`${event.from_status ?? ""}→${event.to_status ?? ""}`.padEnd(26)} ${event.actor.padEnd(8)} ${event.reason}`,
    );
  }
  const calls = new Map<string, number>();
  for (const call of ic.calls) calls.set(call.operation, (calls.get(call.operation) ?? 0) + 1);
  out(`  AWS calls jitsudo made: ${[...calls].map(([operation, count]) => `${operation} ×${count}`).join(", ")}`);
}

async function openDatabase(): Promise<{ db: Knex; close(): Promise<void> }> {
  const schema = `jitsudo_demo_${process.pid}`;
  if (process.env.DATABASE_URL) {
    const db = createDb({ url: process.env.DATABASE_URL, schema });
    await ensureSchema(db, schema);
    await migrateLatest(db);
    return {
      db,
      close: async () => {
        await dropSchema(db, schema);
        await db.destroy();
      },
    };
  }
  const { startEmbeddedPostgres } = await import("../db/embedded.js");
  const dataDir = mkdtempSync(join(tmpdir(), "jitsudo-demo-pg-"));
  out("(starting an embedded PostgreSQL; set DATABASE_URL to use your own)");
  const postgres = await startEmbeddedPostgres({ dataDir });
  const db = createDb({ url: postgres.url });
  await migrateLatest(db);
  return {
    db,
    close: async () => {
      await db.destroy();
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
