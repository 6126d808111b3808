/**
 * What a create call tells its caller about timing, through the real SDK against the local
 * Identity Center: when it left (after the rate limit), and how long ago AWS's answer arrived.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsConnections } from "../../src/aws/connections.js";
import { SharedRateLimiter } from "../../src/aws/rate-limiter.js";
import { INSTANCE_ARN, PRODUCTION, startAwsWorld, type AwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

describe("a create call's timing", () => {
  let world: AwsWorld;
  let connections: AwsConnections;
  beforeAll(async () => {
    const { db } = await freshDatabase();
    world = await startAwsWorld();
    connections = new AwsConnections({
      limiter: new SharedRateLimiter(db),
      endpoint: world.url,
      credentials: { accessKeyId: "AKIDJITSUDOTEST", secretAccessKey: "not-a-secret" },
    });
  });
  afterAll(async () => {
    connections.close();
    await world.stop();
  });

  it("says when the call left, and how long before it returned AWS's answer arrived", async () => {
    const ic = await connections.connect({ tenant: "1", region: "us-east-1", instanceArn: INSTANCE_ARN }, "timing", "provision");
    const events: string[] = [];
    const called = performance.now();
    const status = await ic.createAssignment(
      { accountId: PRODUCTION, permissionSetArn: world.readOnly, principalType: "USER", principalId: world.users.alice },
      { onSent: () => events.push("left") },
    );
    const tookMs = performance.now() - called;
    events.push("answered");
    expect(events).toEqual(["left", "answered"]);
    expect(status.status).toBe("IN_PROGRESS");
    expect(world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment")).toHaveLength(1);
    // The answer arrived during the call, before the SDK parsed it.
    expect(status.answeredMsAgo).toBeGreaterThanOrEqual(0);
    expect(status.answeredMsAgo).toBeLessThan(tookMs);
  });
});
