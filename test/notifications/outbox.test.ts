/**
 * The outbox against real PostgreSQL: every notifying grant event gets its row in the transaction
 * that wrote it (whatever wrote it), channels are independent, order is kept per grant and channel,
 * leases lapse, and a delivery that keeps failing ends dead.
 */
import type { Knex } from "knex";
import { beforeEach, describe, expect, it } from "vitest";
import { recordTenantConfig } from "../../src/config/tenant-snapshots.js";
import { noteTenantEvent, recordMerge } from "../../src/grants/grant-repository.js";
import { NotificationDispatcher } from "../../src/notifications/dispatcher.js";
import { notificationTypeOf, type NotificationBody } from "../../src/notifications/events.js";
import { claimDeliveries, outboxGauges, routeOutbox } from "../../src/notifications/outbox.js";
import type { NotificationSender, SendResult } from "../../src/notifications/sender.js";
import type { ChannelKind } from "../../src/notifications/channels.js";
import { counterValue, Metrics } from "../../src/observability/metrics.js";
import { approveGrant, startAwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { policyYaml } from "../support/policy-fixtures.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

class FakeSender implements NotificationSender {
  up = true;
  readonly sent: NotificationBody[] = [];
  constructor(readonly kind: ChannelKind) {}
  send(_target: string, body: NotificationBody): Promise<SendResult> {
    if (!this.up) return Promise.resolve({ ok: false, error: `${this.kind}: HTTP 503` });
    this.sent.push(body);
    return Promise.resolve({ ok: true });
  }
}

const CONFIG = `${policyYaml()}notifications:\n  slack:\n    channel: "#access"\n  webhooks:\n    - url: https://hooks.example.com/jitsudo\n`;
const world = { clock: { now: () => new Date() } } as Parameters<typeof approveGrant>[1];

describe("notification outbox", () => {
  let db: Knex;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      commitSha: "c".repeat(40),
      content: CONFIG,
      readAt: new Date(),
    });
  });

  const outboxTypes = async () => (await db("notification_outbox").orderBy("id").select("type")).map((row: { type: string }) => row.type);

  it("gets a row for every notifying event in the event's own transaction, whoever wrote it", async () => {
    await approveGrant(db, world);
    // A refused merge: recordRefusal's own insert.
    await recordMerge(db, {
      tenant: 1,
      repositoryId: 424242,
      repo: "acme/access",
      prNumber: 9,
      mergeCommitSha: "d".repeat(40),
      mergedAt: new Date(),
      verdict: "rejected",
      reasons: ["not approved by a code owner"],
      actor: "jitsudo",
      details: {},
      grants: [],
      revokedPaths: [],
    });
    await noteTenantEvent(
      db,
      { tenant: 1, repositoryId: 424242, repo: "acme/access" },
      { type: "drift_unexpected", actor: "jitsudo", reason: "<!channel> found" },
    );
    const [grant] = await db("grants").select("id");
    const base = { tenant: 1, repository_id: 424242, repo: "acme/access", pr_number: 7, grant_id: grant.id, actor: "jitsudo", reason: "r" };
    // Types other engineers add, written however they write them.
    for (const type of ["expiry_reminder", "break_glass", "break_glass_review_due", "revoke_failed"])
      await db("grant_events").insert({ ...base, type, from_status: "approved", to_status: "approved" });
    // A rolled-back change leaves no notification behind.
    await db
      .transaction(async (trx) => {
        await trx("grant_events").insert({ ...base, type: "rejected" });
        await trx.rollback();
      })
      .catch(() => undefined);

    expect(await outboxTypes()).toEqual([
      "approved",
      "rejected",
      "drift_unexpected",
      "expiry_reminder",
      "break_glass",
      "break_glass_review_due",
    ]);
    const rows = await db("notification_outbox").orderBy("id");
    // The trigger's condition and the mapping agree: every row is a notification...
    expect(
      rows.map((row: { type: string; from_status: string | null; to_status: string | null }) =>
        notificationTypeOf({ type: row.type, fromStatus: row.from_status, toStatus: row.to_status }),
      ),
    ).toEqual(["grant.approved", "merge.rejected", "drift.unexpected", "grant.expiring", "break_glass.used", "break_glass.review_due"]);
    // ...and the note that was not notified is none.
    expect(notificationTypeOf({ type: "revoke_failed", fromStatus: "revoking", toStatus: "revoking" })).toBeUndefined();
    expect(rows[0].payload.grant.reason).toBe("Investigate the latency alarms");
    // grant_events is still append-only.
    await expect(db("grant_events").update({ reason: "x" })).rejects.toThrow(/append-only/);
  });

  it("keeps channels independent and order per grant and channel while one channel is down", async () => {
    const slack = new FakeSender("slack");
    const webhook = new FakeSender("webhook");
    const metrics = new Metrics();
    const dispatcher = new NotificationDispatcher({
      db,
      log: silent,
      metrics,
      senders: [slack, webhook],
      webBaseUrl: "https://github.com",
      settings: { retryBaseMs: 1, retryMaxMs: 1 },
    });
    slack.up = false;
    const first = await approveGrant(db, world);
    const second = await approveGrant(db, world, { prNumber: 8 });
    for (const id of [first, second])
      for (const [from, to] of [
        ["approved", "provisioning"],
        ["provisioning", "active"],
        ["active", "revoking"],
        ["revoking", "revoked"],
      ])
        await db("grant_events").insert({
          tenant: 1,
          repository_id: 424242,
          repo: "acme/access",
          pr_number: 7,
          grant_id: id,
          type: to,
          from_status: from,
          to_status: to,
          actor: "jitsudo",
          reason: "r",
        });

    for (let i = 0; i < 5; i++) await dispatcher.runOnce();
    expect(webhook.sent.map((body) => `${body.grant!.id === first ? 1 : 2}:${body.type}`).sort()).toEqual(
      ["grant.approved", "grant.active", "grant.revoked"].flatMap((type) => [`1:${type}`, `2:${type}`]).sort(),
    );
    expect(slack.sent).toEqual([]);
    // Slack's first event of each grant was tried; the later ones wait behind it, untried.
    const slackRows = await db("notification_deliveries").where({ kind: "slack" }).orderBy("id");
    expect(slackRows.map((row: { attempts: number }) => row.attempts > 0)).toEqual([true, true, false, false, false, false]);
    const gauges = await outboxGauges(db);
    expect(gauges.pending.get("slack")).toBe(6);
    expect(gauges.pending.get("webhook")).toBe(0);

    slack.up = true;
    for (let i = 0; i < 5; i++) await dispatcher.runOnce();
    for (const id of [first, second])
      expect(slack.sent.filter((body) => body.grant!.id === id).map((body) => body.type)).toEqual([
        "grant.approved",
        "grant.active",
        "grant.revoked",
      ]);
    expect(await counterValue(metrics.notificationDeliveries, { channel: "slack", outcome: "delivered" })).toBe(6);
  });

  it("lets another replica take a delivery whose lease lapsed, and gives up one failing for too long", async () => {
    await approveGrant(db, world);
    await routeOutbox(db, (_row, config) => config.channels);
    const kinds = ["webhook"] as const;
    expect(await claimDeliveries(db, "crashed", { limit: 10, leaseMs: 200, kinds })).toHaveLength(1);
    expect(await claimDeliveries(db, "other", { limit: 10, leaseMs: 200, kinds })).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await claimDeliveries(db, "other", { limit: 10, leaseMs: 0, kinds })).toHaveLength(1);

    const webhook = new FakeSender("webhook");
    webhook.up = false;
    const metrics = new Metrics();
    const dispatcher = new NotificationDispatcher({
      db,
      log: silent,
      metrics,
      senders: [webhook],
      webBaseUrl: "https://github.com",
      settings: { retryBaseMs: 1, retryMaxMs: 1, deadAfterMs: 300 },
    });
    await dispatcher.runOnce();
    expect((await db("notification_deliveries").where({ kind: "webhook" }).first()).state).toBe("pending");
    await new Promise((resolve) => setTimeout(resolve, 350));
    await dispatcher.runOnce();
    const dead = await db("notification_deliveries").where({ kind: "webhook" }).first();
    expect(dead).toMatchObject({ state: "dead", last_error: "webhook: HTTP 503" });
    expect(await counterValue(metrics.notificationDeliveries, { channel: "webhook", outcome: "dead" })).toBe(1);
    expect((await outboxGauges(db)).dead.get("webhook")).toBe(1);
  });

  it("waits for a tenant's config when none was seen yet, then routes through it", async () => {
    const sender = new FakeSender("webhook");
    const dispatcher = new NotificationDispatcher({
      db,
      log: silent,
      metrics: new Metrics(),
      senders: [sender],
      webBaseUrl: "https://github.com",
    });
    await approveGrant(db, world, { repositoryId: 515151 });
    await dispatcher.runOnce();
    expect(await db("notification_outbox").whereNull("routed_at")).toHaveLength(1);
    await recordTenantConfig(db, {
      tenant: 1,
      repositoryId: 515151,
      repo: "acme/other",
      commitSha: "e".repeat(40),
      content: CONFIG,
      readAt: new Date(),
    });
    await dispatcher.runOnce();
    expect(sender.sent.map((body) => body.type)).toEqual(["grant.approved"]);
  });
});
void startAwsWorld;
