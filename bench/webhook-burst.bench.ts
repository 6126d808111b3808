/**
 * A busy morning: 200 approved merges whose webhooks arrive at once, delivered over HTTP to
 * `jitsudo start` replicas running as their own processes (`dist/cli.js`, configured only by
 * environment), GitHub answered by the local GitHub over HTTP (as a GitHub Enterprise Server on
 * loopback) and AWS by the local Identity Center at AWS's limits (10 creates in flight, 2 s each).
 *
 * Three runs: one replica; two replicas sharing the burst; two replicas, one of them killed with
 * SIGKILL a moment into the burst (every delivery it answered must still be judged, by the other).
 * Reports every delivery answered and how fast (p50/p99), database pool timeouts, and the time from
 * the burst to the last CreateAccountAssignment next to AWS's ceiling for 200 creates (10 in flight,
 * 2 s each: the 200th create cannot start before (200 - 10) / 5 = 38 s).
 */
import { generateKeyPairSync } from "node:crypto";
import { performance } from "node:perf_hooks";
import { startLocalGitHub } from "../src/sandbox/github-server.js";
import { WallClock } from "../src/sandbox/github.js";
import { deliverWebhook } from "../src/sandbox/webhooks.js";
import { startAwsWorld } from "../test/support/aws-world.js";
import { INSTALLATION_ID } from "../test/support/fake-github.js";
import { benchDatabase } from "./support/database.js";
import { startReplicaProcess, type ReplicaProcess } from "./support/replica-process.js";
import { summarize, type BenchResult } from "./stats.js";

const MERGES = Number(process.env.JITSUDO_BENCH_MERGES ?? 200);
const PROVISIONING_MS = 2000;
const SECRET = "bench-webhook-secret";
const CEILING_SECONDS = Math.max(0, (MERGES - 10) / (10 / (PROVISIONING_MS / 1000)));

async function burst(replicaCount: number, killOne: boolean): Promise<Record<string, unknown>> {
  const database = await benchDatabase(`webhook_burst_${replicaCount}_${killOne ? "kill" : "all"}`);
  const world = await startAwsWorld({ provisioningDelayMs: PROVISIONING_MS });
  const local = await startLocalGitHub({ clock: new WallClock(), defaultRepository: false });
  const { github } = local;
  github.createInstallation({ account: "acme", id: INSTALLATION_ID });
  const repo = github.createRepository({ owner: "acme", name: "access", id: 424242 });
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  repo.commit("main", {
    files: { ".github/jitsudo.yml": `rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n`, ".github/CODEOWNERS": "/access-requests/ @bob\n" },
    author: "acme",
  });
  world.ic.addUser("d-aaaaaaaaaa", { userName: "alice" });
  // 200 distinct assignments: one account each.
  const accounts = Array.from({ length: MERGES }, (_, index) => `6${String(index).padStart(11, "0")}`);
  for (const [index, id] of accounts.entries()) world.ic.addAccount({ id, name: `burst-${index}` });
  const merges = accounts.map((account, index) => {
    const branch = `alice/burst-${index}`;
    repo.createBranch(branch, "main", "alice");
    repo.commit(branch, { files: { [`access-requests/alice/burst-${index}.yaml`]: `account: "${account}"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Morning incident ${index}"\n` }, author: "alice" });
    const number = repo.openPull({ head: branch, author: "alice" });
    repo.review(number, "bob", "APPROVED");
    return { number, payload: repo.merge(number, { by: "bob" }).closed };
  });

  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const replicas: ReplicaProcess[] = [];
  for (let index = 0; index < replicaCount; index++) {
    replicas.push(
      await startReplicaProcess({
        databaseUrl: database.url,
        schema: database.schema,
        githubHost: local.host,
        privateKey,
        webhookSecret: SECRET,
        awsEndpoint: world.url,
        accessKeyId: `AKIDBURST${index}`,
        accessRepositories: "acme/access",
      }),
    );
  }
  world.ic.clearCalls();
  const answers: number[] = [];
  const answeredByVictim: number[] = [];
  let ok = 0;
  const burstAt = Date.now();
  try {
    const victim = killOne ? replicas[0] : undefined;
    const killing = victim
      ? new Promise<void>((resolve) =>
          setTimeout(() => {
            victim.child.kill("SIGKILL");
            resolve();
          }, 300),
        )
      : Promise.resolve();
    await Promise.all(
      merges.map(async ({ number, payload }, index) => {
        const replica = replicas[index % replicaCount]!;
        const t0 = performance.now();
        const status = await deliverWebhook(replica.url, SECRET, "pull_request", payload).catch(() => 0);
        if (status >= 200 && status < 300) {
          ok += 1;
          answers.push(performance.now() - t0);
          if (replica === victim) answeredByVictim.push(number);
        }
      }),
    );
    await killing;
    // What the killed replica never answered, GitHub would record as failed: redeliver it to the other (as the redelivery job asks GitHub to).
    const survivors = replicas.filter((replica) => replica !== victim);
    const answered = new Set(answeredByVictim);
    if (victim) {
      for (const [index, { number, payload }] of merges.entries()) {
        if (replicas[index % replicaCount] === victim && !answered.has(number)) await deliverWebhook(survivors[0]!.url, SECRET, "pull_request", payload);
      }
    }
    const creates = () => world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ok").length;
    const deadline = Date.now() + 300_000;
    while (creates() < MERGES) {
      if (Date.now() > deadline) throw new Error(`benchmark: only ${creates()} of ${MERGES} creates within 5 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const lastCreate = Math.max(...world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ok").map((call) => call.at));
    const judged = (await database.db("merge_verdicts").whereIn("pr_number", answeredByVictim).pluck("pr_number")) as number[];
    const retries = (await Promise.all(survivors.map((replica) => replica.scrape("jitsudo_inbox_deliveries_total")))).flat().filter((line) => line.includes('outcome="retry"'));
    return {
      answered: `${ok} of ${MERGES}`,
      answer_ms: summarize(answers),
      ...(victim ? { killed_replica_had_answered: answeredByVictim.length, of_those_judged_by_the_other: judged.length } : {}),
      pool_timeouts: replicas.reduce((sum, replica) => sum + replica.poolTimeouts(), 0),
      inbox_retries: retries.map((line) => line.split(" ")[1]).join("+") || "0",
      creates_issued: creates(),
      seconds_from_burst_to_last_create: Math.round((lastCreate - burstAt) / 100) / 10,
      aws_ceiling_seconds: CEILING_SECONDS,
    };
  } finally {
    for (const replica of replicas) await replica.stop();
    await local.stop();
    await world.stop();
    await database.close();
  }
}

export async function benchWebhookBurst(): Promise<BenchResult> {
  return {
    name: `webhook burst: ${MERGES} approved merges delivered at once over HTTP to jitsudo start replicas (own processes), GitHub and Identity Center local over HTTP`,
    figures: {
      one_replica: JSON.stringify(await burst(1, false)),
      two_replicas: JSON.stringify(await burst(2, false)),
      two_replicas_one_killed: JSON.stringify(await burst(2, true)),
    },
    target: "every delivery answered, p99 ≤ 200 ms; every create issued; 0 pool timeouts; every delivery a killed replica answered judged by the other; last create near AWS's ceiling",
  };
}
