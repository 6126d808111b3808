/**
 * Hole: the create slots (AWS allows 10 assignment creations in flight per instance) and the
 * instance's rate limit were first come, first served across every tenant naming the instance: a
 * burst of merges in one access repository kept another repository's grant waiting behind all of
 * them. Now a tenant holds at most its even share of the slots while another tenant's grants wait,
 * and tenants take turns at the rate limiter (its own test is in test/aws/rate-limiter.test.ts).
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import {
  approveGrant,
  eventually,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

const OTHER_REPOSITORY = 424_243;
const OTHER_ROLE = "arn:aws:iam::222222222222:role/jitsudo-other";

describe("create slots shared by two tenants of one instance", () => {
  let db: Knex;
  let world: AwsWorld;
  let worker: RunningWorker | undefined;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld({ provisioningDelayMs: 400 });
    world.ic.addRole({ roleArn: OTHER_ROLE, externalId: `jitsudo-1-${OTHER_REPOSITORY}`, trustedInstances: [INSTANCE_ARN] });
    for (let index = 0; index < 12; index++) world.ic.addUser(IDENTITY_STORE_ID, { userName: `user${index}@example.com` });
  });
  afterEach(async () => {
    await worker?.stop();
    await world.stop();
  });

  it("lets the other tenant's grant through while a burst of one tenant's grants waits for slots", async () => {
    const burst: string[] = [];
    for (let index = 0; index < 10; index++)
      burst.push(await approveGrant(db, world, { principal: `user${index}@example.com`, prNumber: 100 + index }));
    const other = await approveGrant(db, world, {
      repositoryId: OTHER_REPOSITORY,
      principal: "user11@example.com",
      prNumber: 7,
      aws: { roleArn: OTHER_ROLE, region: "us-east-1", instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID },
    });
    // The worker starts once all eleven are waiting: started before, on a busy machine it activated
    // the burst's first grants while the test was still writing the rest, and the other tenant's
    // grant came sixth for want of being there yet, not of a fair share.
    worker = await startTestWorker(db, world, { settings: { maxCreatesInFlight: 2 } });
    const all = [...burst, other];
    const rows = () => db("grants").whereIn("id", all).select<Pick<GrantRow, "id" | "status" | "active_at">[]>("id", "status", "active_at");
    await eventually(async () => (await rows()).every((row) => row.status === "active"), rows, 30_000);
    const order = (await rows()).sort((a, b) => a.active_at!.getTime() - b.active_at!.getTime()).map((row) => row.id);
    // First come, first served would make it the eleventh; with fair shares it is among the first few.
    expect(order.indexOf(other)).toBeLessThanOrEqual(3);
  });
});
