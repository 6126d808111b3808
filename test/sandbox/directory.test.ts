import { DescribeUserCommand, GetUserIdCommand } from "@aws-sdk/client-identitystore";
import { DescribeAccountCommand } from "@aws-sdk/client-organizations";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IDENTITY_STORE_ID, SUSPENDED_ACCOUNT, UNKNOWN_ACCOUNT, failure, startWorld, type World } from "./world.js";

let world: World;
beforeEach(async () => {
  world = await startWorld();
});
afterEach(() => world.close());

const lookUp = (AttributePath: string, AttributeValue: unknown, IdentityStoreId = IDENTITY_STORE_ID) =>
  world.clients.identityStore.send(
    new GetUserIdCommand({
      IdentityStoreId,
      AlternateIdentifier: { UniqueAttribute: { AttributePath, AttributeValue: AttributeValue as never } },
    }),
  );

describe("identitystore", () => {
  it("resolves a user by userName or emails.value", async () => {
    expect(await lookUp("userName", "alice")).toMatchObject({ IdentityStoreId: IDENTITY_STORE_ID, UserId: world.alice });
    expect((await lookUp("emails.value", "alice@example.com")).UserId).toBe(world.alice);
    expect((await lookUp("userName", "bob")).UserId).toBe(world.bob);
  });

  it("answers ResourceNotFoundException for nobody, compared exactly", async () => {
    for (const name of ["carol", "Alice", "alice "]) {
      expect(await failure(lookUp("userName", name))).toEqual({
        name: "ResourceNotFoundException",
        status: 400,
        message: "USER not found",
      });
    }
    const byExternalId = world.clients.identityStore.send(
      new GetUserIdCommand({ IdentityStoreId: IDENTITY_STORE_ID, AlternateIdentifier: { ExternalId: { Issuer: "okta", Id: "alice" } } }),
    );
    expect((await failure(byExternalId)).name).toBe("ResourceNotFoundException");
    expect(await failure(lookUp("userName", "alice", "d-9999999999"))).toMatchObject({ name: "ResourceNotFoundException", status: 400 });
  });

  it("answers ValidationException for attributes that are not unique or values that are not strings", async () => {
    expect(await failure(lookUp("displayName", "alice"))).toMatchObject({ name: "ValidationException", status: 400 });
    expect(await failure(lookUp("userName", { name: "alice" }))).toMatchObject({ name: "ValidationException", status: 400 });
    expect(await failure(lookUp("userName", "alice", "not-a-store"))).toMatchObject({ name: "ValidationException", status: 400 });
  });

  it("describes a user", async () => {
    const user = await world.clients.identityStore.send(
      new DescribeUserCommand({ IdentityStoreId: IDENTITY_STORE_ID, UserId: world.alice }),
    );
    expect(user).toMatchObject({
      IdentityStoreId: IDENTITY_STORE_ID,
      UserId: world.alice,
      UserName: "alice",
      DisplayName: "alice",
      Emails: [{ Value: "alice@example.com", Type: "work", Primary: true }],
    });
  });
});

describe("organizations", () => {
  it("describes an account with its status, and answers AccountNotFoundException for an unknown one", async () => {
    const { Account } = await world.clients.organizations.send(new DescribeAccountCommand({ AccountId: SUSPENDED_ACCOUNT }));
    expect(Account).toMatchObject({
      Id: SUSPENDED_ACCOUNT,
      Name: "old",
      Status: "SUSPENDED",
      Arn: `arn:aws:organizations::000000000000:account/o-localsandbox/${SUSPENDED_ACCOUNT}`,
      JoinedTimestamp: new Date(world.clock.time),
    });
    expect(await failure(world.clients.organizations.send(new DescribeAccountCommand({ AccountId: UNKNOWN_ACCOUNT })))).toMatchObject({
      name: "AccountNotFoundException",
      status: 400,
    });
    expect(await failure(world.clients.organizations.send(new DescribeAccountCommand({ AccountId: "12" })))).toMatchObject({
      name: "InvalidInputException",
      status: 400,
    });
  });
});
