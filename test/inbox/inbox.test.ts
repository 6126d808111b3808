/**
 * The webhook inbox against real PostgreSQL: deliveries stored once, handled in order per pull
 * request by any number of processors, retried with backoff, given up loudly, and taken over from
 * a processor that died holding them. And through Probot's webhook pipeline: answered as soon as
 * stored, handled afterwards.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inboxEntryFor } from "../../src/inbox/deliveries.js";
import { storeDelivery, type StoredDelivery } from "../../src/inbox/inbox-store.js";
import { InboxProcessor, type DeliveryHandler } from "../../src/inbox/processor.js";
import { deliverWebhook } from "../../src/sandbox/webhooks.js";
import { startHarness, WEBHOOK_SECRET } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { seed } from "../support/merge-world.js";
import { policyYaml, requestYaml } from "../support/policy-fixtures.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** A delivery of `pull_request.synchronize` for pull request `number` of repository 1. */
const delivery = (id: string, number: number) =>
  inboxEntryFor({
    id,
    name: "pull_request",
    payload: { action: "synchronize", installation: { id: 7 }, repository: { id: 1 }, pull_request: { number } },
  })!;

describe("the webhook inbox", () => {
  let db: Knex;
  const processors: InboxProcessor[] = [];
  beforeEach(async () => {
    ({ db } = await freshDatabase());
  });
  afterEach(async () => {
    for (const processor of processors.splice(0)) await processor.stop();
  });
  const processor = async (handle: DeliveryHandler, options: { retryBaseMs?: number; maxAttempts?: number } = {}) => {
    const started = new InboxProcessor(db, handle, { log: silent, pollMs: 20, ...options });
    await started.start();
    processors.push(started);
    return started;
  };
  const until = async (check: () => Promise<boolean>, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline)
        throw new Error(
          `inbox state: ${JSON.stringify(await db("webhook_inbox").select("delivery_id", "status", "attempts", "last_error"))}`,
        );
      await sleep(20);
    }
  };
  const statuses = async () =>
    Object.fromEntries((await db("webhook_inbox").select("delivery_id", "status")).map((row) => [row.delivery_id, row.status]));

  it("stores a delivery once, however often GitHub (or a second replica) hands it over", async () => {
    expect(await storeDelivery(db, delivery("d-1", 1))).toBe(true);
    expect(await storeDelivery(db, delivery("d-1", 1))).toBe(false);
    expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "1" }]);
  });

  it("keeps the events jitsudo does not act on out of it", () => {
    expect(
      inboxEntryFor({ id: "x", name: "pull_request", payload: { action: "labeled", repository: { id: 1 }, pull_request: { number: 1 } } }),
    ).toBeUndefined();
    expect(inboxEntryFor({ id: "x", name: "star", payload: { action: "created", repository: { id: 1 } } })).toBeUndefined();
    expect(
      inboxEntryFor({
        id: "x",
        name: "issue_comment",
        payload: { action: "created", repository: { id: 1 }, issue: { number: 4, pull_request: {} } },
      })?.orderingKey,
    ).toBe("pr:1:4");
    expect(inboxEntryFor({ id: "x", name: "push", payload: { repository: { id: 1 } } })?.orderingKey).toBe("push:1");
  });

  it("handles the deliveries of one pull request one at a time and in order, across two processors, while others run beside them", async () => {
    const log: string[] = [];
    const running = new Set<string>();
    let overlapped = false;
    const handle: DeliveryHandler = async (stored: StoredDelivery) => {
      const key = stored.ordering_key;
      if (running.has(key)) overlapped = true;
      running.add(key);
      log.push(`start ${stored.delivery_id}`);
      await sleep(15 + Math.random() * 15);
      log.push(`end ${stored.delivery_id}`);
      running.delete(key);
      return "handled";
    };
    for (let index = 0; index < 6; index++) {
      await storeDelivery(db, delivery(`a-${index}`, 1));
      await storeDelivery(db, delivery(`b-${index}`, 2));
    }
    await processor(handle);
    await processor(handle);
    await until(async () => Object.values(await statuses()).every((status) => status === "done"));

    expect(overlapped).toBe(false);
    for (const key of ["a", "b"]) {
      const starts = log.filter((line) => line.startsWith(`start ${key}-`)).map((line) => Number(line.split("-")[1]));
      expect(starts).toEqual([0, 1, 2, 3, 4, 5]);
    }
    // The two pull requests did not wait for each other.
    const firstB = log.indexOf("start b-0");
    expect(firstB).toBeLessThan(log.indexOf("end a-5"));
  });

  it("retries a failed delivery with backoff, holding back the later deliveries of its pull request, then gives it up loudly", async () => {
    const seen: string[] = [];
    await storeDelivery(db, delivery("fails", 1));
    await storeDelivery(db, delivery("after", 1));
    await processor(
      (stored) => {
        seen.push(stored.delivery_id);
        return stored.delivery_id === "fails" ? Promise.reject(new Error("GitHub answered 502")) : Promise.resolve("handled");
      },
      { retryBaseMs: 30, maxAttempts: 3 },
    );
    await until(async () => (await statuses()).after === "done");
    expect(seen).toEqual(["fails", "fails", "fails", "after"]);
    const failed = await db("webhook_inbox").where({ delivery_id: "fails" }).first();
    expect([failed.status, failed.attempts, failed.last_error]).toEqual(["dead", 3, "Error: GitHub answered 502"]);
  });

  it("waits, without using up attempts, for a delivery that cannot be handled yet", async () => {
    let calls = 0;
    await storeDelivery(db, delivery("later", 1));
    await processor(
      () => {
        calls += 1;
        return calls < 5
          ? Promise.reject(Object.assign(new Error("GitHub has not recorded the merge yet"), { retryInMs: 20 }))
          : Promise.resolve("handled");
      },
      { maxAttempts: 2 },
    );
    await until(async () => (await statuses()).later === "done");
    expect(calls).toBe(5);
  });

  it("hands the deliveries of a processor that died to another: nothing it accepted is lost", async () => {
    await storeDelivery(db, delivery("held", 1));
    await storeDelivery(db, delivery("next", 1));
    let release!: () => void;
    const dying = await processor(() => new Promise((resolve) => (release = () => resolve("never recorded"))));
    await until(async () => (await statuses()).held === "processing");

    // The process dies: its session (and with it its liveness lock) is gone; its handler never returns.
    const session = (dying as unknown as { session: { close(): Promise<void> } }).session;
    await session.close();
    processors.splice(processors.indexOf(dying), 1);

    const handled: string[] = [];
    await processor((stored) => {
      handled.push(stored.delivery_id);
      return Promise.resolve("handled");
    });
    await until(async () => Object.values(await statuses()).every((status) => status === "done"));
    expect(handled).toEqual(["held", "next"]);
    release();
  });
});

