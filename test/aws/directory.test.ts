import { describe, expect, it } from "vitest";
import { Directory, SESSION_DURATION_TTL_MS } from "../../src/aws/directory.js";
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

describe("session durations", () => {
  const ARN = "arn:aws:sso:::permissionSet/ssoins-1/ps-1";
  /** DescribePermissionSet of one permission set, counted; `answer` is what AWS says (or throws). */
  function describing(view: string, answer: () => Promise<{ arn: string; name: string; sessionDuration?: string } | undefined>) {
    const calls: string[] = [];
    const ic = {
      instanceArn: "arn:aws:sso:::instance/ssoins-1",
      view,
      describePermissionSet: (arn: string) => (calls.push(arn), answer()),
    } as unknown as IdentityCenter;
    return { ic, calls };
  }

  it("reads each permission set's session duration once per few minutes, however many grants ask", async () => {
    let now = 0;
    const directory = new Directory({ now: () => now });
    const { ic, calls } = describing("view-a", () => Promise.resolve({ arn: ARN, name: "Admin", sessionDuration: "PT8H" }));
    const readings = await Promise.all(Array.from({ length: 20 }, () => directory.sessionDuration(ic, ARN)));
    expect(new Set(readings.map((reading) => JSON.stringify(reading)))).toEqual(new Set([JSON.stringify({ ok: true, seconds: 28_800 })]));
    now += SESSION_DURATION_TTL_MS - 1;
    await directory.sessionDuration(ic, ARN);
    expect(calls).toHaveLength(1);
    now += 1;
    await directory.sessionDuration(ic, ARN);
    expect(calls).toHaveLength(2);
  });

  it("keeps each view's answer to itself", async () => {
    const directory = new Directory();
    const a = describing("view-a", () => Promise.resolve({ arn: ARN, name: "Admin", sessionDuration: "PT1H" }));
    const b = describing("view-b", () => Promise.resolve({ arn: ARN, name: "Admin", sessionDuration: "PT12H" }));
    expect(await directory.sessionDuration(a.ic, ARN)).toEqual({ ok: true, seconds: 3600 });
    expect(await directory.sessionDuration(b.ic, ARN)).toEqual({ ok: true, seconds: 43_200 });
  });

  it("takes AWS's default (PT1H) when DescribePermissionSet leaves it out", async () => {
    const { ic } = describing("view-a", () => Promise.resolve({ arn: ARN, name: "Admin" }));
    expect(await new Directory().sessionDuration(ic, ARN)).toEqual({ ok: true, seconds: 3600 });
  });

  it("says why when it cannot be read, and asks again after a failure", async () => {
    const gone = describing("view-a", () => Promise.resolve(undefined));
    expect(await new Directory().sessionDuration(gone.ic, ARN)).toEqual({
      ok: false,
      problem: "Identity Center no longer has this permission set, so its session duration cannot be read",
    });
    const odd = describing("view-a", () => Promise.resolve({ arn: ARN, name: "Admin", sessionDuration: "P1M" }));
    expect(await new Directory().sessionDuration(odd.ic, ARN)).toEqual({
      ok: false,
      problem:
        'Identity Center answered the session duration of permission set "Admin" as "P1M", which jitsudo cannot read as a duration, so it cannot say how long a session would outlast the grant',
    });
    let fail = true;
    const flaky = describing("view-a", () =>
      fail
        ? Promise.reject(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }))
        : Promise.resolve({ arn: ARN, name: "Admin" }),
    );
    const directory = new Directory();
    await expect(directory.sessionDuration(flaky.ic, ARN)).rejects.toMatchObject({ name: "ThrottlingException" });
    fail = false;
    expect(await directory.sessionDuration(flaky.ic, ARN)).toEqual({ ok: true, seconds: 3600 });
    expect(flaky.calls).toHaveLength(2);
  });
});
