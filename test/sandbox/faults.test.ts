import {
  CreateAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  ListPermissionSetsCommand,
} from "@aws-sdk/client-sso-admin";
import { afterEach, describe, expect, it } from "vitest";
import { ACCOUNT, IDENTITY_STORE_ID, INSTANCE_ARN, failure, startWorld, type World } from "./world.js";

const worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.splice(0).map((w) => w.close()));
});

async function open(options: Parameters<typeof startWorld>[0]): Promise<World> {
  const world = await startWorld(options);
  worlds.push(world);
  return world;
}

/** Thirty creations, one after another, under heavy fault injection; what each call answered and how each operation ended. */
async function run(seed: number) {
  const world = await open({ seed, provisioningDelayMs: 0, faults: { throttle: 0.2, conflict: 0.2, serverError: 0.1, failed: 0.3 } });
  const answers: string[] = [];
  for (let i = 0; i < 30; i++) {
    const principalId = world.ic.addUser(IDENTITY_STORE_ID, { userName: `user${i}` });
    const command = new CreateAccountAssignmentCommand({
      InstanceArn: INSTANCE_ARN,
      TargetId: ACCOUNT,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: world.permissionSetArn,
      PrincipalType: "USER",
      PrincipalId: principalId,
    });
    answers.push(
      await world.clients.ssoAdmin.send(command).then(
        () => "accepted",
        (error: Error) => error.name,
      ),
    );
  }
  const operations = world.ic.operations().map((op) => [op.requestId, op.status, op.failureReason]);
  return { answers, operations };
}

describe("fault injection", () => {
  it("is reproducible with a seed, and another seed gives another run", async () => {
    const first = await run(7);
    const again = await run(7);
    const other = await run(8);
    expect(again).toEqual(first);
    expect(other.answers).not.toEqual(first.answers);
    // Every kind of fault shows up at these rates.
    expect(new Set(first.answers)).toEqual(new Set(["accepted", "ThrottlingException", "ConflictException", "InternalServerException"]));
    const statuses = first.operations.map(([, status]) => status);
    expect(statuses).toContain("FAILED");
    expect(statuses).toContain("SUCCEEDED");
    expect(first.operations.find(([, status]) => status === "FAILED")?.[2]).toBe(
      "Request failed due to an internal error. Retry the request (fault injected by the simulator).",
    );
  });

  it("answers injected server errors with HTTP 500, and can be changed at run time", async () => {
    const world = await open({ faults: { serverError: 1 } });
    const describeUnknown = () =>
      world.clients.ssoAdmin.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN,
          AccountAssignmentCreationRequestId: "00000000-0000-4000-8000-000000000000",
        }),
      );
    expect(await failure(describeUnknown())).toEqual({
      name: "InternalServerException",
      status: 500,
      message: "Internal server error (fault injected by the simulator)",
    });
    // Listings are not subject to faults.
    await world.clients.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));

    world.ic.setFaults({ throttle: 1 });
    expect((await failure(describeUnknown())).name).toBe("ThrottlingException");
    world.ic.setFaults({});
    expect((await failure(describeUnknown())).name).toBe("ResourceNotFoundException");
    expect(() => world.ic.setFaults({ conflict: 1.5 })).toThrow("faults.conflict must be a fraction between 0 and 1");
  });

  it("holds responses back by latencyMs", async () => {
    const world = await open({ faults: { latencyMs: 60 } });
    const started = performance.now();
    await world.clients.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
    // A lower bound only: a slow machine makes the call slower, never faster.
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
