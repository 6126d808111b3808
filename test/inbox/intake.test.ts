/**
 * The webhook door with a database (src/inbox/intake.ts) over HTTP, and the batched inbox writer
 * behind it, against real PostgreSQL: only deliveries signed with the app's secret are stored, as
 * the bytes GitHub sent; every malformed request gets the answer Probot's receiver gives; a burst
 * is written in a few statements, in arrival order; and a database that cannot take a delivery is
 * answered 503 (GitHub records it as failed and the redelivery job asks for it again).
 */
import { createHmac } from "node:crypto";
import { performance } from "node:perf_hooks";
import { request } from "node:http";
import type { Knex } from "knex";
import { afterEach, describe, expect, it } from "vitest";
import { inboxEntryFor } from "../../src/inbox/deliveries.js";
import { InboxWriter } from "../../src/inbox/inbox-writer.js";
import { IntakeActivity, QUIET_MS } from "../../src/inbox/intake-activity.js";
import { deliverWebhook, WEBHOOK_PATH } from "../../src/sandbox/webhooks.js";
import { startHarness, WEBHOOK_SECRET, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { seed } from "../support/merge-world.js";

const sign = (body: string | Buffer, secret = WEBHOOK_SECRET) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A raw request to the webhook path: status and body as the server answered. */
function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = "POST",
): Promise<{ status: number; body: string }> {
  const target = new URL(WEBHOOK_PATH, url);
  return new Promise((resolve, reject) => {
    const sent = request({ host: target.hostname, port: target.port, path: target.pathname, method, headers, agent: false }, (response) => {
      let text = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    // The server may answer (413) and close before the whole body is sent.
    sent.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? undefined : reject(error)));
    sent.end(body);
  });
}

const headersFor = (body: string | Buffer, extra: Record<string, string> = {}) => ({
  "content-type": "application/json",
  "x-github-event": "pull_request",
  "x-github-delivery": "delivery-raw",
  "x-hub-signature-256": sign(body),
  ...extra,
});

describe("the webhook door with a database", () => {
  let harness: Harness | undefined;
  let db: Knex;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });
  const start = async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    return harness;
  };

  it("stores the bytes GitHub signed, byte for byte, and hands the handlers the same payload", async () => {
    const { url, github } = await start();
    const world = seed(github);
    // Key order, spacing and non-ASCII text as GitHub might send them: stored as sent, not re-serialized.
    const body = JSON.stringify(world.closed, null, 1).replace('"action"', '"action" ') + "\n";
    const answer = await post(url, Buffer.from(body), headersFor(body));
    expect(answer.status).toBe(200);
    const stored = (await db.raw<{ rows: { text: string }[] }>("select payload::text as text from webhook_inbox")).rows;
    expect(stored).toEqual([{ text: body }]);
    await harness!.settle();
    expect(await db("merge_verdicts").pluck("verdict")).toEqual(["approved"]);
  });

  it("stores nothing that is not signed with the app's secret, and says why", async () => {
    const { url, github } = await start();
    const body = JSON.stringify(seed(github).closed);
    const forged = await post(url, body, headersFor(body, { "x-hub-signature-256": sign(body, "not-the-secret") }));
    expect(forged).toEqual({ status: 400, body: JSON.stringify({ error: "signature does not match event payload and secret" }) });
    // A valid signature of other bytes: the body was changed on the way.
    const tampered = await post(url, body.replace("Codertocat", "Codertocaz"), headersFor(body));
    expect(tampered.status).toBe(400);
    // Bytes that are not UTF-8 are refused, never decoded into something else than was signed.
    const notUtf8 = Buffer.concat([Buffer.from(body.slice(0, -1)), Buffer.from([0xff, 0x7d])]);
    expect(await post(url, notUtf8, headersFor(notUtf8))).toEqual({
      status: 400,
      body: JSON.stringify({ error: "the payload is not UTF-8" }),
    });
    expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "0" }]);
    // What an unverified request names is not trusted: not a metric label, and it is logged.
    const metrics = (await harness!.metrics.render())
      .split("\n")
      .filter((line) => line.startsWith("jitsudo_webhooks_total"))
      .join("\n");
    // (Every event's failed series starts at 0, so only a count above 0 is something that happened.)
    expect(metrics).toMatch(/jitsudo_webhooks_total\{event="unverified",outcome="failed"\} [1-9]/);
    expect(metrics).not.toMatch(/event="pull_request",outcome="\w+"\} [1-9]/);
    expect(metrics).not.toContain('event="pull_request",outcome="received"');
    expect(harness!.logs.join("")).toContain("webhook refused: not a verified delivery");
  });

  it("answers malformed requests as Probot's receiver does, and stores none of them", async () => {
    const { url } = await start();
    const body = JSON.stringify({ action: "opened", repository: { id: 1 } });
    expect((await post(url, "", {}, "GET")).status).toBe(404);
    expect((await post(url, body, headersFor(body, { "content-type": "text/plain" }))).status).toBe(415);
    const missing = await post(url, body, { "content-type": "application/json", "x-github-event": "pull_request" });
    expect(missing).toEqual({
      status: 400,
      body: JSON.stringify({ error: "Required headers missing: x-hub-signature-256, x-github-delivery" }),
    });
    const notJson = "{not json";
    expect((await post(url, notJson, headersFor(notJson))).status).toBe(400);
    // GitHub caps payloads at 25 MB: a larger body is refused without being kept in memory whole.
    const huge = Buffer.alloc(25 * 1024 * 1024 + 1, 0x20);
    expect((await post(url, huge, headersFor("{}"))).status).toBe(413);
    expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "0" }]);
  });

  it("answers an event jitsudo does not act on without storing it", async () => {
    const { url } = await start();
    expect(await deliverWebhook(url, WEBHOOK_SECRET, "star", { action: "created", repository: { id: 1 } })).toBe(200);
    expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "0" }]);
  });

  it("answers 503 when the database cannot take the delivery, so GitHub records it as failed", async () => {
    const { url, github } = await start();
    const body = JSON.stringify(seed(github).closed);
    await db.raw("alter table webhook_inbox rename to webhook_inbox_away");
    try {
      const answer = await post(url, body, headersFor(body));
      expect(answer).toEqual({ status: 503, body: JSON.stringify({ error: "the delivery could not be stored; it will be redelivered" }) });
      expect(harness!.logs.join("")).toContain("webhook delivery could not be stored in the inbox");
    } finally {
      await db.raw("alter table webhook_inbox_away rename to webhook_inbox");
    }
    expect((await post(url, body, headersFor(body))).status).toBe(200);
  });
});

