/**
 * Identity Center misbehaving as AWS does: throttling, conflicts, operations that end FAILED,
 * operations that never finish. Whatever happens on the way, every grant ends in the state its
 * story calls for, and the simulator holds exactly the assignments that should exist.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { approveGrant, eventually, startAwsWorld, startTestWorker, type AwsWorld, type RunningWorker } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { counterValue } from "../../src/observability/metrics.js";

describe("provisioning and revoking under faults", () => {
  let db: Knex;
  let world: AwsWorld;
  let running: RunningWorker | undefined;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await world.stop();
  });

  const statuses = async () => (await db("grants").orderBy("created_at").select("status")).map((row) => row.status as string);
  const state = async () => ({
    grants: await db("grants").select("id", "status", "last_error", "attempts", "operation"),
    assignments: world.ic.assignments().length,
  });
  const allIn =
    (...wanted: string[]) =>
    async () =>
      (await statuses()).every((status) => wanted.includes(status));
  /** Distinct principals, so that every grant has an assignment of its own. */
  const approveMany = async (count: number) => {
    for (let index = 0; index < count; index++) {
      const userName = `user-${index}@example.com`;
      world.ic.addUser("d-aaaaaaaaaa", { userName });
      await approveGrant(db, world, { principal: userName, prNumber: 100 + index });
    }
  };
  const expireAll = () => {
    world.clock.advance(3_600_000);
    running!.worker.wake();
  };

  it("provisions and revokes every grant with half of all calls throttled, none failing for it", async () => {
    world = await startAwsWorld({ faults: { throttle: 0.5 } });
    await approveMany(8);
    running = await startTestWorker(db, world);
    await eventually(allIn("active"), state, 30_000);
    expect(world.ic.assignments()).toHaveLength(8);
    const throttled = world.ic.calls.filter((call) => call.outcome === "ThrottlingException").length;
    expect(throttled).toBeGreaterThan(0);
    // Every throttle AWS answered is counted (/metrics), retries included.
    expect(await counterValue(running.metrics.awsThrottles)).toBe(throttled);

    expireAll();
    await eventually(allIn("revoked"), state, 30_000);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("retries creates and deletes that conflict with another operation on the same assignment", async () => {
    world = await startAwsWorld({ faults: { conflict: 0.5 } });
    await approveMany(6);
    running = await startTestWorker(db, world);
    await eventually(allIn("active"), state, 30_000);
    expect(world.ic.calls.filter((call) => call.outcome === "ConflictException").length).toBeGreaterThan(0);
    expireAll();
    await eventually(allIn("revoked"), state, 30_000);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("fails grants whose create ends FAILED, and retries deletes that end FAILED until they succeed", async () => {
    world = await startAwsWorld({ faults: { failed: 0.4 } });
    await approveMany(10);
    running = await startTestWorker(db, world);
    await eventually(allIn("active", "failed"), state, 30_000);
    const failed = (await db("grants").where({ status: "failed" })) as GrantRow[];
    expect(failed.length).toBeGreaterThan(0);
    for (const grant of failed) expect(grant.last_error).not.toBe("");
    expect(world.ic.assignments()).toHaveLength(10 - failed.length);

    // Every delete ends FAILED for a while: the revokes stay `revoking`, say so, and keep trying.
    world.ic.setFaults({ failed: 1 });
    expireAll();
    await eventually(async () => (await db("grant_events").where({ type: "revoke_failed" })).length >= 3, state, 30_000);
    expect(await statuses()).not.toContain("revoked");
    expect(world.ic.assignments()).toHaveLength(10 - failed.length);

    world.ic.setFaults({ failed: 0 });
    await eventually(allIn("revoked", "failed"), state, 30_000);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("stops waiting on a create that never finishes, and removes whatever it created once AWS lets it", async () => {
    world = await startAwsWorld({ provisioningDelayMs: 60_000, deletionDelayMs: 100 });
    const id = await approveGrant(db, world);
    running = await startTestWorker(db, world, { settings: { pollTimeoutMs: 300 } });
    await eventually(async () => (await db("grants").where({ id }).first()).status === "revoking", state);
    expect((await db("grant_events").where({ grant_id: id, type: "failed" }).first()).reason).toMatch(
      /did not finish creating the assignment within 0 s/,
    );

    // The create is still in flight: deleting conflicts until it settles, and the revoke keeps trying.
    await eventually(
      () => world.ic.calls.some((call) => call.operation === "DeleteAccountAssignment" && call.outcome === "ConflictException"),
      state,
    );
    world.clock.advance(60_000);
    // It never gave access: once nothing is left, it ends failed, not revoked.
    await eventually(async () => (await db("grants").where({ id }).first()).status === "failed", state, 20_000);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("never ends a grant whose create may have been sent without a confirmed removal", async () => {
    // Every create answers 500: jitsudo cannot know whether AWS acted on it before answering. The
    // reads before it (the permission set's session duration) are answered: only the create fails.
    world = await startAwsWorld({
      faults: {
        serverError: 1,
        operations: ["CreateAccountAssignment", "DeleteAccountAssignment", "DescribeAccountAssignmentCreationStatus"],
      },
    });
    // Named by ARN, so nothing but the create itself meets the fault.
    const id = await approveGrant(db, world, { permissionSetRef: world.readOnly, expiresAt: new Date(world.clock.nowMs() + 3_000) });
    running = await startTestWorker(db, world);
    // Its window ends: it is given up, but through `revoking`, not straight to `failed`...
    await eventually(async () => (await db("grants").where({ id }).first()).status === "revoking", state, 20_000);
    // ...and it stays there, retrying, until AWS answers the removal (deletes meet the fault too).
    world.ic.setFaults({ serverError: 0 });
    await eventually(async () => (await db("grants").where({ id }).first()).status === "failed", state, 20_000);

    const events = (await db("grant_events").where({ grant_id: id }).orderBy("id")).map((event) => [
      event.type,
      event.from_status,
      event.to_status,
    ]);
    expect(events).toEqual([
      ["approved", null, "approved"],
      ["provisioning", "approved", "provisioning"],
      ["failed", "provisioning", "revoking"],
      ["failed", "revoking", "failed"],
    ]);
    // The removal was asked of AWS until it answered that there was nothing to remove.
    expect(world.ic.calls.filter((call) => call.operation === "DeleteAccountAssignment").at(-1)?.outcome).toBe("ResourceNotFoundException");
    // Given up on its window: after a failed create was retried (the usual path), or, when a busy
    // machine lets the window pass between two tries, on the window alone. Either way it said so.
    expect((await db("grants").where({ id }).first()).last_error).toMatch(
      /^(it could not be provisioned before its window ended; last error: InternalServerException|its access window ended \(.+\) before it could be provisioned)/,
    );
    expect(world.ic.assignments()).toEqual([]);
  });

  it("lets a revoke wait for another grant's create of the same assignment, so a failing create leaves nothing behind", async () => {
    world = await startAwsWorld({ provisioningDelayMs: 1_500, deletionDelayMs: 100 });
    const first = await approveGrant(db, world, { expiresAt: new Date(world.clock.nowMs() + 60_000) });
    running = await startTestWorker(db, world);
    await eventually(async () => (await db("grants").where({ id: first }).first()).status === "active", state);

    // A second grant of the same assignment starts; its create is in flight and will end FAILED...
    world.ic.setFaults({ failed: 1 });
    const second = await approveGrant(db, world, { prNumber: 8 });
    await eventually(async () => (await db("grants").where({ id: second }).first()).aws_request_id !== null, state);
    world.ic.setFaults({ failed: 0 }); // only that create was chosen to fail
    // ...while the first grant expires.
    world.clock.advance(61_000);
    running.worker.wake();

    await eventually(async () => (await statuses()).every((status) => ["revoked", "failed"].includes(status)), state, 20_000);
    expect(await db("grants").orderBy("created_at").pluck("status")).toEqual(["revoked", "failed"]);
    await eventually(() => world.ic.assignments().length === 0, state);
  });
});
