/**
 * The true end of access (issue 14), against the local Identity Center over HTTP with the real AWS
 * SDK clients: a role session lasts up to the permission set's SessionDuration after its assignment
 * is deleted, so each grant records it (DescribePermissionSet, before the create), the grants API
 * and the pull request say when access truly ends, and a rule's `max_session_duration` refuses a
 * permission set whose sessions would outlast it, before anything is created. Judged by what the
 * simulator holds and was asked, not by what jitsudo believes.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Directory } from "../../src/aws/directory.js";
import { recordTenantConfig } from "../../src/config/tenant-snapshots.js";
import { renderGrantsComment } from "../../src/github/grant-comments.js";
import { utc } from "../../src/github/markdown.js";
import { grantForApi, type GrantRow } from "../../src/grants/grant-repository.js";
import {
  ACCESS_REPOSITORY_ID,
  approveGrant,
  eventually,
  EXTERNAL_ID,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  PRODUCTION,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const HOUR = 3_600_000;
/** Anything for anyone, as approveGrant's default policy, but sessions of at most an hour. */
const CAPPED_POLICY = policyYaml({
  users: { bob: "bob@example.com" },
  rules: [{ ...ANY_RULE, max_duration: "24h", allow_other_principal: true, max_session_duration: "1h" }],
});
/** A tenant role whose permission policy leaves out sso:DescribePermissionSet. */
const NARROW_ROLE = "arn:aws:iam::111111111111:role/jitsudo-narrow";

