/**
 * Provisioning and revoking against the local Identity Center over HTTP (the real AWS SDK
 * clients), with grants in the real PostgreSQL. Every test judges jitsudo by what the simulator
 * holds, not by what jitsudo believes.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { endEarlyIn, type GrantRow } from "../../src/grants/grant-repository.js";
import {
  approveGrant,
  eventually,
  EXTERNAL_ID,
  INSTANCE_ARN,
  PRODUCTION,
  ROLE_ARN,
  startAwsWorld,
  startTestWorker,
  SUSPENDED,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

describe("provisioning and revoking", () => {
  let db: Knex;
  let world: AwsWorld;
  let running: RunningWorker | undefined;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await world.stop();
  });

  const grantRow = async (id: string) => (await db("grants").where({ id }).first()) as GrantRow;
  const statusIs =
    (id: string, ...statuses: string[]) =>
    async () =>
      statuses.includes((await grantRow(id)).status);
  const state = async () => ({
    grants: await db("grants").select("id", "status", "last_error", "attempts", "operation", "lease_owner"),
    assignments: world.ic.assignments(),
  });
  const events = async (id: string) =>
    (await db("grant_events").where({ grant_id: id }).orderBy("id")).map((event) => [event.type, event.from_status, event.to_status]);
  const aliceReadOnly = () => ({
    instanceArn: INSTANCE_ARN,
    accountId: PRODUCTION,
    permissionSetArn: world.readOnly,
    principalType: "USER",
    principalId: world.users.alice,
  });

  it("creates the assignment under the tenant's role, marks the grant active, and deletes it at expiry", async () => {
    const id = await approveGrant(db, world);
    running = await startTestWorker(db, world);

    await eventually(statusIs(id, "active"), state);
    expect(world.ic.assignments()).toEqual([aliceReadOnly()]);
    const grant = await grantRow(id);
    expect([grant.account_id, grant.permission_set_arn, grant.principal_id, grant.operation, grant.lease_owner]).toEqual([
      PRODUCTION,
      world.readOnly,
      world.users.alice,
      null,
      null,
    ]);
    // The tenant's role, with the ExternalId jitsudo derives and a session name that names the grant.
    const assume = world.ic.calls.find((call) => call.operation === "AssumeRole")!;
    expect(assume.input).toMatchObject({ RoleArn: ROLE_ARN, ExternalId: EXTERNAL_ID, RoleSessionName: `jitsudo-grant-${id}` });
    const create = world.ic.calls.find((call) => call.operation === "CreateAccountAssignment")!;
    expect(create.roleArn).toBe(ROLE_ARN);

    world.clock.advance(3_600_000);
    running.worker.wake();
    await eventually(statusIs(id, "revoked"), state);
    expect(world.ic.assignments()).toEqual([]);
    expect(await events(id)).toEqual([
      ["approved", null, "approved"],
      ["provisioning", "approved", "provisioning"],
      ["active", "provisioning", "active"],
      ["revoking", "active", "revoking"],
      ["revoked", "revoking", "revoked"],
    ]);
  });

  it("assumes the role session of a grant waiting for a create slot while it waits, not when its create is due", async () => {
    await world.stop();
    world = await startAwsWorld({ provisioningDelayMs: 400, maxCreatesInFlight: 2 });
    const accounts = ["100000000001", "100000000002", "100000000003", "100000000004"];
    for (const [index, id] of accounts.entries()) world.ic.addAccount({ id, name: `waiting-${index}` });
    const ids: string[] = [];
    for (const [index, account] of accounts.entries())
      ids.push(await approveGrant(db, world, { accountRef: account, prNumber: 40 + index }));
    running = await startTestWorker(db, world, { settings: { maxCreatesInFlight: 2 } });
    await eventually(async () => (await Promise.all(ids.map((id) => statusIs(id, "active")()))).every(Boolean), state);
    const at = (operation: string, match: (input: Record<string, unknown>) => boolean = () => true) =>
      world.ic.calls.find((call) => call.operation === operation && match(call.input))!.at;
    const creates = world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment");
    // The two that waited (their creates went out after the first two finished) had their sessions
    // before any operation was done: the AssumeRole round trip was not between a free slot and its create.
    const firstDone = Math.min(...world.ic.operations().map((operation) => operation.settlesAt));
    const waited = accounts.filter((account) => creates.find((call) => call.input.TargetId === account)!.at >= firstDone);
    expect(waited).toHaveLength(2);
    for (const account of waited) {
      const id = ids[accounts.indexOf(account)]!;
      expect(at("AssumeRole", (input) => input.RoleSessionName === `jitsudo-grant-${id}`)).toBeLessThan(firstDone);
    }
  });

  it("starts a merged grant at once: the merge wakes the worker, no tick is waited for", async () => {
    running = await startTestWorker(db, world);
    await eventually(() => running!.worker.cycleCount > 0, state);
    const id = await approveGrant(db, world);
    await eventually(statusIs(id, "active"), state, 5_000);
  });

  it("keeps a shared assignment until the last grant that needs it ends", async () => {
    const short = await approveGrant(db, world, { expiresAt: new Date(world.clock.nowMs() + 60_000) });
    const long = await approveGrant(db, world, { prNumber: 8, expiresAt: new Date(world.clock.nowMs() + 120_000) });
    running = await startTestWorker(db, world);
    await eventually(async () => (await statusIs(short, "active")()) && (await statusIs(long, "active")()), state);
    expect(world.ic.assignments()).toEqual([aliceReadOnly()]);

    world.clock.advance(61_000);
    running.worker.wake();
    await eventually(statusIs(short, "expired"), state);
    expect(world.ic.assignments()).toEqual([aliceReadOnly()]);
    expect((await db("grant_events").where({ grant_id: short, type: "expired" }).first()).reason).toContain(
      `the assignment stays for grant ${long} (PR #8)`,
    );

    world.clock.advance(60_000);
    running.worker.wake();
    await eventually(statusIs(long, "revoked"), state);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("ends an active grant early when its revoke is requested", async () => {
    const id = await approveGrant(db, world);
    running = await startTestWorker(db, world);
    await eventually(statusIs(id, "active"), state);
    await db.transaction(async (trx) =>
      endEarlyIn(
        trx,
        await grantRow(id),
        { type: "revoke_requested", actor: "alice", reason: "/jitsudo revoke by @alice" },
        "command-reply",
      ),
    );
    await eventually(statusIs(id, "revoked"), state, 5_000);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("fails a grant whose account AWS cannot assign to, with AWS's reason", async () => {
    const id = await approveGrant(db, world, { accountRef: SUSPENDED });
    running = await startTestWorker(db, world);
    await eventually(statusIs(id, "failed"), state);
    const grant = await grantRow(id);
    expect(grant.last_error).toMatch(/suspended/i);
    expect(world.ic.assignments()).toEqual([]);
  });

  it("fails a grant for a user Identity Center does not have, saying how to map it", async () => {
    const id = await approveGrant(db, world, { principal: "mallory@example.com" });
    running = await startTestWorker(db, world);
    await eventually(statusIs(id, "failed"), state);
    expect((await grantRow(id)).last_error).toBe(
      'Identity Center has no user "mallory@example.com"; map the GitHub login to the user\'s Identity Center user name under users: in .github/jitsudo.yml',
    );
    expect(world.ic.calls.filter((call) => call.operation === "CreateAccountAssignment")).toEqual([]);
  });

  it("resolves account and permission set names", async () => {
    const id = await approveGrant(db, world, { accountRef: "production", permissionSetRef: "AdministratorAccess" });
    running = await startTestWorker(db, world);
    await eventually(statusIs(id, "active"), state);
    expect(world.ic.assignments()).toEqual([{ ...aliceReadOnly(), permissionSetArn: world.admin }]);
  });

  it("fails closed when the tenant's role does not trust jitsudo's ExternalId", async () => {
    world.ic.addRole({ roleArn: "arn:aws:iam::111111111111:role/other", externalId: "jitsudo-2" });
    const id = await approveGrant(db, world, {
      aws: { roleArn: "arn:aws:iam::111111111111:role/other", region: "us-east-1", instanceArn: INSTANCE_ARN },
    });
    running = await startTestWorker(db, world);
    await eventually(statusIs(id, "failed"), state);
    expect((await grantRow(id)).last_error).toMatch(
      /^jitsudo could not assume arn:aws:iam::111111111111:role\/other \(ExternalId jitsudo-1-424242\): AccessDenied/,
    );
    expect(world.ic.assignments()).toEqual([]);
  });
});
