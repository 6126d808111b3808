import { GetUserIdCommand } from "@aws-sdk/client-identitystore";
import { ListAccountsCommand } from "@aws-sdk/client-organizations";
import { ListInstancesCommand, ListPermissionSetsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BASE_CREDENTIALS, IDENTITY_STORE_ID, INSTANCE_ARN, failure, startWorld, type World } from "./world.js";

let world: World;
afterEach(async () => {
  vi.restoreAllMocks();
  await world.close();
});

const listPermissionSets = (instanceArn = INSTANCE_ARN) =>
  world.clients.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }));
const getAlice = () =>
  world.clients.identityStore.send(
    new GetUserIdCommand({
      IdentityStoreId: IDENTITY_STORE_ID,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "alice" } },
    }),
  );

describe("the rate limit", () => {
  it("answers ThrottlingException (HTTP 400) beyond the rate, shared by sso-admin and identitystore, until tokens flow back", async () => {
    world = await startWorld({ requestsPerSecond: 5 });
    for (let i = 0; i < 4; i++) await listPermissionSets();
    await getAlice();
    expect(await failure(listPermissionSets())).toEqual({ name: "ThrottlingException", status: 400, message: "Rate exceeded" });
    expect((await failure(getAlice())).name).toBe("ThrottlingException");

    // One token comes back every 200 ms at 5 per second.
    world.clock.advance(200);
    await listPermissionSets();
    expect((await failure(listPermissionSets())).name).toBe("ThrottlingException");
    // Refused calls take no token: a full second later the whole burst is back.
    world.clock.advance(1000);
    for (let i = 0; i < 5; i++) await listPermissionSets();
    expect(world.ic.calls.map((c) => c.outcome).filter((o) => o === "ThrottlingException")).toHaveLength(3);
  });

  it("is per instance; organizations has a bucket of its own and answers TooManyRequestsException", async () => {
    world = await startWorld({ requestsPerSecond: 2 });
    const other = world.ic.addInstance({});
    await listPermissionSets();
    await listPermissionSets();
    expect((await failure(listPermissionSets())).name).toBe("ThrottlingException");
    await listPermissionSets(other.instanceArn);

    await world.clients.organizations.send(new ListAccountsCommand({}));
    await world.clients.organizations.send(new ListAccountsCommand({}));
    expect(await failure(world.clients.organizations.send(new ListAccountsCommand({})))).toEqual({
      name: "TooManyRequestsException",
      status: 400,
      message: "Rate exceeded",
    });
  });

  it("is recovered from by the SDK's standard retry strategy with its default attempts", async () => {
    // While the SDK backs off, time passes for the simulator: each throttled call moves the fake clock a second on.
    world = await startWorld({
      requestsPerSecond: 1,
      onCall: (call) => {
        if (call.outcome === "ThrottlingException") world.clock.advance(1000);
      },
    });
    // The backoff's jitter is Math.random() × up to a second; pinning it to 0 keeps the test fast. Classification
    // (ThrottlingException → retryable) and the attempt count are the SDK's own.
    vi.spyOn(Math, "random").mockReturnValue(0);
    const client = new SSOAdminClient({ region: "us-east-1", endpoint: world.url, credentials: BASE_CREDENTIALS });
    try {
      await client.send(new ListInstancesCommand({}));
      const answer = await client.send(new ListInstancesCommand({}));
      expect(answer.Instances).toHaveLength(1);
      expect(answer.$metadata.attempts).toBe(2);
      expect(world.ic.calls.map((c) => c.outcome)).toEqual(["ok", "ThrottlingException", "ok"]);
    } finally {
      client.destroy();
    }
  });
});
