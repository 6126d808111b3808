/**
 * The local Identity Center's configurable corners (`AwsBehaviour`), each as AWS shows it
 * (../shared/identity-center.md), called through the real SDK on a clock that moves only when told.
 */
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import { afterEach, describe, expect, it } from "vitest";
import type { AwsBehaviour } from "../../src/sandbox/context.js";
import { ACCOUNT, INSTANCE_ARN, OTHER_ACCOUNT, failure, startWorld, type World } from "./world.js";

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function start(behaviour: Partial<AwsBehaviour>): Promise<World> {
  world = await startWorld({ provisioningDelayMs: 1000, deletionDelayMs: 1000, behaviour });
  return world;
}

function api(w: World) {
  const target = (principalId: string, accountId = ACCOUNT, permissionSetArn = w.permissionSetArn) => ({
    InstanceArn: INSTANCE_ARN,
    TargetId: accountId,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: permissionSetArn,
    PrincipalType: "USER" as const,
    PrincipalId: principalId,
  });
  return {
    create: async (principalId: string, accountId?: string, permissionSetArn?: string) =>
      (await w.clients.ssoAdmin.send(new CreateAccountAssignmentCommand(target(principalId, accountId, permissionSetArn))))
        .AccountAssignmentCreationStatus!,
    remove: async (principalId: string, accountId?: string) =>
      (await w.clients.ssoAdmin.send(new DeleteAccountAssignmentCommand(target(principalId, accountId)))).AccountAssignmentDeletionStatus!,
    creation: async (requestId: string | undefined) =>
      (
        await w.clients.ssoAdmin.send(
          new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE_ARN, AccountAssignmentCreationRequestId: requestId }),
        )
      ).AccountAssignmentCreationStatus!,
    deletion: async (requestId: string | undefined) =>
      (
        await w.clients.ssoAdmin.send(
          new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE_ARN, AccountAssignmentDeletionRequestId: requestId }),
        )
      ).AccountAssignmentDeletionStatus!,
    listed: async (accountId = ACCOUNT) =>
      (
        (
          await w.clients.ssoAdmin.send(
            new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE_ARN, AccountId: accountId, PermissionSetArn: w.permissionSetArn }),
          )
        ).AccountAssignments ?? []
      ).map((assignment) => assignment.PrincipalId),
    provisionedTo: async () =>
      (
        await w.clients.ssoAdmin.send(
          new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: w.permissionSetArn }),
        )
      ).AccountIds ?? [],
  };
}

describe("the local Identity Center, configured as AWS behaves", () => {
  it("answers ConflictException to a write on an assignment whose last write has not propagated", async () => {
    const w = await start({ conflictAfterWriteMs: 5000 });
    const { create, remove } = api(w);
    await create(w.alice);
    w.clock.advance(1000);
    expect(await failure(remove(w.alice))).toMatchObject({ name: "ConflictException", status: 400 });
    w.clock.advance(5000);
    expect((await remove(w.alice)).Status).toBe("IN_PROGRESS");
  });

  it("may answer the cap on creations in progress with ConflictException instead of throttling", async () => {
    const w = await start({ inFlightCapError: "ConflictException" });
    const { create } = api(w);
    const users = Array.from({ length: 11 }, (_, index) => w.ic.addUser("d-1111111111", { userName: `user${index}` }));
    for (const user of users.slice(0, 10)) await create(user);
    expect(await failure(create(users[10]!))).toMatchObject({ name: "ConflictException", status: 400 });
  });

  it.each([
    ["not-found", "ResourceNotFoundException at once"],
    ["succeeded", "an operation that ends SUCCEEDED"],
    ["failed", "an operation that ends FAILED"],
  ] as const)("answers a delete of a missing assignment (%s) with %s", async (deleteMissing, _answer) => {
    const w = await start({ deleteMissing });
    const { remove, deletion } = api(w);
    if (deleteMissing === "not-found") {
      expect(await failure(remove(w.alice))).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
      return;
    }
    const started = await remove(w.alice);
    expect(started.Status).toBe("IN_PROGRESS");
    w.clock.advance(1000);
    expect((await deletion(started.RequestId)).Status).toBe(deleteMissing === "succeeded" ? "SUCCEEDED" : "FAILED");
  });

  it("lists an assignment only after the list lag, though its operation already SUCCEEDED", async () => {
    const w = await start({ listLagMs: 3000 });
    const { create, creation, listed } = api(w);
    const started = await create(w.alice);
    w.clock.advance(1000);
    expect((await creation(started.RequestId)).Status).toBe("SUCCEEDED");
    expect(await listed()).toEqual([]);
    w.clock.advance(3000);
    expect(await listed()).toEqual([w.alice]);
  });

  it("takes longer for the first assignment of a set in an account, which provisions it; the last one removed deprovisions it", async () => {
    const w = await start({ firstAssignmentDelayMs: 4000 });
    const { create, remove, creation, provisionedTo } = api(w);
    const first = await create(w.alice, OTHER_ACCOUNT);
    w.clock.advance(1000);
    expect((await creation(first.RequestId)).Status).toBe("IN_PROGRESS");
    w.clock.advance(4000);
    expect((await creation(first.RequestId)).Status).toBe("SUCCEEDED");
    expect(await provisionedTo()).toContain(OTHER_ACCOUNT);
    // The set is now there: the next one takes the ordinary time.
    const second = await create(w.bob, OTHER_ACCOUNT);
    w.clock.advance(1000);
    expect((await creation(second.RequestId)).Status).toBe("SUCCEEDED");
    await remove(w.alice, OTHER_ACCOUNT);
    w.clock.advance(1000);
    expect(await provisionedTo()).toContain(OTHER_ACCOUNT);
    await remove(w.bob, OTHER_ACCOUNT);
    w.clock.advance(1000);
    expect(await provisionedTo()).not.toContain(OTHER_ACCOUNT);
  });

  it("fails the first assignment of a set in an account over IAM's role quota, with AWS's reason", async () => {
    const w = await start({ rolesPerAccount: 1 });
    const other = w.ic.addPermissionSet(INSTANCE_ARN, { name: "Billing" });
    const { create, creation } = api(w);
    const first = await create(w.alice, OTHER_ACCOUNT);
    w.clock.advance(1000);
    expect((await creation(first.RequestId)).Status).toBe("SUCCEEDED");
    const second = await create(w.alice, OTHER_ACCOUNT, other);
    w.clock.advance(1000);
    const status = await creation(second.RequestId);
    expect(status.Status).toBe("FAILED");
    expect(status.FailureReason).toMatch(/quota|role/i);
  });

  it("forgets an operation's status after the retention: Describe and the lists no longer know the request id", async () => {
    const w = await start({ statusRetentionMs: 60_000 });
    const { create, creation } = api(w);
    const started = await create(w.alice);
    w.clock.advance(1000);
    expect((await creation(started.RequestId)).Status).toBe("SUCCEEDED");
    w.clock.advance(60_000);
    expect(await failure(creation(started.RequestId))).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
    const listed = await w.clients.ssoAdmin.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE_ARN }));
    expect(listed.AccountAssignmentsCreationStatus ?? []).toEqual([]);
  });
});
