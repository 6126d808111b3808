/**
 * Provisioning and revoking at AWS's limits, against the local Identity Center over HTTP (20
 * requests per second per instance, 10 creates in flight) with jitsudo's real worker, rate
 * limiter and poller, and grants in PostgreSQL.
 *
 * - throughput: 1,000 grants due at once, 2 s provisioning time. The ceiling is
 *   min(10 in flight / 2 s, what 20 TPS less polling allows) = 5 grants/s; target ≥ 95% of it,
 *   no throttling failures, ≤ 1.3 Identity Center calls per grant.
 * - expiry: 1,000 active grants expiring within one minute; lag from `expires_at` to
 *   DeleteAccountAssignment issued, p50/p99 (target p99 ≤ 1 s).
 * - merge to create: merged pull requests through the app's webhook pipeline; time from the
 *   webhook's delivery to CreateAccountAssignment issued, p99 (target ≤ 0.5 s).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_WORKER_SETTINGS } from "../src/jobs/context.js";
import { Prng } from "../src/sandbox/prng.js";
import { approveGrant, INSTANCE_ARN, startAwsWorld, startTestWorker, type AwsWorld } from "../test/support/aws-world.js";
import { exited, startWorkerProcess } from "../test/support/worker-process.js";
import { benchDatabase } from "./support/database.js";
import { grantRow } from "./support/grants.js";
import { summarize, type BenchResult } from "./stats.js";

const GRANTS = 1000;
const PROVISIONING_MS = 2000;
const CEILING_PER_SECOND = 10 / (PROVISIONING_MS / 1000);
/** The production defaults: nothing tuned for the benchmark. */
const SETTINGS = DEFAULT_WORKER_SETTINGS;

/** 1,000 distinct assignments: 10 users × 100 accounts. */
function addOrganisation(
  world: AwsWorld,
  accounts: number,
  users: number,
): { accountIds: string[]; userNames: string[]; userIds: string[] } {
  const accountIds = Array.from({ length: accounts }, (_, index) => `7${String(index).padStart(11, "0")}`);
  accountIds.forEach((id, index) => world.ic.addAccount({ id, name: `bench-${index}` }));
  const userNames = Array.from({ length: users }, (_, index) => `bench-${index}@example.com`);
  const userIds = userNames.map((userName) => world.ic.addUser("d-aaaaaaaaaa", { userName }));
  return { accountIds, userNames, userIds };
}

/** Identity Center calls (STS is a separate service with its own limits), by outcome. */
function identityCenterCalls(world: AwsWorld) {
  const calls = world.ic.calls.filter((call) => call.service !== "sts");
  return { total: calls.length, throttled: calls.filter((call) => call.outcome === "ThrottlingException").length };
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`benchmark: ${what} did not happen within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

export async function benchProvisioningThroughput(): Promise<BenchResult> {
  const database = await benchDatabase("provisioning");
  const world = await startAwsWorld({ provisioningDelayMs: PROVISIONING_MS });
  const { db } = database;
  try {
    const { accountIds, userNames } = addOrganisation(world, 100, 10);
    for (let index = 0; index < GRANTS; index++) {
      await approveGrant(db, world, {
        principal: userNames[index % 10]!,
        accountRef: accountIds[Math.floor(index / 10)]!,
        prNumber: 1 + index,
      });
    }
    world.ic.clearCalls();
    // `jitsudo worker` from the build in a process of its own, as deployed: AWS does not share
    // jitsudo's CPU, and in one process the simulator's parsing and signing checks of a wave of
    // ten creates delayed jitsudo's next wave by tens of milliseconds. Production settings
    // throughout; drift sweeps hourly here so that every call counted is provisioning's (drift's
    // share of the rate is measured by the drift benchmark).
    const child = startWorkerProcess({
      databaseUrl: database.url,
      schema: database.schema,
      awsEndpoint: world.url,
      accessKeyId: "AKIDTHROUGHPUT",
      reconciliationInterval: "1h",
      databasePoolMax: "unset",
      entry: "build",
    });
    try {
      await waitUntil(
        async () => Number((await db("grants").whereIn("status", ["active", "failed"]).count({ n: "*" }))[0]!.n) === GRANTS,
        600_000,
        "provisioning every grant",
      );
    } finally {
      child.kill("SIGTERM");
      await exited(child);
    }
    const creates = world.ic.operations().filter((operation) => operation.kind === "create");
    const firstCreate = Math.min(...creates.map((operation) => operation.createdAt));
    const lastActive = Math.max(...((await db("grants").pluck("active_at")) as Date[]).map((at) => at.getTime()));
    const perSecond = GRANTS / ((lastActive - firstCreate) / 1000);
    const failed = Number((await db("grants").where({ status: "failed" }).count({ n: "*" }))[0]!.n);
    const calls = identityCenterCalls(world);
    return {
      name: `provisioning throughput: ${GRANTS} grants, ${PROVISIONING_MS / 1000} s provisioning, simulator at AWS's limits (20 TPS, 10 creates in flight)`,
      figures: {
        grants_per_second: Math.round(perSecond * 100) / 100,
        fraction_of_ceiling: `${Math.round((perSecond / CEILING_PER_SECOND) * 1000) / 10}% of ${CEILING_PER_SECOND}/s`,
        failed_grants: failed,
        throttled_calls: calls.throttled,
        identity_center_calls_per_grant: Math.round((calls.total / GRANTS) * 100) / 100,
        peak_creates_in_flight: world.ic.peakInFlightCreates(INSTANCE_ARN),
      },
      target: "≥ 95% of the ceiling; 0 failures from throttling; ≤ 1.3 calls per grant",
    };
  } finally {
    await world.stop();
    await database.close();
  }
}

