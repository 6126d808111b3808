/**
 * Hole: the provisioner checked a grant's expiry only while it was `approved`. A grant sent back
 * to `provisioning` (drift found its assignment deleted, or a worker died mid-create) whose window
 * ended before a worker picked it up again was created anyway: access past its approved end.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { wakeWorkers, type GrantRow } from "../../src/grants/grant-repository.js";
import { approveGrant, eventually, startAwsWorld, startTestWorker, type AwsWorld, type RunningWorker } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

describe("a grant whose window ends while it is back in provisioning", () => {
  let db: Knex;
  let world: AwsWorld;
  let worker: RunningWorker;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld();
    worker = await startTestWorker(db, world);
  });
  afterEach(async () => {
    await worker.stop();
    await world.stop();
  });

  const grant = async (id: string) => (await db("grants").where({ id }).first()) as GrantRow;
  const creates = () => world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment").length;

  it("is never created again after its end: it is removed and ends", async () => {
    const id = await approveGrant(db, world);
    await eventually(
      async () => (await grant(id)).status === "active",
      async () => grant(id),
    );
    expect(creates()).toBe(1);

    // Drift sent it back to provisioning (its assignment was deleted outside jitsudo) and no worker
    // picked it up before its window ended.
    await worker.stop();
    world.ic.deleteAssignmentOutOfBand({
      instanceArn: (await grant(id)).instance_arn!,
      accountId: (await grant(id)).account_id!,
      permissionSetArn: world.readOnly,
      principalType: "USER",
      principalId: world.users.alice,
    });
    await db("grants").where({ id }).update({ status: "provisioning", lease_owner: null, operation: null, aws_request_id: null });
    world.clock.offsetMs += 2 * 3_600_000;

    worker = await startTestWorker(db, world);
    await wakeWorkers(db);
    await eventually(
      async () => ["revoked", "expired", "failed"].includes((await grant(id)).status),
      async () => grant(id),
    );
    expect(creates()).toBe(1);
    expect(world.ic.assignments()).toEqual([]);
    const events = (await db("grant_events").where({ grant_id: id }).orderBy("id")).map((event) => event.reason as string);
    expect(events.some((reason) => /its access window ended \(.*\) before it could be provisioned/.test(reason))).toBe(true);
  });
});
