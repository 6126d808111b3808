/**
 * Merges whose webhook never arrived: the catch-up scan finds them through GitHub's API (the real
 * Probot client, GitHub intercepted at HTTP) and puts them into the webhook inbox, where they are
 * judged as the webhook would have been.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { catchUpMerges, type CatchUpOptions } from "../../src/jobs/catch-up.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { REPO, seed } from "../support/merge-world.js";

const NOON = new Date("2026-11-25T12:00:00Z");
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe("catch-up scan for lost merge webhooks", () => {
  let db: Knex;
  let harness: Harness;
  let options: CatchUpOptions;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    options = { db, now: () => NOON, log: silent, accessRepositories: ["codertocat/hello-world"] };
  });
  afterEach(async () => {
    await harness.stop();
  });

  const grantStatuses = async () => (await db("grants").pluck("status")) as string[];
  const comment = (number: number) => harness.github.repo.conversation.commentsOn(number)[0]?.body ?? "";

  it("turns an approved merge whose webhook was never delivered into a grant, reported on the PR", async () => {
    const world = seed(harness.github);
    const scans = await catchUpMerges(harness.probot, options);
    expect(scans).toEqual([{ repo: "Codertocat/Hello-World", found: [{ number: world.number, outcome: "queued" }], complete: true }]);
    await harness.settle();

    expect(await grantStatuses()).toEqual(["approved"]);
    expect(await db("merge_verdicts").select("pr_number", "merge_commit_sha", "verdict")).toEqual([
      { pr_number: world.number, merge_commit_sha: world.merge, verdict: "approved" },
    ]);
    expect(comment(world.number)).toContain("### jitsudo: access approved :white_check_mark:");
    const cursor = await db("merge_scan_cursors").first();
    expect([cursor.tenant, cursor.repo, cursor.scanned_until.toISOString()]).toEqual(["1", "Codertocat/Hello-World", NOON.toISOString()]);
  });

  it("leaves merges that have a verdict alone, without reading them again", async () => {
    await harness.deliver("pull_request", seed(harness.github).closed);
    harness.github.calls.length = 0;

    const scans = await catchUpMerges(harness.probot, options);
    expect(scans[0]!.found).toEqual([]);
    expect(harness.github.callLines().filter((line) => line.startsWith(`GET ${REPO}/`))).toEqual([
      `GET ${REPO}/pulls?state=closed&sort=updated&direction=desc&per_page=100`,
    ]);
    expect(await db("grants").count({ n: "*" })).toEqual([{ n: "1" }]);
  });

  it("judges a lost merge exactly like the webhook: a refusal is recorded and explained, nothing granted", async () => {
    const world = seed(harness.github, { reviews: [] });
    await catchUpMerges(harness.probot, options);
    await harness.settle();
    expect(await grantStatuses()).toEqual([]);
    expect(await db("merge_verdicts").pluck("verdict")).toEqual(["rejected"]);
    expect(comment(world.number)).toContain("needs 1 code-owner approval, has 0");
  });

  it("never turns merges from before the first scan's look-back window into access", async () => {
    // Merged at 10:00, before the hour the first scan looks back from noon.
    seed(harness.github, { mergedAt: "2026-11-25T10:00:00Z" });
    const scans = await catchUpMerges(harness.probot, options);
    expect(scans[0]!.found).toEqual([]);
    expect(await grantStatuses()).toEqual([]);
  });

  it("reads back to its cursor on later scans, so a merge lost during a long outage is still found", async () => {
    await db("merge_scan_cursors").insert({ tenant: 1, repo: "Codertocat/Hello-World", scanned_until: new Date("2026-11-25T06:00:00Z") });
    const world = seed(harness.github, { mergedAt: "2026-11-25T10:00:00Z" });
    const scans = await catchUpMerges(harness.probot, options);
    expect(scans[0]!.found).toEqual([{ number: world.number, outcome: "queued" }]);
    await harness.settle();
    expect(await grantStatuses()).toEqual(["approved"]);
  });

  it("retries a merge that could not be judged from the inbox until it is, and queues it once however often it is found", async () => {
    const world = seed(harness.github);
    harness.github.failures.push({ method: "GET", path: new RegExp(`/pulls/${world.number}/reviews$`), status: 502 });
    expect((await catchUpMerges(harness.probot, options))[0]!.found).toEqual([{ number: world.number, outcome: "queued" }]);
    await harness.settle();
    expect(await db("merge_verdicts").first()).toBeUndefined();
    const [delivery] = await db("webhook_inbox").select("status", "attempts", "last_error");
    expect([delivery.status, delivery.attempts]).toEqual(["pending", 1]);
    expect(delivery.last_error).toMatch(/^HttpError: injected failure/);

    // Found again by the next scan while it waits: the same entry, not a second one.
    await db("merge_scan_cursors").delete();
    expect((await catchUpMerges(harness.probot, options))[0]!.found).toEqual([{ number: world.number, outcome: "already-queued" }]);

    harness.github.failures.length = 0;
    await harness.settle({ retriesNow: true });
    expect(await grantStatuses()).toEqual(["approved"]);
    expect(await db("webhook_inbox").pluck("status")).toEqual(["done"]);
  });
});