export async function benchExpiryLag(): Promise<BenchResult> {
  const database = await benchDatabase("expiry");
  const world = await startAwsWorld({ provisioningDelayMs: PROVISIONING_MS });
  const { db } = database;
  try {
    const { accountIds, userNames, userIds } = addOrganisation(world, 100, 10);
    const start = Date.now() + 10_000;
    const rows = [];
    const random = new Prng(1125); // the same spread of expiries on every run
    for (let index = 0; index < GRANTS; index++) {
      const principal = userNames[index % 10]!;
      const accountId = accountIds[Math.floor(index / 10)]!;
      const principalId = userIds[index % 10]!;
      world.ic.addAssignmentOutOfBand({
        instanceArn: INSTANCE_ARN,
        accountId,
        permissionSetArn: world.readOnly,
        principalType: "USER",
        principalId,
      });
      const expiresAt = new Date(start + random.next() * 60_000);
      rows.push(
        grantRow({
          index,
          principal,
          principalId,
          accountId,
          permissionSetArn: world.readOnly,
          status: "active",
          startsAt: new Date(expiresAt.getTime() - 3_600_000),
          expiresAt,
          roleArn: "arn:aws:iam::111111111111:role/jitsudo",
        }),
      );
    }
    for (let index = 0; index < rows.length; index += 200) await db("grants").insert(rows.slice(index, index + 200));
    world.ic.clearCalls();
    const running = await startTestWorker(db, world, { settings: SETTINGS });
    try {
      await waitUntil(
        () => world.ic.calls.filter((call) => call.operation === "DeleteAccountAssignment" && call.outcome === "ok").length === GRANTS,
        180_000,
        "a delete for every grant",
      );
    } finally {
      await running.stop();
    }
    const expiry = new Map(rows.map((row) => [`${row.account_id}|${row.principal_id}`, row.expires_at.getTime()]));
    const lags: number[] = [];
    const seen = new Set<string>();
    for (const call of world.ic.calls) {
      if (call.operation !== "DeleteAccountAssignment") continue;
      const key = `${String(call.input.TargetId)}|${String(call.input.PrincipalId)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lags.push(call.at - expiry.get(key)!);
    }
    const calls = identityCenterCalls(world);
    return {
      name: `expiry: ${GRANTS} grants expiring within one minute, simulator at AWS's limits`,
      figures: {
        lag_expiry_to_delete_ms: summarize(lags),
        throttled_calls: calls.throttled,
      },
      target: "p99 ≤ 1 s",
    };
  } finally {
    await world.stop();
    await database.close();
  }
}

export async function benchMergeToCreate(): Promise<BenchResult> {
  const MERGES = 100;
  const database = await benchDatabase("merge_to_create");
  const world = await startAwsWorld({ provisioningDelayMs: 200 });
  const { db } = database;
  // Loaded here, not at the top: nock must not sit in the other benchmarks' HTTP path (bench/run.ts).
  const { FakeGitHub } = await import("../test/support/fake-github.js");
  const { benchApp } = await import("./support/app.js");
  const github = new FakeGitHub();
  const repo = github.repo;
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  repo.commit("main", {
    files: {
      ".github/jitsudo.yml":
        'users:\n  alice: alice@example.com\nrules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n',
      ".github/CODEOWNERS": "/access-requests/ @bob\n",
    },
    author: "Codertocat",
  });
  const { accountIds } = addOrganisation(world, MERGES, 0);
  const app = await benchApp(github, { db });
  const running = await startTestWorker(db, world, { settings: SETTINGS });
  const delivered = new Map<string, number>();
  try {
    for (let index = 0; index < MERGES; index++) {
      // alice asks for one account per pull request; bob approves and merges it.
      const branch = `alice/request-${index}`;
      repo.createBranch(branch, "main", "alice");
      repo.commit(branch, {
        files: {
          [`access-requests/alice-${index}.yaml`]: `account: "${accountIds[index]}"\npermission_set: ReadOnlyAccess\nduration: 1h\nreason: "Benchmark merge ${index}"\n`,
        },
        author: "alice",
      });
      const number = repo.openPull({ head: branch, author: "alice" });
      repo.review(number, "bob", "APPROVED");
      const payload = repo.merge(number, { by: "bob" }).closed;
      delivered.set(accountIds[index]!, Date.now());
      await app.receive("pull_request", payload);
      await sleep(250);
    }
    await waitUntil(
      () => world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment").length >= MERGES,
      60_000,
      "a create for every merge",
    );
  } finally {
    await running.stop();
    await app.stop();
    await world.stop();
    await database.close();
  }
  const lags: number[] = [];
  const seen = new Set<string>();
  for (const call of world.ic.calls) {
    const account = String(call.input.TargetId);
    if (call.operation !== "CreateAccountAssignment" || seen.has(account)) continue;
    seen.add(account);
    lags.push(call.at - delivered.get(account)!);
  }
  return {
    name: `merge to create: ${MERGES} merged pull requests through the webhook pipeline, one every 250 ms`,
    figures: { webhook_delivered_to_create_issued_ms: summarize(lags) },
    target: "p99 ≤ 500 ms",
  };
}
