/**
 * Drift reconciliation against the local Identity Center over HTTP, grants in the real
 * PostgreSQL, the tenant's policy as merged. Judged by what the simulator holds.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordTenantConfig } from "../../src/config/tenant-snapshots.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import {
  approveGrant,
  eventually,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  PRODUCTION,
  STAGING,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { policyYaml, READ_ONLY_RULE } from "../support/policy-fixtures.js";
import { counterValue } from "../../src/observability/metrics.js";

const POLICY = (unexpected: "flag" | "remove") =>
  policyYaml({
    rules: [{ ...READ_ONLY_RULE, permission_sets: ["ReadOnlyAccess", "AdministratorAccess"] }],
    drift: { managed_permission_sets: ["ReadOnlyAccess", "AdministratorAccess"], unexpected },
  });

describe("drift reconciliation", () => {
  let db: Knex;
  let world: AwsWorld;
  let running: RunningWorker;
  const replicas: RunningWorker[] = [];
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld();
    running = await startTestWorker(db, world);
  });
  afterEach(async () => {
    for (const replica of [running, ...replicas.splice(0)]) await replica.stop();
    await world.stop();
  });

  const policy = (unexpected: "flag" | "remove") =>
    recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: POLICY(unexpected),
      readAt: new Date(),
    });
  const grantRow = async (id: string) => (await db("grants").where({ id }).first()) as GrantRow;
  const state = async () => ({ grants: await db("grants").select("id", "status", "last_error"), assignments: world.ic.assignments() });
  const activeGrant = async () => {
    const id = await approveGrant(db, world);
    await eventually(async () => (await grantRow(id)).status === "active", state);
    return id;
  };
  /** Sweeps until one has finished a pass over every pair (a pass may span sweeps). */
  const fullPass = async (worker = running) => {
    for (let sweep = 0; sweep < 5; sweep++) if ((await worker.worker.drift.runOnce())[0]!.completedRotation) return;
    throw new Error("no sweep completed a pass in five cycles");
  };
  const aliceReadOnly = () => ({
    instanceArn: INSTANCE_ARN,
    accountId: PRODUCTION,
    permissionSetArn: world.readOnly,
    principalType: "USER" as const,
    principalId: world.users.alice,
  });

  it("re-creates a live grant's assignment that was deleted outside jitsudo, within one cycle", async () => {
    await policy("flag");
    const id = await activeGrant();
    expect(world.ic.deleteAssignmentOutOfBand(aliceReadOnly())).toBe(true);

    const [report] = await running.worker.drift.runOnce();
    expect(report).toMatchObject({ instanceArn: INSTANCE_ARN, ran: true, missing: 1, unexpected: 0 });
    await eventually(async () => (await grantRow(id)).status === "active" && world.ic.assignments().length === 1, state);
    expect(world.ic.assignments()).toEqual([aliceReadOnly()]);
    const events = (await db("grant_events").where({ grant_id: id }).orderBy("id")).map((event) => [
      event.type,
      event.from_status,
      event.to_status,
    ]);
    expect(events.slice(-2)).toEqual([
      ["drift_repaired", "active", "provisioning"],
      ["active", "provisioning", "active"],
    ]);
    expect(await counterValue(running.metrics.driftFindings, { kind: "missing" })).toBe(1);
  });

  it("flags an assignment of a managed set that no grant explains, once, and leaves other sets and groups alone", async () => {
    await policy("flag");
    await activeGrant();
    const billing = world.ic.addPermissionSet(INSTANCE_ARN, { name: "Billing", provisionedTo: [PRODUCTION] });
    const group = world.ic.addGroup(IDENTITY_STORE_ID, { displayName: "ops" });
    const bob = {
      instanceArn: INSTANCE_ARN,
      accountId: STAGING,
      permissionSetArn: world.admin,
      principalType: "USER" as const,
      principalId: world.users.bob,
    };
    world.ic.addAssignmentOutOfBand(bob);
    world.ic.addAssignmentOutOfBand({ ...bob, permissionSetArn: billing });
    world.ic.addAssignmentOutOfBand({ ...bob, principalType: "GROUP", principalId: group });

    await fullPass();
    const findings = await db("drift_findings").select(
      "account_id",
      "permission_set_arn",
      "principal_type",
      "principal_id",
      "action",
      "resolved_at",
    );
    expect(findings).toEqual([
      {
        account_id: STAGING,
        permission_set_arn: world.admin,
        principal_type: "USER",
        principal_id: world.users.bob,
        action: "flagged",
        resolved_at: null,
      },
    ]);
    const events = await db("grant_events").where({ type: "drift_unexpected" });
    expect(events).toHaveLength(1);
    expect(events[0].reason).toBe(
      `user ${world.users.bob} holds ${world.admin} in ${STAGING} and no grant explains it; flagged (drift.unexpected: flag)`,
    );
    expect(await counterValue(running.metrics.driftFindings, { kind: "unexpected" })).toBe(1);
    expect(world.ic.assignments()).toHaveLength(4);

    world.ic.deleteAssignmentOutOfBand(bob);
    await fullPass();
    expect((await db("drift_findings").first()).resolved_at).not.toBeNull();
  });

  it("removes unexpected assignments when the tenant says drift.unexpected: remove, and never a grant's", async () => {
    await policy("remove");
    await activeGrant();
    const bob = {
      instanceArn: INSTANCE_ARN,
      accountId: PRODUCTION,
      permissionSetArn: world.readOnly,
      principalType: "USER" as const,
      principalId: world.users.bob,
    };
    world.ic.addAssignmentOutOfBand(bob);
    await fullPass();
    // Deleting is asynchronous in AWS too: the assignment is gone once the deletion settles.
    await eventually(() => world.ic.assignments().length === 1, state);
    expect(world.ic.assignments()).toEqual([aliceReadOnly()]);
    expect((await db("drift_findings").first()).action).toBe("removed");
  });

  it("lets one replica sweep an instance at a time: the other skips the cycle", async () => {
    await policy("flag");
    await activeGrant();
    const other = await startTestWorker(db, world);
    replicas.push(other);
    const [first, second] = await Promise.all([running.worker.drift.runOnce(), other.worker.drift.runOnce()]);
    expect([first[0]!.ran, second[0]!.ran].sort()).toEqual([false, true]);
    const sweeps = await db("drift_sweeps").select("worker", "started_at", "finished_at");
    expect(sweeps).toHaveLength(1);
  });
});
