import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
} from "@aws-sdk/client-sso-admin";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ACCOUNT,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  OTHER_ACCOUNT,
  SUSPENDED_ACCOUNT,
  UNKNOWN_ACCOUNT,
  failure,
  startWorld,
  type World,
} from "./world.js";

let world: World;
beforeEach(async () => {
  world = await startWorld({ provisioningDelayMs: 2000, deletionDelayMs: 1000 });
});
afterEach(() => world.close());

const target = (principalId: string, accountId = ACCOUNT) => ({
  InstanceArn: INSTANCE_ARN,
  TargetId: accountId,
  TargetType: "AWS_ACCOUNT" as const,
  PermissionSetArn: world.permissionSetArn,
  PrincipalType: "USER" as const,
  PrincipalId: principalId,
});

const create = (principalId: string, accountId = ACCOUNT) =>
  world.clients.ssoAdmin.send(new CreateAccountAssignmentCommand(target(principalId, accountId)));
const remove = (principalId: string, accountId = ACCOUNT) =>
  world.clients.ssoAdmin.send(new DeleteAccountAssignmentCommand(target(principalId, accountId)));
const creationStatus = async (requestId: string | undefined) =>
  (
    await world.clients.ssoAdmin.send(
      new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE_ARN, AccountAssignmentCreationRequestId: requestId }),
    )
  ).AccountAssignmentCreationStatus;
const deletionStatus = async (requestId: string | undefined) =>
  (
    await world.clients.ssoAdmin.send(
      new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE_ARN, AccountAssignmentDeletionRequestId: requestId }),
    )
  ).AccountAssignmentDeletionStatus;

describe("creating an assignment", () => {
  it("is IN_PROGRESS until the provisioning delay has passed, then SUCCEEDED, and the assignment exists", async () => {
    const created = (await create(world.alice)).AccountAssignmentCreationStatus;
    expect(created).toEqual({
      Status: "IN_PROGRESS",
      RequestId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      TargetId: ACCOUNT,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: world.permissionSetArn,
      PrincipalType: "USER",
      PrincipalId: world.alice,
      CreatedDate: new Date(world.clock.time),
    });
    expect(world.ic.assignments()).toEqual([]);
    expect(world.ic.inFlightCreates()).toBe(1);

    world.clock.advance(1999);
    expect((await creationStatus(created?.RequestId))?.Status).toBe("IN_PROGRESS");
    world.clock.advance(1);
    expect(await creationStatus(created?.RequestId)).toEqual({ ...created, Status: "SUCCEEDED" });
    expect(world.ic.assignments()).toEqual([
      {
        instanceArn: INSTANCE_ARN,
        accountId: ACCOUNT,
        permissionSetArn: world.permissionSetArn,
        principalType: "USER",
        principalId: world.alice,
      },
    ]);
    expect(world.ic.inFlightCreates()).toBe(0);
  });

  it("of an assignment that already exists succeeds and leaves a single assignment", async () => {
    await create(world.alice);
    world.clock.advance(2000);
    const again = (await create(world.alice)).AccountAssignmentCreationStatus;
    world.clock.advance(2000);
    expect((await creationStatus(again?.RequestId))?.Status).toBe("SUCCEEDED");
    expect(world.ic.assignments()).toHaveLength(1);
  });

  it("provisions the permission set to the account", async () => {
    const provisioned = () =>
      world.clients.ssoAdmin.send(
        new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: world.permissionSetArn }),
      );
    expect((await provisioned()).AccountIds).toEqual([]);
    await create(world.alice, OTHER_ACCOUNT);
    world.clock.advance(2000);
    expect((await provisioned()).AccountIds).toEqual([OTHER_ACCOUNT]);
  });

  it.each([
    ["outside the organisation", UNKNOWN_ACCOUNT, `The target account ${UNKNOWN_ACCOUNT} is not a member of the organization.`],
    ["suspended", SUSPENDED_ACCOUNT, `The target account ${SUSPENDED_ACCOUNT} is suspended; assignments cannot be provisioned to it.`],
  ])("for an account %s is accepted, then ends FAILED with a reason", async (_, accountId, reason) => {
    const created = (await create(world.alice, accountId)).AccountAssignmentCreationStatus;
    expect(created?.Status).toBe("IN_PROGRESS");
    world.clock.advance(2000);
    expect(await creationStatus(created?.RequestId)).toMatchObject({ Status: "FAILED", FailureReason: reason });
    expect(world.ic.assignments()).toEqual([]);
  });

  it("judges the account when provisioning completes: suspended in between means FAILED", async () => {
    const created = (await create(world.alice)).AccountAssignmentCreationStatus;
    world.ic.setAccountStatus(ACCOUNT, "SUSPENDED");
    world.clock.advance(2000);
    expect((await creationStatus(created?.RequestId))?.Status).toBe("FAILED");
  });

  it("for a principal missing from the identity store ends FAILED", async () => {
    const ghost = "0123456789-01234567-89ab-4def-8123-456789abcdef";
    const created = (await create(ghost)).AccountAssignmentCreationStatus;
    world.clock.advance(2000);
    expect(await creationStatus(created?.RequestId)).toMatchObject({
      Status: "FAILED",
      FailureReason: `The user ${ghost} does not exist in identity store ${IDENTITY_STORE_ID}.`,
    });
  });

  it("is refused with ThrottlingException while 10 creations are in progress on the instance", async () => {
    const principals = Array.from({ length: 11 }, (_, i) => world.ic.addUser(IDENTITY_STORE_ID, { userName: `user${i}` }));
    for (const principal of principals.slice(0, 10)) await create(principal);
    expect(world.ic.inFlightCreates(INSTANCE_ARN)).toBe(10);

    const refused = await failure(create(principals[10]!));
    expect(refused).toEqual({
      name: "ThrottlingException",
      status: 400,
      message: "Too many account assignment creations in progress: 10 of 10 allowed at once on this instance",
    });
    // Deletions are not capped, and the cap frees up as soon as creations complete.
    world.clock.advance(2000);
    expect((await create(principals[10]!)).AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
    expect(world.ic.peakInFlightCreates(INSTANCE_ARN)).toBe(10);
    expect(world.ic.assignments()).toHaveLength(10);
  });
});

