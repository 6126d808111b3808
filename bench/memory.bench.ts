/**
 * Memory of a worker process (`node dist/cli.js worker`, as deployed) with 100,000 grants stored:
 * 5,000 active (their assignments in the local Identity Center, so drift has real work), 95,000
 * ended. The worker runs its cycles and drift sweeps for 40 s while its resident set size is
 * sampled from /proc. Target: under 200 MB.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { recordTenantConfig } from "../src/config/tenant-snapshots.js";
import { IDENTITY_STORE_ID, INSTANCE_ARN, startAwsWorld } from "../test/support/aws-world.js";
import { exited, startWorkerProcess } from "../test/support/worker-process.js";
import { benchDatabase } from "./support/database.js";
import { grantRow } from "./support/grants.js";
import type { BenchResult } from "./stats.js";

const STORED = 100_000;
const ACTIVE = 5_000;
const WATCH_MS = 40_000;

export async function benchWorkerMemory(): Promise<BenchResult> {
  const database = await benchDatabase("memory");
  const world = await startAwsWorld({ provisioningDelayMs: 2000 });
  const { db } = database;
  try {
    const accounts = Array.from({ length: 100 }, (_, index) => `9${String(index).padStart(11, "0")}`);
    accounts.forEach((id, index) => world.ic.addAccount({ id, name: `memory-${index}` }));
    const users = Array.from({ length: 50 }, (_, index) =>
      world.ic.addUser(IDENTITY_STORE_ID, { userName: `memory-${index}@example.com` }),
    );
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content:
        'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\ndrift:\n  managed_permission_sets: [ReadOnlyAccess]\n',
      readAt: new Date(),
    });
    const now = Date.now();
    for (let batch = 0; batch < STORED; batch += 1000) {
      const rows = [];
      for (let index = batch; index < batch + 1000; index++) {
        const active = index < ACTIVE;
        const accountId = accounts[index % accounts.length]!;
        const principalId = users[Math.floor(index / accounts.length) % users.length]!;
        if (active)
          world.ic.addAssignmentOutOfBand({
            instanceArn: INSTANCE_ARN,
            accountId,
            permissionSetArn: world.readOnly,
            principalType: "USER",
            principalId,
          });
        const startsAt = new Date(now - (active ? 60_000 : 86_400_000 + index * 1000));
        rows.push(
          grantRow({
            index,
            principal: "alice@example.com",
            principalId,
            accountId,
            permissionSetArn: world.readOnly,
            status: active ? "active" : index % 2 ? "revoked" : "expired",
            startsAt,
            expiresAt: new Date(startsAt.getTime() + (active ? 8 * 3_600_000 : 3_600_000)),
            ...(active ? {} : { endedAt: new Date(startsAt.getTime() + 3_600_000) }),
          }),
        );
      }
      await db("grants").insert(rows);
    }

    const child = startWorkerProcess({
      databaseUrl: database.url,
      schema: database.schema,
      awsEndpoint: world.url,
      accessKeyId: "AKIDMEMORY",
      reconciliationInterval: "10s",
      entry: "build",
    });
    const samples: number[] = [];
    const deadline = Date.now() + WATCH_MS;
    while (Date.now() < deadline) {
      await sleep(500);
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      if (rss) samples.push(Number(rss) / 1024);
    }
    child.kill("SIGTERM");
    await exited(child);
    const sweeps = Number((await db("drift_sweeps").whereNotNull("finished_at").count({ n: "*" }))[0]!.n);
    return {
      name: `worker memory: ${STORED.toLocaleString("en")} grants stored (${ACTIVE.toLocaleString("en")} active), ${WATCH_MS / 1000} s of cycles and drift sweeps`,
      figures: {
        peak_rss_mb: Math.round(Math.max(...samples)),
        final_rss_mb: Math.round(samples.at(-1)!),
        drift_sweeps_completed: sweeps,
      },
      target: "< 200 MB",
    };
  } finally {
    await world.stop();
    await database.close();
  }
}
