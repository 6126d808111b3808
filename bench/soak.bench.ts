/**
 * A long steady load: 2 approved merges a second for JITSUDO_SOAK_MINUTES (10 by default), each a
 * 1-minute grant, delivered over HTTP to two `jitsudo start` replicas (server and worker each, own
 * processes, one database), GitHub and the Identity Center local over HTTP at AWS's limits.
 *
 * Flat is the target, compared in steady state: from the third minute on, merges and expiries
 * run side by side (the first grants expire in the second), so the third minute is set against the
 * last minute of merges. Each replica's RSS and database pool use are sampled every 10 s, its live
 * heap is what its full collections left (from V8's GC trace) in each of those minutes, and the
 * expiry lag (a grant's `expires_at` to its DeleteAccountAssignment) of grants expiring in them
 * is compared.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ReplicaProcess } from "./support/replica-process.js";
import { startReplicaWorld } from "./support/replica-world.js";
import { summarize, type BenchResult } from "./stats.js";

const MINUTES = Number(process.env.JITSUDO_SOAK_MINUTES ?? 10);
const MERGES_PER_SECOND = 2;

interface Sample {
  at: number;
  rssMb: number[];
  poolUsed: number[];
  poolWaiting: number[];
}

export async function benchSoak(): Promise<BenchResult> {
  const merges = Math.round(MINUTES * 60 * MERGES_PER_SECOND);
  const setup = await startReplicaWorld("soak", { merges, accountPrefix: "7", provisioningDelayMs: 2000 });
  const { database, world } = setup;
  let replicas: ReplicaProcess[] = [];
  const samples: Sample[] = [];
  let failedDeliveries = 0;
  try {
    replicas = await setup.startReplicas(2, "AKIDSOAK");
    const gauge = (lines: string[], state: string) => Number(lines.find((line) => line.includes(`state="${state}"`))?.split(" ")[1] ?? NaN);
    const sample = async () => {
      const pools = await Promise.all(replicas.map((replica) => replica.scrape("jitsudo_db_pool_connections")));
      samples.push({
        at: Date.now(),
        rssMb: replicas.map((replica) => Math.round(replica.rssMb() ?? NaN)),
        poolUsed: pools.map((lines) => gauge(lines, "used")),
        poolWaiting: pools.map((lines) => gauge(lines, "waiting")),
      });
    };
    const startedAt = Date.now();
    const STEADY_MINUTE = 2;
    const LAST_MINUTE = MINUTES - 1;
    await sample();
    const sampler = setInterval(() => void sample().catch(() => undefined), 10_000);
    const deliveries: Promise<void>[] = [];
    for (let index = 0; index < merges; index++) {
      const due = startedAt + (index * 1000) / MERGES_PER_SECOND;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const { delivery } = setup.approvedMerge(index, "1m");
      deliveries.push(
        setup
          .deliver(replicas[index % 2]!, delivery)
          .then((status) => {
            if (status < 200 || status >= 300) failedDeliveries += 1;
          })
          .catch(() => {
            failedDeliveries += 1;
          }),
      );
    }
    await Promise.all(deliveries);
    // The last grants expire a minute after their merge; wait for every delete.
    const deletes = () => world.ic.calls.filter((call) => call.operation === "DeleteAccountAssignment" && call.outcome === "ok");
    const deadline = Date.now() + 5 * 60_000;
    while (new Set(deletes().map((call) => call.input.TargetId)).size < merges && Date.now() < deadline) await sleep(1000);
    clearInterval(sampler);
    await sample();

    const grants = await database
      .db("grants")
      .select<{ account_id: string; expires_at: Date; status: string }[]>("account_id", "expires_at", "status");
    const firstDelete = new Map<string, number>();
    for (const call of deletes()) if (!firstDelete.has(String(call.input.TargetId))) firstDelete.set(String(call.input.TargetId), call.at);
    const lagsIn = (fromMinute: number, toMinute: number) =>
      grants
        .filter((grant) => {
          const minute = (grant.expires_at.getTime() - startedAt) / 60_000;
          return minute >= fromMinute && minute < toMinute && firstDelete.has(grant.account_id);
        })
        .map((grant) => firstDelete.get(grant.account_id)! - grant.expires_at.getTime());
    const window = (from: number) =>
      samples.filter((entry) => entry.at - startedAt >= from * 60_000 && entry.at - startedAt < (from + 1) * 60_000);
    const mean = (values: number[]) => Math.round(values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length));
    const perReplica = (entries: Sample[], pick: (entry: Sample) => number[]) =>
      [0, 1].map((replica) => mean(entries.map((entry) => pick(entry)[replica]!)));
    const statuses: Record<string, number> = {};
    for (const grant of grants) statuses[grant.status] = (statuses[grant.status] ?? 0) + 1;
    return {
      name: `soak: ${MINUTES} min of ${MERGES_PER_SECOND} merges/s (1-minute grants) on two jitsudo start replicas (own processes), GitHub and Identity Center local over HTTP`,
      figures: {
        merges: `${merges} delivered, ${failedDeliveries} not answered 2xx`,
        grants: JSON.stringify(statuses),
        deleted: `${firstDelete.size} of ${merges}`,
        rss_mb_warm_up_minute: JSON.stringify(perReplica(window(0), (entry) => entry.rssMb)),
        rss_mb_steady_minute: JSON.stringify(perReplica(window(STEADY_MINUTE), (entry) => entry.rssMb)),
        rss_mb_last_minute: JSON.stringify(perReplica(window(LAST_MINUTE), (entry) => entry.rssMb)),
        live_heap_mb_steady_minute: JSON.stringify(replicas.map((replica) => liveHeapIn(replica, startedAt, STEADY_MINUTE))),
        live_heap_mb_last_minute: JSON.stringify(replicas.map((replica) => liveHeapIn(replica, startedAt, LAST_MINUTE))),
        full_collections: JSON.stringify(replicas.map((replica) => replica.fullCollections().length)),
        pool_used_steady_minute: JSON.stringify(perReplica(window(STEADY_MINUTE), (entry) => entry.poolUsed)),
        pool_used_last_minute: JSON.stringify(perReplica(window(LAST_MINUTE), (entry) => entry.poolUsed)),
        pool_waiting_max: Math.max(...samples.flatMap((entry) => entry.poolWaiting.filter(Number.isFinite))),
        pool_timeouts: replicas.reduce((sum, replica) => sum + replica.poolTimeouts(), 0),
        expiry_lag_ms_steady_minute: summarize(lagsIn(STEADY_MINUTE, STEADY_MINUTE + 1)),
        expiry_lag_ms_last_minute: summarize(lagsIn(LAST_MINUTE, LAST_MINUTE + 1)),
      },
      target:
        "live heap, RSS and pool use flat from the steady minute to the last; expiry lag p99 unchanged; every grant deleted; 0 pool timeouts",
    };
  } finally {
    await setup.stop();
  }
}

/**
 * The largest live heap a replica's full collections left within a minute of the run, in MB; when
 * none ran in it, what the last one before the minute's end left. Undefined before any.
 */
function liveHeapIn(replica: ReplicaProcess, startedAt: number, minute: number): number | undefined {
  const end = startedAt + (minute + 1) * 60_000;
  const collections = replica.fullCollections().filter((collection) => collection.at < end);
  const within = collections.filter((collection) => collection.at >= end - 60_000);
  if (within.length > 0) return Math.max(...within.map((collection) => collection.liveMb));
  return collections.at(-1)?.liveMb;
}