describe("deleting an assignment", () => {
  it("is IN_PROGRESS for the deletion delay, then SUCCEEDED, and the assignment is gone", async () => {
    await create(world.alice);
    world.clock.advance(2000);
    const deletion = (await remove(world.alice)).AccountAssignmentDeletionStatus;
    expect(deletion?.Status).toBe("IN_PROGRESS");
    expect(world.ic.assignments()).toHaveLength(1);
    expect(world.ic.inFlightDeletes()).toBe(1);
    world.clock.advance(1000);
    expect((await deletionStatus(deletion?.RequestId))?.Status).toBe("SUCCEEDED");
    expect(world.ic.assignments()).toEqual([]);
  });

  it("of an assignment that does not exist is ResourceNotFoundException at once", async () => {
    expect(await failure(remove(world.alice))).toEqual({
      name: "ResourceNotFoundException",
      status: 400,
      message: "The account assignment to delete does not exist",
    });
  });

  it("succeeds when someone removed the assignment out of band while it ran", async () => {
    await create(world.alice);
    world.clock.advance(2000);
    const deletion = (await remove(world.alice)).AccountAssignmentDeletionStatus;
    expect(world.ic.deleteAssignmentOutOfBand(world.ic.assignments()[0]!)).toBe(true);
    world.clock.advance(1000);
    expect((await deletionStatus(deletion?.RequestId))?.Status).toBe("SUCCEEDED");
  });
});

describe("concurrent operations on one assignment", () => {
  it("answer ConflictException while a creation is in progress, for a create and for a delete", async () => {
    const first = (await create(world.alice)).AccountAssignmentCreationStatus;
    const conflict = {
      name: "ConflictException",
      status: 400,
      message: `An account assignment creation (request ${first?.RequestId}) is already in progress for this principal, permission set and account`,
    };
    expect(await failure(create(world.alice))).toEqual(conflict);
    expect(await failure(remove(world.alice))).toEqual(conflict);
    // Another principal, or another account, is another assignment.
    await create(world.bob);
    await create(world.alice, OTHER_ACCOUNT);
    world.clock.advance(2000);
    expect(world.ic.assignments()).toHaveLength(3);
  });

  it("answer ConflictException to a create racing a deletion", async () => {
    await create(world.alice);
    world.clock.advance(2000);
    await remove(world.alice);
    expect((await failure(create(world.alice))).name).toBe("ConflictException");
    world.clock.advance(1000);
    expect((await create(world.alice)).AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
  });
});

describe("listing operation statuses", () => {
  it("filters by status, so one call polls many operations", async () => {
    const first = (await create(world.alice)).AccountAssignmentCreationStatus;
    world.clock.advance(1000);
    const second = (await create(world.bob)).AccountAssignmentCreationStatus;
    const failed = (await create(world.alice, UNKNOWN_ACCOUNT)).AccountAssignmentCreationStatus;
    world.clock.advance(1000);
    const list = async (Status?: "IN_PROGRESS" | "SUCCEEDED" | "FAILED") =>
      (
        await world.clients.ssoAdmin.send(
          new ListAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE_ARN, ...(Status && { Filter: { Status } }) }),
        )
      ).AccountAssignmentsCreationStatus?.map((s) => [s.RequestId, s.Status]);

    expect(await list()).toEqual([
      [first?.RequestId, "SUCCEEDED"],
      [second?.RequestId, "IN_PROGRESS"],
      [failed?.RequestId, "IN_PROGRESS"],
    ]);
    expect(await list("IN_PROGRESS")).toEqual([
      [second?.RequestId, "IN_PROGRESS"],
      [failed?.RequestId, "IN_PROGRESS"],
    ]);
    world.clock.advance(1000);
    expect(await list("FAILED")).toEqual([[failed?.RequestId, "FAILED"]]);
    const deletions = await world.clients.ssoAdmin.send(new ListAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE_ARN }));
    expect(deletions.AccountAssignmentsDeletionStatus).toEqual([]);
  });

  it("keeps creation and deletion request ids apart", async () => {
    const created = (await create(world.alice)).AccountAssignmentCreationStatus;
    expect(await failure(deletionStatus(created?.RequestId))).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
  });
});

