/**
 * Identity Center as it really behaves, where AWS documents nothing or is only eventually
 * consistent (../shared/identity-center.md), each configured in the local Identity Center, and
 * jitsudo's worker correct against it: conflicts after writes, deletes of what is gone, lists that
 * lag, a delegated administrator and the management account, the IAM role quota, and statuses AWS
 * no longer keeps.
 */
import type { Knex } from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { endEarlyIn, type GrantRow } from "../../src/grants/grant-repository.js";
import { recordTenantConfig } from "../../src/config/tenant-snapshots.js";
import type { AwsBehaviour } from "../../src/sandbox/context.js";
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
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";
import { counterValue } from "../../src/observability/metrics.js";

describe("Identity Center's undocumented corners", () => {
  let db: Knex;
  let world: AwsWorld;
  let worker: RunningWorker;
  afterEach(async () => {
    await worker?.stop();
    await world?.stop();
  });
  const start = async (behaviour: Partial<AwsBehaviour>, settings: Parameters<typeof startTestWorker>[2] = {}) => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld({ provisioningDelayMs: 100, behaviour });
    worker = await startTestWorker(db, world, settings);
  };
  const grant = async (id: string) => (await db("grants").where({ id }).first()) as GrantRow;
  const state = async () => ({
    grants: await db("grants").select("id", "status", "last_error", "attempts"),
    calls: world.ic.calls.slice(-8).map((call) => `${call.operation}:${call.outcome}`),
  });
  const statusIs = (id: string, status: string) => async () => (await grant(id)).status === status;
  const active = async (fields: Parameters<typeof approveGrant>[2] = {}) => {
    const id = await approveGrant(db, world, fields);
    await eventually(statusIs(id, "active"), state);
    return id;
  };
  const revokeNow = async (id: string) => {
    await db.transaction(async (trx) =>
      endEarlyIn(trx, await grant(id), { type: "revoke_requested", actor: "test", reason: "revoked early" }, "command-reply"),
    );
  };
  const aliceReadOnly = () => ({
    instanceArn: INSTANCE_ARN,
    accountId: PRODUCTION,
    permissionSetArn: world.readOnly,
    principalType: "USER" as const,
    principalId: world.users.alice,
  });

  it("keeps revoking through ConflictException after a write (AWS's own tools wait minutes), quietly, until it works", async () => {
    await start({ conflictAfterWriteMs: 1_500 });
    const id = await active();
    await revokeNow(id);
    await eventually(statusIs(id, "revoked"), state, 20_000);
    expect(world.ic.calls.some((call) => call.operation === "DeleteAccountAssignment" && call.outcome === "ConflictException")).toBe(true);
    expect(world.ic.assignments()).toEqual([]);
    expect(await counterValue(worker.metrics.revokeFailures)).toBe(0);
  });

  it.each(["not-found", "succeeded", "failed"] as const)(
    "ends a revoke whose assignment is already gone (a delete AWS answers %s) without a retry loop or a false alarm",
    async (deleteMissing) => {
      await start({ deleteMissing });
      const id = await active();
      world.ic.deleteAssignmentOutOfBand(aliceReadOnly());
      await revokeNow(id);
      await eventually(statusIs(id, "revoked"), state);
      expect(await counterValue(worker.metrics.revokeFailures)).toBe(0);
      expect(world.ic.calls.filter((call) => call.operation === "DeleteAccountAssignment")).toHaveLength(1);
    },
  );

  it("creates every grant when the cap on creations in progress answers ConflictException instead of throttling", async () => {
    await start({ inFlightCapError: "ConflictException" }, { settings: { maxCreatesInFlight: 10 } });
    await world.stop();
    world = await startAwsWorld({ provisioningDelayMs: 300, maxCreatesInFlight: 2, behaviour: { inFlightCapError: "ConflictException" } });
    await worker.stop();
    worker = await startTestWorker(db, world, { settings: { maxCreatesInFlight: 10 } });
    for (let index = 0; index < 4; index++) world.ic.addUser(IDENTITY_STORE_ID, { userName: `user${index}@example.com` });
    const ids: string[] = [];
    for (let index = 0; index < 4; index++)
      ids.push(await approveGrant(db, world, { principal: `user${index}@example.com`, prNumber: 20 + index }));
    await eventually(
      async () => (await db("grants").whereIn("id", ids).pluck("status")).every((status) => status === "active"),
      state,
      20_000,
    );
    expect(world.ic.calls.some((call) => call.operation === "CreateAccountAssignment" && call.outcome === "ConflictException")).toBe(true);
  });

  it("never repairs or removes on one look at a lagging list", async () => {
    await start({ listLagMs: 2_000 }, { settings: { listSettleMs: 3_000 } });
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: policyYaml({ rules: [ANY_RULE], drift: { managed_permission_sets: ["ReadOnlyAccess"], unexpected: "remove" } }),
      readAt: new Date(),
    });
    const id = await active();
    // The list does not show the fresh assignment yet: that is lag, not a deletion.
    const creates = () => world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment").length;
    const before = creates();
    const [first] = await worker.worker.drift.runOnce();
    expect(first!.missing).toBe(0);
    expect(creates()).toBe(before);
    expect((await grant(id)).status).toBe("active");

    // Someone adds standing access by hand: seen once, it is flagged, not removed...
    const bob = { ...aliceReadOnly(), accountId: STAGING, principalId: world.users.bob };
    world.ic.addAssignmentOutOfBand(bob);
    world.clock.advance(2_500);
    await worker.worker.drift.runOnce();
    expect(world.ic.assignments()).toContainEqual(bob);
    // ...and removed by a later sweep that still sees it once the lag has passed.
    world.clock.advance(3_500);
    await worker.worker.drift.runOnce();
    await eventually(() => !world.ic.assignments().some((a) => a.principalId === bob.principalId), state);
    expect((await grant(id)).status).toBe("active");
  });

  it("never calls a fresh assignment gone because a lagging list does not show it yet, when its deletion FAILED", async () => {
    await start({ listLagMs: 60_000 }, { settings: { listSettleMs: 60_000 } });
    const id = await active();
    world.ic.setFaults({ failed: 1 });
    await revokeNow(id);
    await eventually(() => world.ic.calls.filter((call) => call.operation === "DeleteAccountAssignment").length >= 2, state);
    // The list hides the assignment (lag), but it is there: the grant keeps removing it.
    expect(world.ic.assignments()).toContainEqual(aliceReadOnly());
    expect((await grant(id)).status).toBe("revoking");
    world.ic.setFaults({ failed: 0 });
    await eventually(statusIs(id, "revoked"), state);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("says in a requester's words that a delegated administrator cannot assign in the management account", async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld({ provisioningDelayMs: 100 });
    const delegated = "arn:aws:iam::222222222222:role/jitsudo-delegated";
    world.ic.addRole({
      roleArn: delegated,
      externalId: "jitsudo-1-424242",
      trustedInstances: [INSTANCE_ARN],
      delegatedAdministrator: true,
    });
    world.ic.addAccount({ id: "000000000000", name: "management" });
    worker = await startTestWorker(db, world);
    const id = await approveGrant(db, world, {
      accountRef: "000000000000",
      aws: { roleArn: delegated, region: "us-east-1", instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID },
    });
    await eventually(statusIs(id, "failed"), state);
    expect((await grant(id)).last_error).toContain(
      "account 000000000000 is the organisation's management account, and AWS refuses assignments there to a delegated administrator",
    );
  });

  it("passes AWS's reason to the PR when the first assignment of a permission set in an account fails on the IAM role quota", async () => {
    await start({ rolesPerAccount: 1, firstAssignmentDelayMs: 200 });
    await active(); // ReadOnlyAccess is now provisioned to production: its one role.
    const id = await approveGrant(db, world, { permissionSetRef: "AdministratorAccess", prNumber: 9 });
    await eventually(statusIs(id, "failed"), state);
    expect((await grant(id)).last_error).toContain("Cannot exceed quota for RolesPerAccount: 1");
  });

  it("looks at the assignment itself when AWS no longer knows an operation's request id", async () => {
    await start({ statusRetentionMs: 0 });
    const id = await active();
    expect(world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment")).toHaveLength(1);
    await revokeNow(id);
    await eventually(statusIs(id, "revoked"), state);
    expect(world.ic.assignments()).toEqual([]);
    expect(await counterValue(worker.metrics.revokeFailures)).toBe(0);
  });
});
