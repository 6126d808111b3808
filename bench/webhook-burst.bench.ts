/**
 * A busy morning: 200 approved merges whose webhooks arrive at once, delivered over HTTP to
 * `jitsudo start` replicas running as their own processes (`dist/cli.js`, configured only by
 * environment), GitHub answered by the local GitHub over HTTP (as a GitHub Enterprise Server on
 * loopback) and AWS by the local Identity Center at AWS's limits (10 creates in flight, 2 s each).
 *
 * Three runs: one replica; two replicas sharing the burst; two replicas, one of them killed with
 * SIGKILL a moment into the burst (every delivery it answered must still be judged, by the other).
 * Deliveries are sent by a process of their own (GitHub's sender is not its API server: see
 * support/hookshot.ts), first a warm-up burst of the same size (closed, unmerged pull requests,
 * which are stored and handled but grant nothing), as a replica that has been running meets a
 * busy morning; the answers to both are reported.
 * Reports every delivery answered and how fast (p50/p99), database pool timeouts, and the time from
 * the burst to the last CreateAccountAssignment next to AWS's ceiling for 200 creates (10 in flight,
 * 2 s each: the 200th create cannot start before (200 - 10) / 5 = 38 s).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { signDelivery } from "../src/sandbox/webhooks.js";
import { Hookshot, type Shot } from "./support/hookshot.js";
import { startReplicaWorld, WEBHOOK_SECRET } from "./support/replica-world.js";
import type { ReplicaProcess } from "./support/replica-process.js";
import { summarize, type BenchResult } from "./stats.js";

const MERGES = Number(process.env.JITSUDO_BENCH_MERGES ?? 200);
const PROVISIONING_MS = 2000;
const CEILING_SECONDS = Math.max(0, (MERGES - 10) / (10 / (PROVISIONING_MS / 1000)));

async function burst(replicaCount: number, killOne: boolean): Promise<Record<string, unknown>> {
  const setup = await startReplicaWorld(`burst${replicaCount}${killOne ? "kill" : "all"}`, {
    merges: MERGES,
    accountPrefix: "6",
    provisioningDelayMs: PROVISIONING_MS,
  });
  const { database, world } = setup;
  const merges = setup.accounts.map((_, index) => setup.approvedMerge(index, "2h"));
  const replicas = await setup.startReplicas(replicaCount, "AKIDBURST");
  const hookshot = await Hookshot.start();
  const answeredByVictim: number[] = [];
  try {
    const warmUp = await hookshot.fire(unmergedCopies(merges, replicas));
    await setup.inboxEmpty();
    world.ic.clearCalls();
    const victim = killOne ? replicas[0] : undefined;
    const killing = victim
      ? new Promise<void>((resolve) =>
          setTimeout(() => {
            victim.child.kill("SIGKILL");
            resolve();
          }, 300),
        )
      : Promise.resolve();
    const burstAt = Date.now();
    const results = await hookshot.fire(merges.map(({ delivery }, index) => ({ url: replicas[index % replicaCount]!.url, delivery })));
    const answered = (result: { status: number }) => result.status >= 200 && result.status < 300;
    const answers = results.filter(answered).map((result) => result.ms);
    const ok = answers.length;
    results.forEach((result, index) => {
      if (answered(result) && replicas[index % replicaCount] === victim) answeredByVictim.push(merges[index]!.number);
    });
    await killing;
    // What the killed replica never answered, GitHub would record as failed: redeliver it to the other (as the redelivery job asks GitHub to).
    const survivors = replicas.filter((replica) => replica !== victim);
    const judgedByVictim = new Set(answeredByVictim);
    if (victim) {
      for (const [index, { number, delivery }] of merges.entries()) {
        if (replicas[index % replicaCount] === victim && !judgedByVictim.has(number)) await setup.deliver(survivors[0]!, delivery);
      }
    }
    process.stderr.write(
      `burst (${replicaCount} replica(s)${killOne ? ", one killed" : ""}): ${ok} of ${MERGES} answered in ${Math.round(Date.now() - burstAt)} ms\n`,
    );
    const creates = () => world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ok").length;
    const deadline = Date.now() + 300_000;
    while (creates() < MERGES) {
      if (Date.now() > deadline) throw new Error(`benchmark: only ${creates()} of ${MERGES} creates within 5 minutes`);
      await sleep(200);
    }
    const lastCreate = Math.max(
      ...world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ok").map((call) => call.at),
    );
    const judged = (await database.db("merge_verdicts").whereIn("pr_number", answeredByVictim).pluck("pr_number")) as number[];
    const retries = (await Promise.all(survivors.map((replica) => replica.scrape("jitsudo_inbox_deliveries_total"))))
      .flat()
      .filter((line) => line.includes('outcome="retry"'));
    return {
      answered: `${ok} of ${MERGES}`,
      answer_ms: summarize(answers),
      warm_up_answer_ms: summarize(warmUp.filter(answered).map((result) => result.ms)),
      ...(victim ? { killed_replica_had_answered: answeredByVictim.length, of_those_judged_by_the_other: judged.length } : {}),
      pool_timeouts: replicas.reduce((sum, replica) => sum + replica.poolTimeouts(), 0),
      inbox_retries: retries.map((line) => line.split(" ")[1]).join("+") || "0",
      creates_issued: creates(),
      seconds_from_burst_to_last_create: Math.round((lastCreate - burstAt) / 100) / 10,
      aws_ceiling_seconds: CEILING_SECONDS,
    };
  } finally {
    await hookshot.stop();
    await setup.stop();
  }
}

/** The burst's deliveries as closed, unmerged pull requests (new numbers and ids): handled, granting nothing. */
function unmergedCopies(merges: { delivery: { body: string } }[], replicas: ReplicaProcess[]): Shot[] {
  return merges.map(({ delivery }, index) => {
    const payload = JSON.parse(delivery.body) as { pull_request: { merged: boolean; number: number } };
    payload.pull_request.merged = false;
    payload.pull_request.number += 1_000_000;
    return { url: replicas[index % replicas.length]!.url, delivery: signDelivery(WEBHOOK_SECRET, "pull_request", payload) };
  });
}

export async function benchWebhookBurst(): Promise<BenchResult> {
  return {
    name: `webhook burst: ${MERGES} approved merges delivered at once over HTTP to jitsudo start replicas (own processes), GitHub and Identity Center local over HTTP`,
    figures: {
      one_replica: JSON.stringify(await burst(1, false)),
      two_replicas: JSON.stringify(await burst(2, false)),
      two_replicas_one_killed: JSON.stringify(await burst(2, true)),
    },
    target:
      "every delivery answered, p99 ≤ 200 ms; every create issued; 0 pool timeouts; every delivery a killed replica answered judged by the other; last create near AWS's ceiling",
  };
}