describe("session durations: the true end of access", () => {
  let db: Knex;
  let world: AwsWorld;
  let running: RunningWorker;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    world = await startAwsWorld();
    world.ic.addRole({
      roleArn: NARROW_ROLE,
      externalId: EXTERNAL_ID,
      trustedInstances: [INSTANCE_ARN],
      deniedActions: ["sso:DescribePermissionSet"],
    });
    // The caches run on the test's clock, so a test can let a cached session duration age.
    running = await startTestWorker(db, world, { directory: new Directory({ now: world.clock.nowMs }) });
  });
  afterEach(async () => {
    await running.stop();
    await world.stop();
  });

  const grantRow = async (id: string) => (await db("grants").where({ id }).first()) as GrantRow;
  const statusIs =
    (id: string, ...statuses: string[]) =>
    async () =>
      statuses.includes((await grantRow(id)).status) && (await grantRow(id));
  const state = async () => ({ grants: await db("grants").select("id", "status", "last_error"), assignments: world.ic.assignments() });
  const calls = (operation: string) => world.ic.calls.filter((call) => call.operation === operation);

  it("records the permission set's session duration before the create, and says when access truly ends", async () => {
    world.ic.setSessionDuration(INSTANCE_ARN, world.admin, "PT8H");
    const id = await approveGrant(db, world, { permissionSetRef: "AdministratorAccess" });
    const active = await eventually(statusIs(id, "active"), state);

    expect(active.session_duration_seconds).toBe(8 * 3600);
    const describe = world.ic.calls.findIndex(
      (call) => call.operation === "DescribePermissionSet" && call.input.PermissionSetArn === world.admin,
    );
    const create = world.ic.calls.findIndex((call) => call.operation === "CreateAccountAssignment");
    expect(describe).toBeGreaterThanOrEqual(0);
    expect(describe).toBeLessThan(create);
    const planned = new Date(active.expires_at.getTime() + 8 * HOUR);
    expect((await grantForApi(db, id))!.access_ends_by).toEqual(planned);
    expect(renderGrantsComment([active])).toContain(
      `**active** until ${utc(active.expires_at)}; sessions opened before then can last until ${utc(planned)} (the permission set's session duration is 8h)`,
    );

    world.clock.advance(HOUR);
    running.worker.wake();
    const revoked = await eventually(statusIs(id, "revoked"), state);
    const truly = new Date(revoked.ended_at!.getTime() + 8 * HOUR);
    expect((await grantForApi(db, id))!.access_ends_by).toEqual(truly);
    expect(renderGrantsComment([revoked])).toContain(
      `revoked at ${utc(revoked.ended_at!)}; sessions opened before ${utc(revoked.ended_at!)} can last until ${utc(truly)} (the permission set's session duration is 8h)`,
    );
  });

  it("takes AWS's default of one hour for a permission set created without a session duration", async () => {
    const id = await approveGrant(db, world);
    const active = await eventually(statusIs(id, "active"), state);
    expect(active.session_duration_seconds).toBe(3600);
  });

  it("refuses a permission set whose sessions outlast the rule's max_session_duration, before creating anything", async () => {
    world.ic.setSessionDuration(INSTANCE_ARN, world.admin, "PT8H");
    const id = await approveGrant(db, world, { policy: CAPPED_POLICY, permissionSetRef: "AdministratorAccess" });
    const failed = await eventually(statusIs(id, "failed"), state);
    expect(failed.failure_reason).toBe(
      'permission set "AdministratorAccess" has a session duration of 8h in Identity Center, longer than the 1h its policy rule allows (max_session_duration): a session opened during the grant could last 8h after it ends; nothing was assigned. Ask for a permission set whose session duration is 1h or less, or ask an Identity Center admin to shorten this one\'s',
    );
    expect(calls("CreateAccountAssignment")).toEqual([]);
    expect(world.ic.assignments()).toEqual([]);
    expect((await grantForApi(db, id))!.access_ends_by).toBeNull();
  });

  it("provisions a permission set within the cap, and keeps the cap for later creates", async () => {
    const id = await approveGrant(db, world, { policy: CAPPED_POLICY });
    const active = await eventually(statusIs(id, "active"), state);
    expect([active.session_duration_seconds, active.max_session_seconds]).toEqual([3600, 3600]);
  });

  it("fails closed when the tenant role may not read the session duration: nothing is assigned, and the grant says why", async () => {
    // Named by ARN, so no name lookup (which needs the same permission) fails first.
    const id = await approveGrant(db, world, {
      permissionSetRef: world.readOnly,
      aws: { roleArn: NARROW_ROLE, region: "us-east-1", instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID },
    });
    const failed = await eventually(statusIs(id, "failed"), state);
    expect(failed.failure_reason).toBe(
      `jitsudo could not read the session duration of permission set "${world.readOnly}": AWS refused jitsudo sso:DescribePermissionSet (AccessDeniedException), which the tenant role needs (ask the platform team); nothing was assigned, since it could not say when access would really end`,
    );
    expect(calls("CreateAccountAssignment")).toEqual([]);
  });

  it("reads each permission set's session duration once for a wave of grants", async () => {
    // Named by ARN under a "*" rule: nothing else asks DescribePermissionSet.
    const ids = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        approveGrant(db, world, { permissionSetRef: world.admin, principal: "alice@example.com", prNumber: 20 + index }),
      ),
    );
    for (const id of ids) await eventually(statusIs(id, "active", "expired"), state);
    expect(calls("DescribePermissionSet").map((call) => call.input.PermissionSetArn)).toEqual([world.admin]);
  });

  it("checks again before drift re-creates a deleted assignment, refusing a session duration raised past the cap", async () => {
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: ACCESS_REPOSITORY_ID,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: CAPPED_POLICY,
      readAt: new Date(),
    });
    const id = await approveGrant(db, world, { policy: CAPPED_POLICY });
    await eventually(statusIs(id, "active"), state);
    // An admin lengthens the sessions, and the assignment disappears outside jitsudo.
    world.ic.setSessionDuration(INSTANCE_ARN, world.readOnly, "PT12H");
    world.clock.advance(6 * 60_000);
    expect(
      world.ic.deleteAssignmentOutOfBand({
        instanceArn: INSTANCE_ARN,
        accountId: PRODUCTION,
        permissionSetArn: world.readOnly,
        principalType: "USER",
        principalId: world.users.alice,
      }),
    ).toBe(true);

    await running.worker.drift.runOnce();
    const ended = await eventually(statusIs(id, "revoked", "failed"), state);
    expect(ended.failure_reason).toContain(
      'permission set "ReadOnlyAccess" has a session duration of 12h in Identity Center, longer than the 1h',
    );
    expect(calls("CreateAccountAssignment")).toHaveLength(1);
    expect(world.ic.assignments()).toEqual([]);
  });
});