describe("the inbox writer", () => {
  const entry = (id: string, number: number) =>
    inboxEntryFor({
      id,
      name: "pull_request",
      payload: { action: "synchronize", installation: { id: 7 }, repository: { id: 1 }, pull_request: { number } },
    })!;

  it("writes a burst in a few statements, in arrival order, each answered once committed", async () => {
    const { db } = await freshDatabase();
    let statements = 0;
    db.on("query", (query: { sql: string }) => {
      if (query.sql.includes("insert into webhook_inbox")) statements += 1;
    });
    const writer = new InboxWriter(db);
    const ids = Array.from({ length: 120 }, (_, index) => `burst-${index}`);
    const stored = await Promise.all(ids.map((id, index) => writer.store(entry(id, index % 7))));
    expect(stored.every(Boolean)).toBe(true);
    expect(statements).toBeLessThanOrEqual(4);
    expect(await db("webhook_inbox").orderBy("seq").pluck("delivery_id")).toEqual(ids);
  });

  it("stores a delivery id once, also when a redelivery arrives in the same batch as the first", async () => {
    const { db } = await freshDatabase();
    const writer = new InboxWriter(db);
    const answers = await Promise.all([writer.store(entry("same", 1)), writer.store(entry("same", 1)), writer.store(entry("other", 2))]);
    expect(answers).toEqual([true, false, true]);
    expect(await writer.store(entry("same", 1))).toBe(false);
    expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "2" }]);
  });

  it("fails only the delivery the database refuses, not the others written in the same statement", async () => {
    const { db } = await freshDatabase();
    const writer = new InboxWriter(db);
    // Not UTF-8: PostgreSQL refuses the row (the door refuses such bodies before this; a database
    // may refuse a row for other reasons, such as a server encoding that cannot hold its text).
    const answers = await Promise.allSettled([
      writer.store(entry("good-1", 1)),
      writer.store(entry("bad", 2), Buffer.from([0x7b, 0xff, 0x7d])),
      writer.store(entry("good-2", 1)),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await db("webhook_inbox").orderBy("seq").pluck("delivery_id")).toEqual(["good-1", "good-2"]);
  });

  it("fails every delivery of a batch the database refused, and keeps writing later ones", async () => {
    const { db } = await freshDatabase();
    const writer = new InboxWriter(db);
    await db.raw("alter table webhook_inbox rename to webhook_inbox_away");
    await expect(writer.store(entry("lost", 1))).rejects.toThrow(/webhook_inbox/);
    await db.raw("alter table webhook_inbox_away rename to webhook_inbox");
    expect(await writer.store(entry("kept", 1))).toBe(true);
  });
});

describe("answering before handling", () => {
  it("lets claiming wait while a delivery is being received and for a moment after, never longer than its bound", async () => {
    const activity = new IntakeActivity();
    expect(activity.quietInMs()).toBe(0);
    const done = activity.begin();
    // Still receiving: not quiet, however long it takes; the bound ends the wait.
    let waited = performance.now();
    await activity.whenQuiet(80);
    expect(performance.now() - waited).toBeGreaterThanOrEqual(75);
    expect(activity.quietInMs()).toBeGreaterThan(0);
    done();
    done(); // ending twice counts once
    // It arrived longer ago than a burst's deliveries are apart: quiet at once.
    expect(activity.quietInMs()).toBe(0);
    // One that just arrived and was answered: quiet a moment later, in case more follow.
    activity.begin()();
    expect(activity.quietInMs()).toBeGreaterThan(0);
    waited = performance.now();
    await activity.whenQuiet(5_000);
    const quietAfter = performance.now() - waited;
    // A moment, not the 5 s bound (generous: timers fire late on a loaded machine).
    expect(quietAfter).toBeLessThan(QUIET_MS + 1_000);
    expect(activity.quietInMs()).toBe(0);
  });
});
