/**
 * Extending a grant through the whole pipeline: merged pull requests arrive as signed webhooks,
 * the worker provisions and revokes against the local Identity Center over HTTP, and "no gap" is
 * judged by the simulator's own record of when the assignment existed and which calls it got.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PullRequestReporter } from "../../src/github/grant-comments.js";
import { installationGateways } from "../../src/github/installation-gateway.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { EXTENSION_WAIT_MS } from "../../src/grants/extension.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import {
  eventually,
  INSTANCE_ARN,
  PRODUCTION,
  STAGING,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { FILE, REQUEST, seed, seedFollowUp, type SeededMerge } from "../support/merge-world.js";
import { requestYaml } from "../support/policy-fixtures.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("extending a grant", () => {
  let db: Knex;
  let aws: AwsWorld;
  let harness: Harness;
  let running: RunningWorker | undefined;
  let reporter: PullRequestReporter;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    aws = await startAwsWorld();
    harness = await startHarness({ db, now: aws.clock.now });
    reporter = new PullRequestReporter({ db, gatewayFor: installationGateways(harness.probot), log: silent, coalesceMs: 10 });
    running = await startTestWorker(db, aws, { reporter });
  });
  afterEach(async () => {
    await running?.stop();
    await harness.stop();
    await aws.stop();
  });

  const production = () => ({
    instanceArn: INSTANCE_ARN,
    accountId: PRODUCTION,
    permissionSetArn: aws.readOnly,
    principalType: "USER" as const,
    principalId: aws.users.alice,
  });
  const grantOf = async (pr: number) => (await db("grants").where({ pr_number: pr }).first()) as GrantRow | undefined;
  const statusOf = async (pr: number) => (await grantOf(pr))?.status;
  const calls = (operation: string) => aws.ic.calls.filter((call) => call.operation === operation);
  const eventTypes = async (pr: number) =>
    (await db("grant_events").where({ pr_number: pr }).orderBy("id").select("type", "from_status", "to_status")).map(
      (event: { type: string; from_status: string | null; to_status: string | null }) =>
        `${event.type}:${event.from_status}→${event.to_status}`,
    );
  const sticky = (pr: number) => harness.github.repo.conversation.commentsOn(pr)[0]?.body ?? "";
  const state = async () => ({
    grants: await db("grants").select("pr_number", "status", "superseded_by", "extends_grant_id", "expires_at", "last_error"),
    existence: aws.ic.existence(production()),
    calls: aws.ic.calls.filter((call) => call.service === "sso-admin").map((call) => [call.operation, call.outcome]),
  });
  const until = (pr: number, status: string) => eventually(async () => (await statusOf(pr)) === status, state);

  /** alice's first request (2h), merged and active. */
  async function activeFirst(): Promise<SeededMerge> {
    const first = seed(harness.github);
    expect(await harness.deliver("pull_request", first.closed)).toBe(200);
    await until(first.number, "active");
    return first;
  }

  /** An approved follow-up that edits the request file. */
  async function followUp(content: string): Promise<SeededMerge> {
    const later = seedFollowUp(harness.github, { changes: { [FILE]: content }, reviews: [{ login: "bob", state: "APPROVED" }] });
    expect(await harness.deliver("pull_request", later.closed)).toBe(200);
    return later;
  }

  it("carries the assignment over without a gap, and removes it only at the extension's own end", async () => {
    const first = await activeFirst();
    aws.clock.advance(90 * MINUTE);
    const later = await followUp(REQUEST.replace("2h", "4h"));
    await until(later.number, "active");

    const [old, extension] = [(await grantOf(first.number))!, (await grantOf(later.number))!];
    expect([old.status, old.superseded_by, extension.extends_grant_id]).toEqual(["expired", extension.id, old.id]);
    expect(await eventTypes(first.number)).toEqual([
      "approved:null→approved",
      "provisioning:approved→provisioning",
      "active:provisioning→active",
      "superseded:active→active",
      "extended:active→expired",
    ]);
    // The simulator's own record: one interval, still open; AWS was asked to create twice, to delete never.
    expect(aws.ic.existence(production())).toEqual([{ from: expect.any(Number) }]);
    expect(calls("CreateAccountAssignment").map((call) => call.outcome)).toEqual(["ok", "ok"]);
    expect(calls("DeleteAccountAssignment")).toEqual([]);

    await reporter.flush();
    expect(sticky(first.number)).toContain(`extended by #${later.number} without interruption`);
    expect(sticky(first.number)).toContain("the assignment stayed in place");
    expect(sticky(later.number)).toContain(`extends #${first.number}'s grant; the assignment stayed in place`);

    // The old grant's own expiry passes: nothing happens to the assignment.
    aws.clock.advance(31 * MINUTE);
    running!.worker.wake();
    const cycles = running!.worker.cycleCount;
    await eventually(() => running!.worker.cycleCount > cycles + 1, state);
    expect(calls("DeleteAccountAssignment")).toEqual([]);
    expect(await statusOf(later.number)).toBe("active");

    // The extension's end: the one delete, at or after it, and the interval closes then.
    aws.clock.advance(4 * HOUR);
    running!.worker.wake();
    const revoked = await until(later.number, "revoked").then(() => grantOf(later.number));
    const deletes = calls("DeleteAccountAssignment");
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.at).toBeGreaterThanOrEqual(revoked!.expires_at.getTime());
    const [interval, ...more] = aws.ic.existence(production());
    expect(more).toEqual([]);
    expect(interval!.from).toBeLessThanOrEqual(old.active_at!.getTime());
    expect(interval!.to).toBeGreaterThanOrEqual(revoked!.expires_at.getTime());
  });

  it("keeps the assignment when the old grant expires while its extension is still on its way", async () => {
    const first = await activeFirst();
    // No worker while the extension is merged and the old grant's expiry passes.
    await running!.stop();
    running = undefined;
    const later = await followUp(REQUEST.replace("2h", "4h"));
    expect(await statusOf(later.number)).toBe("approved");
    aws.clock.advance(2 * HOUR + MINUTE);

    running = await startTestWorker(db, aws, { reporter });
    await until(later.number, "active");
    const old = (await grantOf(first.number))!;
    expect(old.status).toBe("expired");
    // The extension took over after the old grant's expiry had passed: its removal waited.
    expect((await grantOf(later.number))!.active_at!.getTime()).toBeGreaterThan(old.expires_at.getTime());
    expect(calls("DeleteAccountAssignment")).toEqual([]);
    expect(aws.ic.existence(production())).toEqual([{ from: expect.any(Number) }]);
    expect(await eventTypes(first.number)).toEqual([
      "approved:null→approved",
      "provisioning:approved→provisioning",
      "active:provisioning→active",
      "superseded:active→active",
      "extended:active→expired",
    ]);
  });

  it("removes the old grant's assignment at its expiry as usual when the extension fails", async () => {
    const first = await activeFirst();
    await running!.stop();
    running = undefined;
    const later = await followUp(REQUEST.replace("2h", "4h"));
    aws.clock.advance(2 * HOUR + MINUTE);
    // AWS will refuse the extension's create: the account was suspended meanwhile.
    aws.ic.setAccountStatus(PRODUCTION, "SUSPENDED");

    running = await startTestWorker(db, aws, { reporter });
    await until(later.number, "failed");
    const revoked = await until(first.number, "revoked").then(() => grantOf(first.number));
    const failed = (await grantOf(later.number))!;
    const deletes = calls("DeleteAccountAssignment");
    expect(deletes).toHaveLength(1);
    // It waited for the extension's outcome, then deleted.
    expect(deletes[0]!.at).toBeGreaterThanOrEqual(failed.ended_at!.getTime());
    expect(aws.ic.assignments()).toEqual([]);
    expect(aws.ic.existence(production())).toEqual([{ from: expect.any(Number), to: expect.any(Number) }]);
    expect(revoked!.superseded_by).toBe(failed.id);
    await reporter.flush();
    expect(sticky(first.number)).toContain("revoked at");
  });

  it("does not wait for an extension past EXTENSION_WAIT_MS after the old grant's expiry", async () => {
    const first = await activeFirst();
    await running!.stop();
    running = undefined;
    const later = await followUp(REQUEST.replace("2h", "4h"));
    aws.clock.advance(2 * HOUR + EXTENSION_WAIT_MS + MINUTE);
    // The extension is held back (its next attempt an hour away, as after repeated errors): still on its way.
    await db("grants")
      .where({ pr_number: later.number })
      .update({ next_attempt_at: new Date(aws.clock.nowMs() + HOUR) });

    running = await startTestWorker(db, aws, { reporter });
    await until(first.number, "revoked");
    expect(await statusOf(later.number)).toBe("approved");
    expect(calls("DeleteAccountAssignment")).toHaveLength(1);
  });

  it("replaces the grant as before when the edit asks for another account", async () => {
    const first = await activeFirst();
    const later = await followUp(requestYaml({ account: STAGING }));
    await until(later.number, "active");
    await until(first.number, "revoked");
    expect((await grantOf(later.number))!.extends_grant_id).toBeNull();
    expect(await eventTypes(first.number)).toContain("superseded:active→revoking");
    const [production_] = aws.ic.existence(production());
    expect(production_!.to).toEqual(expect.any(Number));
    expect(aws.ic.assignments().map((assignment) => assignment.accountId)).toEqual([STAGING]);
  });
});