describe("webhooks through the inbox", () => {
  it("are answered as soon as they are stored, and handled afterwards", async () => {
    const { db } = await freshDatabase();
    const harness = await startHarness({ db });
    try {
      const world = seed(harness.github);
      // Delivered without waiting for the inbox: the answer comes before the merge is judged.
      const status = await deliverWebhook(harness.url, WEBHOOK_SECRET, "pull_request", world.closed, "delivery-1");
      expect(status).toBe(200);
      expect(await db("webhook_inbox").pluck("event")).toEqual(["pull_request"]);
      await harness.settle();
      expect(await db("webhook_inbox").pluck("status")).toEqual(["done"]);
      expect(await db("merge_verdicts").pluck("verdict")).toEqual(["approved"]);
      // GitHub's redelivery of the same delivery (same X-GitHub-Delivery) is answered and changes nothing.
      expect(await deliverWebhook(harness.url, WEBHOOK_SECRET, "pull_request", world.closed, "delivery-1")).toBe(200);
      await harness.settle();
      expect(await db("webhook_inbox").count({ n: "*" })).toEqual([{ n: "1" }]);
    } finally {
      await harness.stop();
    }
  });

  it("takes a burst of 40 merges at once on a pool of 5 connections: every one answered and judged, no connection waited out", async () => {
    const { db } = await freshDatabase();
    const harness = await startHarness({ db });
    try {
      const { github } = harness;
      github.latencyMs = 10;
      const repo = github.repo;
      for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
      repo.commit("main", {
        files: {
          ".github/jitsudo.yml": policyYaml(),
          ".github/CODEOWNERS": "/access-requests/ @bob\n",
        },
        author: "Codertocat",
      });
      const merges = Array.from({ length: 40 }, (_, index) => {
        const branch = `alice/burst-${index}`;
        repo.createBranch(branch, "main", "alice");
        repo.commit(branch, {
          files: {
            [`access-requests/burst-${index}.yaml`]: requestYaml({ duration: "1h", reason: `Incident ${index}` }),
          },
          author: "alice",
        });
        const number = repo.openPull({ head: branch, author: "alice" });
        repo.review(number, "bob", "APPROVED");
        return repo.merge(number, { by: "bob" }).closed;
      });
      const statuses = await Promise.all(merges.map((payload) => deliverWebhook(harness.url, WEBHOOK_SECRET, "pull_request", payload)));
      expect(statuses.every((status) => status === 200)).toBe(true);
      await harness.settle();
      expect(await db("merge_verdicts").where({ verdict: "approved" }).count({ n: "*" })).toEqual([{ n: "40" }]);
      expect(harness.logs.filter((line) => line.includes("Timeout acquiring a connection"))).toEqual([]);
    } finally {
      await harness.stop();
    }
  });
});
