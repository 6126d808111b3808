/**
 * The shared rate limit, in the real PostgreSQL: two limiters stand for two replicas.
 */
import { describe, expect, it } from "vitest";
import { SharedRateLimiter, type CallPriority } from "../../src/aws/rate-limiter.js";
import { freshDatabase } from "../support/db.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111";

describe("the shared rate limiter", () => {
  it("holds the rate across replicas: in no second do both together exceed burst + rate", async () => {
    const { db } = await freshDatabase();
    const rate = 40;
    const burst = 4;
    const replicas = [new SharedRateLimiter(db, { ratePerSecond: rate, burst }), new SharedRateLimiter(db, { ratePerSecond: rate, burst })];
    const times: number[] = [];
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 80 }, (_, index) =>
        replicas[index % 2]!.acquire(INSTANCE, "provision").then(() => times.push(Date.now() - started)),
      ),
    );
    times.sort((a, b) => a - b);
    // 80 calls at 40/s after a burst of 4 take at least (80 - 4) / 40 s.
    expect(times.at(-1)!).toBeGreaterThanOrEqual(((80 - burst) / rate) * 1000 - 50);
    for (let index = 0; index < times.length; index++) {
      const inWindow = times.filter((time) => time >= times[index]! && time < times[index]! + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(burst + rate + 1);
    }
  });

  it("gives a free slot to the most urgent waiter, and keeps a reserve that only urgent calls may spend", async () => {
    const { db } = await freshDatabase();
    const limiter = new SharedRateLimiter(db, { ratePerSecond: 20, burst: 4, reserve: 3 });
    // Drain the bucket, then queue calls that can wait before urgent ones.
    await Promise.all(Array.from({ length: 4 }, () => limiter.acquire(INSTANCE, "revoke")));
    const order: CallPriority[] = [];
    const queue = (priority: CallPriority) => limiter.acquire(INSTANCE, priority).then(() => order.push(priority));
    const waits = [queue("poll"), queue("poll"), queue("provision"), queue("revoke"), queue("revoke")];
    await Promise.all(waits);
    expect(order.slice(0, 3)).toEqual(["revoke", "revoke", "provision"]);
    expect(order.slice(3)).toEqual(["poll", "poll"]);
  });

  it("lets the tenants of one instance take turns: a tenant's storm of calls delays another's by one call, not by the storm", async () => {
    const { db } = await freshDatabase();
    const limiter = new SharedRateLimiter(db, { ratePerSecond: 50, burst: 1 });
    await limiter.acquire(INSTANCE, "provision", "700001");
    const order: string[] = [];
    const storm = Array.from({ length: 30 }, (_, index) =>
      limiter.acquire(INSTANCE, "provision", "700002").then(() => order.push(`storm-${index}`)),
    );
    const quiet = [0, 1].map((index) => limiter.acquire(INSTANCE, "provision", "700001").then(() => order.push(`quiet-${index}`)));
    await Promise.all([...storm, ...quiet]);
    // First come first served would put both quiet calls after all thirty.
    expect(order.indexOf("quiet-0")).toBeLessThanOrEqual(1);
    expect(order.indexOf("quiet-1")).toBeLessThanOrEqual(3);
    // Each tenant's own calls keep their order.
    expect(order.filter((name) => name.startsWith("storm")).map((name) => Number(name.split("-")[1]))).toEqual(
      Array.from({ length: 30 }, (_, index) => index),
    );
  });

  it("takes the slots of calls that arrive together in one statement, not one after another", async () => {
    const { db } = await freshDatabase();
    const limiter = new SharedRateLimiter(db, { ratePerSecond: 19, burst: 10 });
    await limiter.acquire(INSTANCE, "poll"); // the instance's row exists from here on
    await new Promise((resolve) => setTimeout(resolve, 600)); // the bucket refills
    const statements: string[] = [];
    const count = (query: { sql: string }) => {
      if (query.sql.includes("aws_rate_limits")) statements.push(query.sql);
    };
    db.on("query", count);
    try {
      // A wave of ten creates, each from its own promise chain.
      await Promise.all(Array.from({ length: 10 }, () => Promise.resolve().then(() => limiter.acquire(INSTANCE, "provision"))));
    } finally {
      db.off("query", count);
    }
    expect(statements).toHaveLength(1);
  });

  it("fails calls still waiting when it is closed", async () => {
    const { db } = await freshDatabase();
    const limiter = new SharedRateLimiter(db, { ratePerSecond: 1, burst: 1 });
    await limiter.acquire(INSTANCE, "revoke");
    const waiting = limiter.acquire(INSTANCE, "poll");
    limiter.close();
    await expect(waiting).rejects.toThrow("the rate limiter is closed (shutting down)");
    await expect(limiter.acquire(INSTANCE, "revoke")).rejects.toThrow("closed");
  });
});
