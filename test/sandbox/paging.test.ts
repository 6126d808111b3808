import { ListAccountsCommand, paginateListAccounts } from "@aws-sdk/client-organizations";
import {
  CreateAccountAssignmentCommand,
  ListAccountAssignmentsCommand,
  paginateListAccountAssignmentCreationStatus,
  paginateListAccountAssignments,
  paginateListAccountAssignmentsForPrincipal,
  paginateListPermissionSets,
} from "@aws-sdk/client-sso-admin";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ACCOUNT, IDENTITY_STORE_ID, INSTANCE_ARN, failure, startWorld, type World } from "./world.js";

let world: World;
let principals: string[];
beforeEach(async () => {
  world = await startWorld({ pageSize: 4 });
  principals = Array.from({ length: 23 }, (_, i) => world.ic.addUser(IDENTITY_STORE_ID, { userName: `user${i}` }));
  for (const principalId of principals) {
    world.ic.addAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId: ACCOUNT,
      permissionSetArn: world.permissionSetArn,
      principalType: "USER",
      principalId,
    });
  }
});
afterEach(() => world.close());

const target = (principalId: string) => ({
  InstanceArn: INSTANCE_ARN,
  TargetId: ACCOUNT,
  TargetType: "AWS_ACCOUNT" as const,
  PermissionSetArn: world.permissionSetArn,
  PrincipalType: "USER" as const,
  PrincipalId: principalId,
});
const query = () => ({ InstanceArn: INSTANCE_ARN, AccountId: ACCOUNT, PermissionSetArn: world.permissionSetArn });

describe("list operations", () => {
  it("return short pages while more remain, and the SDK paginator still gets every item", async () => {
    const pageSizes: number[] = [];
    const seen: string[] = [];
    for await (const page of paginateListAccountAssignments({ client: world.clients.ssoAdmin }, query())) {
      pageSizes.push(page.AccountAssignments?.length ?? 0);
      seen.push(...(page.AccountAssignments ?? []).map((a) => a.PrincipalId ?? ""));
    }
    // pageSize 4 caps each page; every second page is cut to 2.
    expect(pageSizes).toEqual([4, 2, 4, 2, 4, 2, 4, 1]);
    expect(seen.sort()).toEqual([...principals].sort());
  });

  it("cap pages at MaxResults too", async () => {
    const pageSizes: number[] = [];
    for await (const page of paginateListAccountAssignments({ client: world.clients.ssoAdmin, pageSize: 3 }, query())) {
      pageSizes.push(page.AccountAssignments?.length ?? 0);
    }
    expect(pageSizes).toEqual([3, 2, 3, 2, 3, 2, 3, 2, 3]);
  });

  it("page the other listings the same way", async () => {
    for (let i = 0; i < 6; i++) world.ic.addPermissionSet(INSTANCE_ARN, { name: `Set${i}` });
    const sets: string[] = [];
    for await (const page of paginateListPermissionSets({ client: world.clients.ssoAdmin }, { InstanceArn: INSTANCE_ARN }))
      sets.push(...(page.PermissionSets ?? []));
    expect(sets).toHaveLength(7);

    const mine: string[] = [];
    for (const accountId of ["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"]) {
      world.ic.addAssignmentOutOfBand({
        instanceArn: INSTANCE_ARN,
        accountId,
        permissionSetArn: world.permissionSetArn,
        principalType: "USER",
        principalId: world.alice,
      });
    }
    for await (const page of paginateListAccountAssignmentsForPrincipal(
      { client: world.clients.ssoAdmin },
      { InstanceArn: INSTANCE_ARN, PrincipalId: world.alice, PrincipalType: "USER" },
    )) {
      mine.push(...(page.AccountAssignments ?? []).map((a) => a.AccountId ?? ""));
    }
    expect(mine).toEqual(["111111111111", "222222222222", "333333333333", "444444444444", "555555555555"]);

    const requestIds: string[] = [];
    for (const principalId of principals.slice(0, 5)) {
      const created = await world.clients.ssoAdmin.send(
        new CreateAccountAssignmentCommand({ ...target(principalId), TargetId: "222222222222" }),
      );
      requestIds.push(created.AccountAssignmentCreationStatus?.RequestId ?? "");
    }
    const statuses: string[] = [];
    for await (const page of paginateListAccountAssignmentCreationStatus(
      { client: world.clients.ssoAdmin },
      { InstanceArn: INSTANCE_ARN },
    )) {
      statuses.push(...(page.AccountAssignmentsCreationStatus ?? []).map((s) => s.RequestId ?? ""));
    }
    expect(statuses).toEqual(requestIds);
  });

  it("resume after the last item returned, so items deleted between pages do not hide others", async () => {
    const first = await world.clients.ssoAdmin.send(new ListAccountAssignmentsCommand(query()));
    const returned = (first.AccountAssignments ?? []).map((a) => a.PrincipalId ?? "");
    // Remove two of the assignments already returned before asking for the next page.
    for (const principalId of returned.slice(0, 2)) {
      world.ic.deleteAssignmentOutOfBand({
        instanceArn: INSTANCE_ARN,
        accountId: ACCOUNT,
        permissionSetArn: world.permissionSetArn,
        principalType: "USER",
        principalId,
      });
    }
    const rest: string[] = [];
    let token = first.NextToken;
    while (token) {
      const page = await world.clients.ssoAdmin.send(new ListAccountAssignmentsCommand({ ...query(), NextToken: token }));
      rest.push(...(page.AccountAssignments ?? []).map((a) => a.PrincipalId ?? ""));
      token = page.NextToken;
    }
    expect(rest).toHaveLength(principals.length - returned.length);
    expect(new Set([...returned, ...rest])).toEqual(new Set(principals));
  });

  it("refuse a NextToken that is garbage or was issued for another query", async () => {
    const garbage = await failure(
      world.clients.ssoAdmin.send(new ListAccountAssignmentsCommand({ ...query(), NextToken: "bm90IGEgdG9rZW4" })),
    );
    expect(garbage).toEqual({ name: "ValidationException", status: 400, message: "Invalid NextToken: it was not issued for this request" });

    const first = await world.clients.ssoAdmin.send(new ListAccountAssignmentsCommand(query()));
    const elsewhere = await failure(
      world.clients.ssoAdmin.send(new ListAccountAssignmentsCommand({ ...query(), AccountId: "222222222222", NextToken: first.NextToken })),
    );
    expect(elsewhere.name).toBe("ValidationException");
  });
});

describe("organizations ListAccounts", () => {
  it("pages like the other listings (MaxResults 20 asked, pageSize 4 served) and answers InvalidInputException outside 1..20", async () => {
    for (let i = 0; i < 30; i++) world.ic.addAccount({ id: String(400000000000 + i), name: `account-${i}` });
    const ids: string[] = [];
    const pageSizes: number[] = [];
    for await (const page of paginateListAccounts({ client: world.clients.organizations, pageSize: 20 }, {})) {
      pageSizes.push(page.Accounts?.length ?? 0);
      ids.push(...(page.Accounts ?? []).map((a) => a.Id ?? ""));
    }
    expect(ids).toHaveLength(33);
    expect(new Set(ids).size).toBe(33);
    expect(pageSizes).toEqual([4, 2, 4, 2, 4, 2, 4, 2, 4, 2, 3]);

    expect(await failure(world.clients.organizations.send(new ListAccountsCommand({ MaxResults: 21 })))).toMatchObject({
      name: "InvalidInputException",
      status: 400,
    });
  });
});
