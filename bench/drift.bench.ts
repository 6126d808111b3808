/**
 * Drift at scale, against the local Identity Center at AWS's limits (20 TPS): 500 accounts × 20
 * managed permission sets (each provisioned to 50 accounts: 1,000 account/permission-set pairs),
 * 5,000 live grants of 100 users, RECONCILIATION_INTERVAL 30 s, jitsudo's real worker.
 *
 * Reports the Identity Center calls and seconds one full sweep takes (every pair looked at once,
 * with the live grants looked at every cycle on the way), the peak requests per second drift used
 * (target ≤ 10, half of AWS's limit), and how long an out-of-band deletion of a live grant's
 * assignment stays unrepaired (target ≤ one interval).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { recordTenantConfig } from "../src/config/tenant-snapshots.js";
import { IDENTITY_STORE_ID, INSTANCE_ARN, startAwsWorld, startTestWorker, type AwsWorld } from "../test/support/aws-world.js";
import { DEFAULT_WORKER_SETTINGS } from "../src/jobs/context.js";
import { benchDatabase } from "./support/database.js";
import { grantRow } from "./support/grants.js";
import type { BenchResult } from "./stats.js";

const ACCOUNTS = 500;
const PERMISSION_SETS = 20;
const PROVISIONED_PER_SET = 50;
const USERS = 100;
const GRANTS = 5000;
const INTERVAL_MS = 30_000;
const DRIFT_OPERATIONS = new Set([
  "ListAccountAssignments",
  "ListAccountAssignmentsForPrincipal",
  "ListAccountsForProvisionedPermissionSet",
  "ListPermissionSets",
  "DescribePermissionSet",
]);

export async function benchDrift(): Promise<BenchResult> {
  const database = await benchDatabase("drift");
  const world = await startAwsWorld({ provisioningDelayMs: 2000 });
  try {
    const { pairs, userIds, setNames } = buildOrganisation(world);
    await insertLiveGrants(database.db, world, pairs, userIds);
    await recordTenantConfig(database.db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: `rules:\n  - permission_sets: [${setNames.join(", ")}]\n    accounts: ["*"]\n    max_duration: 8h\ndrift:\n  managed_permission_sets: [${setNames.join(", ")}]\n`,
      readAt: new Date(),
    });
    world.ic.clearCalls();

    const running = await startTestWorker(database.db, world, { settings: DEFAULT_WORKER_SETTINGS, reconciliationIntervalMs: INTERVAL_MS });
    const started = Date.now();
    let repairSeconds = Number.NaN;
    try {
      // Halfway into the first cycle, delete one live grant's assignment outside jitsudo.
      await sleep(INTERVAL_MS / 2);
      const victim = {
        instanceArn: INSTANCE_ARN,
        accountId: pairs[0]![0],
        permissionSetArn: pairs[0]![1],
        principalType: "USER" as const,
        principalId: userIds[0]!,
      };
      world.ic.deleteAssignmentOutOfBand(victim);
      const deletedAt = Date.now();
      const present = () =>
        world.ic
          .assignments()
          .some(
            (a) =>
              a.accountId === victim.accountId && a.permissionSetArn === victim.permissionSetArn && a.principalId === victim.principalId,
          );
      while (!present()) {
        if (Date.now() - deletedAt > 5 * INTERVAL_MS) throw new Error("benchmark: the deleted assignment was never repaired");
        await sleep(200);
      }
      repairSeconds = (Date.now() - deletedAt) / 1000;
      await waitForFullPass(database.db, 30 * 60_000);
    } finally {
      await running.stop();
    }
    const sweeps = (await database.db("drift_sweeps").whereNotNull("finished_at").orderBy("started_at")) as {
      started_at: Date;
      finished_at: Date;
      completed_rotation: boolean;
    }[];
    const passEnd = sweeps.find((sweep) => sweep.completed_rotation)!.finished_at.getTime();
    const calls = world.ic.calls.filter((call) => DRIFT_OPERATIONS.has(call.operation) && call.at <= passEnd);
    return {
      name: `drift: ${ACCOUNTS} accounts × ${PERMISSION_SETS} managed permission sets (${pairs.length} provisioned pairs), ${GRANTS} live grants of ${USERS} users, interval ${INTERVAL_MS / 1000} s, simulator at AWS's limits`,
      figures: {
        calls_per_full_sweep: calls.length,
        seconds_per_full_sweep: Math.round((passEnd - started) / 100) / 10,
        cycles_per_full_sweep: sweeps.filter((sweep) => sweep.finished_at.getTime() <= passEnd).length,
        peak_drift_requests_per_second: peakPerSecond(calls.map((call) => call.at)),
        peak_all_requests_per_second: peakPerSecond(world.ic.calls.filter((call) => call.service !== "sts").map((call) => call.at)),
        seconds_to_repair_an_out_of_band_deletion: repairSeconds,
      },
      target: "peak drift TPS ≤ 10; repair within one interval (30 s)",
    };
  } finally {
    await world.stop();
    await database.close();
  }
}

/** 500 accounts; 20 permission sets each provisioned to 50 of them; 100 users. */
function buildOrganisation(world: AwsWorld) {
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => `8${String(index).padStart(11, "0")}`);
  accounts.forEach((id, index) => world.ic.addAccount({ id, name: `account-${index}` }));
  const setNames = Array.from({ length: PERMISSION_SETS }, (_, index) => `Set${index}`);
  const pairs: [string, string][] = [];
  setNames.forEach((name, setIndex) => {
    const provisionedTo = Array.from({ length: PROVISIONED_PER_SET }, (_, k) => accounts[(setIndex * 25 + k * 10) % ACCOUNTS]!);
    const arn = world.ic.addPermissionSet(INSTANCE_ARN, { name, provisionedTo });
    for (const account of provisionedTo) pairs.push([account, arn]);
  });
  const userIds = Array.from({ length: USERS }, (_, index) =>
    world.ic.addUser(IDENTITY_STORE_ID, { userName: `user-${index}@example.com` }),
  );
  return { pairs, userIds, setNames };
}

/** 5,000 active grants with their assignments in place: user u holds 50 distinct pairs. */
async function insertLiveGrants(db: Knex, world: AwsWorld, pairs: [string, string][], userIds: string[]): Promise<void> {
  const now = Date.now();
  const rows = [];
  for (let index = 0; index < GRANTS; index++) {
    const [accountId, permissionSetArn] = pairs[index % pairs.length]!;
    const user = Math.floor(index / (GRANTS / USERS));
    world.ic.addAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId,
      permissionSetArn,
      principalType: "USER",
      principalId: userIds[user]!,
    });
    rows.push(
      grantRow({
        index,
        principal: `user-${user}@example.com`,
        principalId: userIds[user]!,
        accountId,
        permissionSetArn,
        status: "active",
        startsAt: new Date(now - 60_000),
        expiresAt: new Date(now + 8 * 3_600_000),
      }),
    );
  }
  for (let index = 0; index < rows.length; index += 500) await db("grants").insert(rows.slice(index, index + 500));
}

async function waitForFullPass(db: Knex, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await db("drift_sweeps").where({ completed_rotation: true }).first())) {
    if (Date.now() > deadline) throw new Error("benchmark: no full drift pass within the time allowed");
    await sleep(1000);
  }
}

function peakPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let start = 0, end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= 1000) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}
