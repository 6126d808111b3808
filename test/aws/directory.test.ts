import { describe, expect, it } from "vitest";
import { Directory } from "../../src/aws/directory.js";
import type { IdentityCenter } from "../../src/aws/identity-center.js";

/** An Identity Center that only answers lookups, counting them. */
function lookups() {
  const counts = { userId: 0, accounts: 0, permissionSets: 0 };
  const state = {
    users: new Map([["alice@example.com", "u-alice"]]),
    accounts: [
      { id: "123456789012", name: "production", status: "ACTIVE" },
      { id: "210987654321", name: "staging", status: "ACTIVE" },
      { id: "333333333333", name: "twin", status: "ACTIVE" },
      { id: "444444444444", name: "twin", status: "ACTIVE" },
    ],
    sets: [{ arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1", name: "ReadOnlyAccess" }],
  };
  const ic = {
    instanceArn: "arn:aws:sso:::instance/ssoins-1",
    userId: (name: string) => (counts.userId++, Promise.resolve(state.users.get(name))),
    accounts: () => (counts.accounts++, Promise.resolve([...state.accounts])),
    permissionSets: () => (counts.permissionSets++, Promise.resolve([...state.sets])),
  } as unknown as IdentityCenter;
  return { ic, counts, state };
}

describe("the name directory", () => {
  it("resolves user, account and permission set names, each list read once for many grants", async () => {
    const { ic, counts } = lookups();
    const directory = new Directory();
    for (let index = 0; index < 5; index++) {
      expect(await directory.principalId(ic, "alice@example.com")).toEqual({ ok: true, id: "u-alice" });
      expect(await directory.accountId(ic, "production")).toEqual({ ok: true, id: "123456789012" });
      expect(await directory.permissionSetArn(ic, "ReadOnlyAccess")).toEqual({ ok: true, id: "arn:aws:sso:::permissionSet/ssoins-1/ps-1" });
    }
    expect(counts).toEqual({ userId: 1, accounts: 1, permissionSets: 1 });
  });

  it("passes ids and ARNs through without asking", async () => {
    const { ic, counts } = lookups();
    const directory = new Directory();
    expect(await directory.accountId(ic, "999999999999")).toEqual({ ok: true, id: "999999999999" });
    expect(await directory.permissionSetArn(ic, "arn:aws:sso:::permissionSet/ssoins-1/ps-9")).toEqual({
      ok: true,
      id: "arn:aws:sso:::permissionSet/ssoins-1/ps-9",
    });
    expect(counts).toEqual({ userId: 0, accounts: 0, permissionSets: 0 });
  });

  it("says what to do about unknown and ambiguous names", async () => {
    const { ic } = lookups();
    const directory = new Directory();
    expect(await directory.principalId(ic, "mallory")).toEqual({
      ok: false,
      problem:
        'Identity Center has no user "mallory"; map the GitHub login to the user\'s Identity Center user name under users: in .github/jitsudo.yml',
    });
    expect(await directory.accountId(ic, "twin")).toEqual({
      ok: false,
      problem: '2 accounts are named "twin" (333333333333, 444444444444); write the 12-digit account id instead',
    });
    expect(await directory.accountId(ic, "prod")).toEqual({
      ok: false,
      problem: 'the organisation has no account named "prod"; write its exact name or its 12-digit id',
    });
    expect(await directory.permissionSetArn(ic, "Admin")).toEqual({
      ok: false,
      problem: 'Identity Center instance arn:aws:sso:::instance/ssoins-1 has no permission set named "Admin"',
    });
  });

  it("reads a list again when a name is missing from a copy older than a minute, so new accounts are found", async () => {
    let time = 0;
    const { ic, counts, state } = lookups();
    const directory = new Directory({ now: () => time });
    await directory.accountId(ic, "production");
    state.accounts.push({ id: "555555555555", name: "sandbox", status: "ACTIVE" });
    time = 30_000;
    expect((await directory.accountId(ic, "sandbox")).ok).toBe(false);
    expect(counts.accounts).toBe(1);
    time = 61_000;
    expect(await directory.accountId(ic, "sandbox")).toEqual({ ok: true, id: "555555555555" });
    expect(counts.accounts).toBe(2);
  });
});
