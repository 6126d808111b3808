/**
 * Expiry reminders through the pipeline: a merged request's grant, active in the local Identity
 * Center, is reminded `remind_before` (default 10m) before it expires: one grant event for the
 * channels, one PR comment mentioning the requester, whatever the number of workers, and not lost
 * when GitHub is down at that moment.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { installationGateways } from "../../src/github/installation-gateway.js";
import { utc } from "../../src/github/markdown.js";
import { GitHubReminderPoster } from "../../src/github/reminder-comments.js";
import type { GrantRow } from "../../src/grants/grant-repository.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { eventually, startAwsWorld, startTestWorker, type AwsWorld, type RunningWorker } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";
import { FILE, REQUEST, seed, seedFollowUp } from "../support/merge-world.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe("expiry reminders", () => {
  let db: Knex;
  let aws: AwsWorld;
  let harness: Harness;
  let workers: RunningWorker[];
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    aws = await startAwsWorld();
    harness = await startHarness({ db, now: aws.clock.now });
    workers = [];
  });
  afterEach(async () => {
    for (const running of workers) await running.stop();
    await harness.stop();
    await aws.stop();
  });

  const startWorker = async () => {
    const running = await startTestWorker(db, aws, {
      reminders: new GitHubReminderPoster({ gatewayFor: installationGateways(harness.probot) }),
      reminderOptions: { leaseMs: 2_000, retryMs: 200 },
    });
    workers.push(running);
    return running;
  };
  const grantOf = async (pr: number) => (await db("grants").where({ pr_number: pr }).first()) as GrantRow;
  const reminders = (pr: number) =>
    harness.github.repo.conversation.commentsOn(pr).filter((comment) => comment.body.includes("jitsudo:reminder"));
  const reminderEvents = () => db("grant_events").where({ type: "expiry_reminder" }).select("*");
  const state = async () => ({
    grants: await db("grants").select("pr_number", "status", "reminded_at", "reminder_comment_sent_at", "remind_before_seconds"),
    events: await reminderEvents(),
  });
  /** Moves the test clock and lets every worker look (a worker sleeps in real time until the next thing due). */
  const advance = async (ms: number) => {
    aws.clock.advance(ms);
    // Twice: a cycle in flight when the clock moved may have read the time before.
    for (let round = 0; round < 2; round++) {
      const seen = workers.map((running) => running.worker.cycleCount);
      for (const running of workers) running.worker.wake();
      await eventually(() => workers.every((running, index) => running.worker.cycleCount > seen[index]!), state);
    }
  };

  async function activeGrant(): Promise<{ number: number; grant: GrantRow }> {
    const first = seed(harness.github);
    expect(await harness.deliver("pull_request", first.closed)).toBe(200);
    const grant = await eventually(
      async () => ((await grantOf(first.number)).status === "active" ? grantOf(first.number) : undefined),
      state,
    );
    return { number: first.number, grant };
  }

  it("reminds once, ten minutes before the end, mentioning the requester and saying how to extend", async () => {
    await startWorker();
    const { number, grant } = await activeGrant();
    expect(grant.remind_before_seconds).toBe(600);

    await advance(2 * HOUR - 11 * MINUTE);
    expect(await reminderEvents()).toEqual([]);
    expect(reminders(number)).toEqual([]);

    await advance(2 * MINUTE);
    await eventually(() => reminders(number).length === 1, state);
    const [event] = await reminderEvents();
    expect([event.grant_id, event.pr_number, event.from_status, event.to_status]).toEqual([grant.id, number, "active", "active"]);
    expect(event.details).toMatchObject({ expires_at: grant.expires_at.toISOString(), file_path: FILE, requester: "alice" });
    const body = reminders(number)[0]!.body;
    expect(body).toContain("@alice");
    expect(body).toContain(utc(grant.expires_at));
    expect(body).toContain(`edits \`duration\` in \`${FILE}\``);

    await advance(MINUTE);
    await workers[0]!.worker.reminders.drain();
    expect(reminders(number)).toHaveLength(1);
    expect(await reminderEvents()).toHaveLength(1);
  });

  it("claims a reminder once across two workers", async () => {
    await startWorker();
    await startWorker();
    const { number } = await activeGrant();
    await advance(2 * HOUR - 9 * MINUTE);
    await eventually(() => reminders(number).length === 1, state);
    await advance(MINUTE);
    await Promise.all(workers.map((running) => running.worker.reminders.drain()));
    expect(reminders(number)).toHaveLength(1);
    expect(await reminderEvents()).toHaveLength(1);
  });

  it("posts the reminder once GitHub answers again, and not twice", async () => {
    await startWorker();
    const { number, grant } = await activeGrant();
    const down = { method: "POST", path: /\/issues\/\d+\/comments$/, status: 503 };
    harness.github.failures.push(down);
    await advance(2 * HOUR - 9 * MINUTE);
    await eventually(async () => (await grantOf(number)).reminded_at !== null, state);
    await workers[0]!.worker.reminders.drain();
    expect(reminders(number)).toEqual([]);
    expect(await reminderEvents()).toHaveLength(1);

    harness.github.failures.splice(harness.github.failures.indexOf(down), 1);
    await eventually(async () => {
      workers[0]!.worker.wake();
      return (await grantOf(number)).reminder_comment_sent_at !== null;
    }, state);
    expect(reminders(number)).toHaveLength(1);
    expect(reminders(number)[0]!.body).toContain(grant.id);
  });

  it("does not remind a grant being extended; its extension is reminded before its own end", async () => {
    await startWorker();
    const { number: firstNumber, grant: first } = await activeGrant();
    // The extension is merged while no worker runs, then the old grant's reminder time comes.
    await workers.pop()!.stop();
    const later = seedFollowUp(harness.github, {
      changes: { [FILE]: REQUEST.replace("2h", "4h") },
      reviews: [{ login: "bob", state: "APPROVED" }],
    });
    expect(await harness.deliver("pull_request", later.closed)).toBe(200);
    aws.clock.advance(2 * HOUR - 9 * MINUTE);
    await startWorker();
    await eventually(async () => (await grantOf(later.number)).status === "active", state);
    await advance(0);
    expect((await grantOf(firstNumber)).status).toBe("expired");
    expect(await reminderEvents()).toEqual([]);

    const extension = await grantOf(later.number);
    await advance(extension.expires_at.getTime() - aws.clock.nowMs() - 9 * MINUTE);
    await eventually(() => reminders(later.number).length === 1, state);
    expect(reminders(firstNumber)).toEqual([]);
    expect((await reminderEvents()).map((event) => event.grant_id)).toEqual([extension.id]);
    expect(first.id).not.toBe(extension.id);
  });
});