describe("input checks", () => {
  it.each([
    ["an account id that is not 12 digits", { TargetId: "12345" }, "TargetId"],
    ["a missing principal id", { PrincipalId: undefined }, "PrincipalId"],
    ["an unknown target type", { TargetType: "OU" as "AWS_ACCOUNT" }, "TargetType"],
    ["a malformed permission set ARN", { PermissionSetArn: "arn:aws:sso:::permissionSet/nope" }, "PermissionSetArn"],
  ])("refuse %s with ValidationException", async (_, override, member) => {
    const refused = await failure(world.clients.ssoAdmin.send(new CreateAccountAssignmentCommand({ ...target(world.alice), ...override })));
    expect(refused).toMatchObject({ name: "ValidationException", status: 400 });
    expect(refused.message).toContain(`'${member}'`);
    expect(world.ic.operations()).toEqual([]);
  });

  it("refuse MaxResults outside 1..100", async () => {
    for (const MaxResults of [0, 101]) {
      const refused = await failure(world.clients.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN, MaxResults })));
      expect(refused).toMatchObject({ name: "ValidationException", status: 400 });
    }
  });

  it("answer ResourceNotFoundException for a well-formed but unknown instance or permission set", async () => {
    const unknownInstance = "arn:aws:sso:::instance/ssoins-9999999999999999";
    expect(
      await failure(
        world.clients.ssoAdmin.send(new CreateAccountAssignmentCommand({ ...target(world.alice), InstanceArn: unknownInstance })),
      ),
    ).toMatchObject({
      name: "ResourceNotFoundException",
      status: 400,
    });
    const unknownPermissionSet = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999";
    expect(
      await failure(
        world.clients.ssoAdmin.send(
          new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: unknownPermissionSet }),
        ),
      ),
    ).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
    expect(
      await failure(
        world.clients.ssoAdmin.send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: INSTANCE_ARN,
            AccountAssignmentCreationRequestId: "00000000-0000-4000-8000-000000000000",
          }),
        ),
      ),
    ).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
  });
});

describe("reading the instance", () => {
  it("lists the instance and describes its permission sets", async () => {
    const instances = await world.clients.ssoAdmin.send(new ListInstancesCommand({}));
    expect(instances.Instances).toEqual([
      expect.objectContaining({ InstanceArn: INSTANCE_ARN, IdentityStoreId: IDENTITY_STORE_ID, OwnerAccountId: ACCOUNT, Status: "ACTIVE" }),
    ]);
    const sets = await world.clients.ssoAdmin.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
    expect(sets.PermissionSets).toEqual([world.permissionSetArn]);
    const described = await world.clients.ssoAdmin.send(
      new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: world.permissionSetArn }),
    );
    expect(described.PermissionSet).toEqual({
      Name: "ReadOnly",
      PermissionSetArn: world.permissionSetArn,
      Description: "Read only",
      SessionDuration: "PT1H",
      CreatedDate: expect.any(Date),
    });
  });

  it("lists assignments made out of band, as drift", async () => {
    world.ic.addAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId: ACCOUNT,
      permissionSetArn: world.permissionSetArn,
      principalType: "USER",
      principalId: world.bob,
    });
    const listed = await world.clients.ssoAdmin.send(
      new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE_ARN, AccountId: ACCOUNT, PermissionSetArn: world.permissionSetArn }),
    );
    expect(listed.AccountAssignments).toEqual([
      { AccountId: ACCOUNT, PermissionSetArn: world.permissionSetArn, PrincipalType: "USER", PrincipalId: world.bob },
    ]);
    expect(listed.NextToken).toBeUndefined();
  });
});
