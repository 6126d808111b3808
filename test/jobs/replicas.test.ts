/**
 * Two worker processes (`jitsudo worker`) on one database and one Identity Center, drift every
 * second: drift sweeps never overlap (seen in the simulator's call log, where each process signs
 * with its own access key), and no grant is provisioned twice.
 */
import type { Knex } from "knex";
import { rowsAs } from "../../src/db/knex.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordTenantConfig } from "../../src/config/tenant-snapshots.js";
import { approveGrant, INSTANCE_ARN, startAwsWorld, type AwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { exited, startWorkerProcess } from "../support/worker-process.js";
import { policyYaml, READ_ONLY_RULE } from "../support/policy-fixtures.js";

const DRIFT_OPERATIONS = new Set([
  "ListAccountAssignments",
  "ListAccountAssignmentsForPrincipal",
  "ListAccountsForProvisionedPermissionSet",
]);

describe("two worker processes", () => {
  let db: Knex;
  let url: string;
  let schema: string;
  let world: AwsWorld;
  beforeAll(async () => {
    ({ db, url, schema } = await freshDatabase());
    world = await startAwsWorld({ provisioningDelayMs: 200 });
  });
  afterAll(async () => {
    await world.stop();
  });

  const worker = (accessKeyId: string) =>
    startWorkerProcess({ databaseUrl: url, schema, awsEndpoint: world.url, accessKeyId, reconciliationInterval: "1s" });

  it("never sweep at the same time, and provision every grant once", { timeout: 120_000 }, async () => {
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: policyYaml({ rules: [{ ...READ_ONLY_RULE, permission_sets: ["ReadOnlyAccess", "AdministratorAccess"] }] }),
      readAt: new Date(),
    });
    const accounts = Array.from({ length: 10 }, (_, index) => `6000000000${String(index).padStart(2, "0")}`);
    accounts.forEach((id, index) => world.ic.addAccount({ id, name: `replica-${index}` }));
    const start = Date.now() + 2_000;
    for (const [index, accountRef] of accounts.entries()) {
      // The deployment's own credentials (no tenant role), so each process's calls carry its access key.
      await approveGrant(db, world, {
        accountRef,
        prNumber: 500 + index,
        startsAt: new Date(start),
        expiresAt: new Date(start + 40_000),
        aws: { instanceArn: INSTANCE_ARN, region: "us-east-1" },
      });
    }
    const children = [worker("AKIDREPLICAONE"), worker("AKIDREPLICATWO")];
    try {
      // Midway, something outside jitsudo deletes a live grant's assignment. Drift repairs it once the
      // grant has been active longer than the list-settling margin (15 s by default), before it expires:
      // 40 s windows leave drift 20 s for that on a busy machine.
      // Once that grant is active: on a busy machine the workers (TypeScript through tsx) can take
      // longer to start than any fixed wait, and deleting before the create leaves nothing to repair.
      const activeBy = Date.now() + 30_000;
      while (!(await db("grants").where({ account_ref: accounts[0]!, status: "active" }).first()) && Date.now() < activeBy) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(children.map((child) => child.exitCode)).toEqual([null, null]);
      world.ic.deleteAssignmentOutOfBand({
        instanceArn: INSTANCE_ARN,
        accountId: accounts[0]!,
        permissionSetArn: world.readOnly,
        principalType: "USER",
        principalId: world.users.alice,
      });
      const deadline = Date.now() + 45_000;
      while ((await db("grants").whereNotIn("status", ["revoked", "expired", "failed"])).length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // a few more sweeps with nothing live
    } finally {
      for (const child of children) child.kill("SIGTERM");
      await Promise.all(children.map(exited));
    }
    // SIGTERM is a graceful stop: steps finish or are handed over, the pool closes, exit 0.
    expect(children.map((child) => child.exitCode)).toEqual([0, 0]);

    // Both processes swept, and within any sweep only the sweeping process made drift calls.
    const sweeps = (await db("drift_sweeps").whereNotNull("finished_at").orderBy("started_at")) as {
      worker: string;
      started_at: Date;
      finished_at: Date;
    }[];
    expect(
      new Set(sweeps.map((sweep) => sweep.worker)).size,
      JSON.stringify(
        sweeps.map((sweep) => [
          sweep.worker.slice(-4),
          sweep.started_at.toISOString().slice(17, 23),
          sweep.finished_at.toISOString().slice(17, 23),
        ]),
      ),
    ).toBe(2);
    for (let index = 1; index < sweeps.length; index++)
      expect(sweeps[index]!.started_at.getTime()).toBeGreaterThanOrEqual(sweeps[index - 1]!.finished_at.getTime());
    const driftCalls = world.ic.calls.filter((call) => DRIFT_OPERATIONS.has(call.operation));
    expect(new Set(driftCalls.map((call) => call.accessKeyId))).toEqual(new Set(["AKIDREPLICAONE", "AKIDREPLICATWO"]));
    for (const sweep of sweeps) {
      const inside = driftCalls.filter((call) => call.at >= sweep.started_at.getTime() && call.at <= sweep.finished_at.getTime());
      expect(new Set(inside.map((call) => call.accessKeyId)).size).toBeLessThanOrEqual(1);
    }

    // Every grant went active once and was revoked once; the deleted one was repaired in between.
    const statuses = (await db("grants").pluck("status")) as string[];
    expect(statuses.every((status) => status === "revoked")).toBe(true);
    const events = await rowsAs<{ grant_id: string; type: string }[]>(
      db("grant_events").whereIn("type", ["active", "revoked", "drift_repaired"]).orderBy("id").select("grant_id", "type"),
    );
    const stories = new Map<string, string[]>();
    for (const event of events) stories.set(event.grant_id, [...(stories.get(event.grant_id) ?? []), event.type]);
    const told = [...stories.values()].map((story) => story.join(",")).sort();
    expect(told).toEqual([...Array(9).fill("active,revoked"), "active,drift_repaired,active,revoked"].sort());
    expect(world.ic.assignments()).toEqual([]);
  });
});
