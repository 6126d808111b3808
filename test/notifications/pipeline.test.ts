/**
 * Notifications through the real pipeline: a pull request validated and merged through Probot's
 * webhook pipeline, the grant provisioned and revoked by the worker in the local Identity Center,
 * and the outbox delivered to a local Slack and a local signed-webhook receiver.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { Scheduler } from "../../src/jobs/scheduler.js";
import { NotificationDispatcher } from "../../src/notifications/dispatcher.js";
import { SlackSender } from "../../src/notifications/slack.js";
import { WebhookSender } from "../../src/notifications/webhook.js";
import { counterValue, Metrics } from "../../src/observability/metrics.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { eventually, startAwsWorld, startTestWorker, type AwsWorld, type RunningWorker } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { BRANCH, CODEOWNERS, FILE, POLICY, REQUEST } from "../support/merge-world.js";
import { LocalSlack, LocalWebhookReceiver } from "./local-receivers.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const SLACK_TOKEN = "xoxb-test-token-do-not-log";
const SECRET = "test-webhook-secret-0123456789";

describe("notifications through the pipeline", () => {
  let db: Knex;
  let aws: AwsWorld;
  let harness: Harness;
  let running: RunningWorker;
  let slack: LocalSlack;
  let receiver: LocalWebhookReceiver;
  let scheduler: Scheduler;
  let metrics: Metrics;

  beforeEach(async () => {
    ({ db } = await freshDatabase());
    aws = await startAwsWorld();
    harness = await startHarness({ db, now: aws.clock.now });
    running = await startTestWorker(db, aws);
    slack = await new LocalSlack(SLACK_TOKEN).start();
    receiver = await new LocalWebhookReceiver(SECRET).start();
    metrics = new Metrics();
    const dispatcher = new NotificationDispatcher({
      db,
      log: silent,
      metrics,
      senders: [
        new SlackSender({ token: SLACK_TOKEN, apiUrl: slack.apiUrl, log: silent }),
        new WebhookSender({ secret: SECRET, allowLoopback: true }),
      ],
      webBaseUrl: "https://github.com",
      settings: { pollMs: 50, retryBaseMs: 100, retryMaxMs: 400 },
    });
    scheduler = new Scheduler({ log: silent });
    scheduler.add(dispatcher.job());
  });
  afterEach(async () => {
    await scheduler.stop();
    await running.stop();
    await harness.stop();
    await aws.stop();
    await slack.stop();
    await receiver.stop();
  });

  const grant = async () => (await db("grants").first()) as GrantRow | undefined;
  const state = async () => ({
    grant: await grant(),
    outbox: await db("notification_outbox").select("id", "type", "routed_at"),
    deliveries: await db("notification_deliveries").select("id", "channel", "state", "attempts", "last_error"),
    slack: slack.messages,
    webhook: receiver.received.map((body) => body.type),
  });

  /** The access repository with notifications on both channels; a PR adding a request, validated, approved and merged. */
  async function mergeRequest(): Promise<{ number: number; mergedAt: number }> {
    const repo = harness.github.repo;
    for (const login of ["bob", "alice"]) repo.setPermission(login, "write");
    harness.github.grantTeam("acme", "platform", repo, "write");
    const policy = `${POLICY}notifications:\n  slack:\n    channel: "#access"\n  webhooks:\n    - url: ${receiver.url}\n`;
    repo.commit("main", { files: { ".github/jitsudo.yml": policy, ".github/CODEOWNERS": CODEOWNERS }, author: "Codertocat" });
    repo.createBranch(BRANCH, "main", "alice");
    repo.commit(BRANCH, { files: { [FILE]: REQUEST }, author: "alice", pusher: "alice" });
    const number = repo.openPull({ head: BRANCH, base: "main", author: "alice", title: "Access for the latency alarms" });
    expect(await harness.deliverLatest("pull_request.opened")).toBe(200);
    repo.review(number, "bob", "APPROVED");
    harness.github.clock.set(aws.clock.now().toISOString());
    const merged = repo.merge(number, { method: "merge", by: "bob" });
    const mergedAt = Date.now();
    expect(await harness.deliver("pull_request", merged.closed)).toBe(200);
    return { number, mergedAt };
  }

  /** Merge to active, then expiry to revoked; returns how long merge-to-active took (ms). */
  async function grantLifecycle(): Promise<{ number: number; toActiveMs: number }> {
    const { number, mergedAt } = await mergeRequest();
    await eventually(async () => (await grant())?.status === "active", state);
    const toActiveMs = Date.now() - mergedAt;
    aws.clock.advance(2 * 3_600_000);
    running.worker.wake();
    await eventually(async () => (await grant())?.status === "revoked", state);
    return { number, toActiveMs };
  }

  const grantTypes = ["grant.approved", "grant.active", "grant.revoked"];

  async function expectEverythingDelivered(number: number): Promise<void> {
    await eventually(() => receiver.unique.length === 4 && slack.messages.length >= 4, state, 20_000);
    const unique = receiver.unique;
    expect(unique.map((body) => body.type).sort()).toEqual(["request.waiting", ...grantTypes].sort());
    // In order per grant: approved, then active, then revoked.
    expect(unique.filter((body) => body.grant).map((body) => body.type)).toEqual(grantTypes);
    for (const body of unique)
      expect(body.pull_request).toEqual({ number, url: `https://github.com/Codertocat/Hello-World/pull/${number}` });
    expect(unique.find((body) => body.type === "request.waiting")!.requests![0]!.approvers).toEqual(["@bob", "@acme/platform"]);
    expect(receiver.badSignatures).toEqual([]);
    // Slack: each event once per grant change (a repeat could only follow a lost answer), in the same order.
    const slackTexts = [...new Set(slack.messages.map((message) => message.text))];
    expect(slackTexts).toHaveLength(4);
    const order = ["Access approved", "Access active", "Access revoked"].map((start) =>
      slackTexts.findIndex((text) => text.includes(start)),
    );
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(slack.messages.every((message) => message.channel === "#access")).toBe(true);
    expect(slackTexts.find((text) => text.includes("Access active"))).toContain(
      `<https://github.com/Codertocat/Hello-World/pull/${number}|`,
    );
    await eventually(async () => (await db("notification_deliveries").whereNot({ state: "delivered" })).length === 0, state);
  }

  it("tells both channels, once per grant change and in order: waiting, approved, active, revoked", async () => {
    const { number, toActiveMs } = await grantLifecycle();
    await expectEverythingDelivered(number);
    // The counter moves just after the row is marked delivered (another await), so wait for it too.
    const delivered = (channel: string) => counterValue(metrics.notificationDeliveries, { channel, outcome: "delivered" });
    await eventually(async () => (await delivered("webhook")) >= 4 && (await delivered("slack")) >= 4, state);
    expect(await delivered("webhook")).toBe(4);
    expect(await delivered("slack")).toBe(4);
    console.log(`merge-to-active with receivers up: ${toActiveMs} ms`);
  });

  it("loses nothing and keeps order while the receivers are down, and provisioning does not wait for them", async () => {
    await slack.setMode("error");
    await receiver.setMode("refused");
    const { number, toActiveMs } = await grantLifecycle();
    console.log(`merge-to-active with receivers down: ${toActiveMs} ms`);
    // Provisioning took no longer than it does with everything up (a few hundred ms in the simulator).
    expect(toActiveMs).toBeLessThan(5_000);
    await eventually(async () => (await db("notification_deliveries").where("attempts", ">", 1)).length > 0, state);
    expect(receiver.received).toEqual([]);
    expect(slack.messages).toEqual([]);
    expect(await counterValue(metrics.notificationDeliveries, { outcome: "failed" })).toBeGreaterThan(0);
    const pending = await db("notification_deliveries").where({ state: "pending" });
    expect(pending.length).toBeGreaterThan(0);

    // The webhook receiver comes back answering 500 first, then well; Slack comes back.
    await receiver.setMode("error");
    await slack.setMode("up");
    await new Promise((resolve) => setTimeout(resolve, 500));
    await receiver.setMode("up");
    await expectEverythingDelivered(number);
  });
});
