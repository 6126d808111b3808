/**
 * GET /api/events over HTTP against real PostgreSQL: order, cursor resumption (also when
 * transactions commit out of id order), limits, bad cursors and the bearer token.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { apiHandler } from "../../src/api/http-api.js";
import { parseEventsQuery } from "../../src/api/events-api.js";
import { startHttpServer, type RunningServer } from "../../src/http/server.js";
import { createLogger } from "../../src/observability/logger.js";
import { writeEvent } from "../support/audit.js";
import { freshDatabase } from "../support/db.js";

const TOKEN = "test-api-token-0123456789abcdef";

interface Page {
  events: { seq: string; id: string; tenant: string; reason: string; pr_url: string; hash: string; prev_hash: string }[];
  next: string;
  more: boolean;
}

describe("GET /api/events", () => {
  let db: Knex;
  let server: RunningServer;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    server = await startHttpServer(
      [apiHandler({ db, log: createLogger({ level: "silent" }), token: TOKEN, webBaseUrl: "https://github.example.com" })],
      { port: 0, host: "127.0.0.1" },
      createLogger({ level: "silent" }),
    );
  });
  afterEach(async () => {
    await server.stop();
  });

  const get = async (query: string, token: string | null = TOKEN) => {
    const response = await fetch(`http://127.0.0.1:${server.port}/api/events${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.status, body: (await response.json()) as Page & { error?: string } };
  };

  /** Every event from `after` on, a page of `limit` at a time, as a SIEM pulls them. */
  const pullAll = async (after = "0", limit = 2) => {
    const seen: Page["events"] = [];
    let cursor = after;
    for (;;) {
      const { status, body } = await get(`?after=${cursor}&limit=${limit}`);
      expect(status).toBe(200);
      seen.push(...body.events);
      cursor = body.next;
      if (!body.more) return { seen, cursor };
    }
  };

  it("gives every event once, in commit order, a page at a time, and resumes where the cursor says", async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.push(await writeEvent(db, { tenant: 1 + (index % 2), reason: `event ${index}` }));
    const first = await get("?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.events.map((event) => [event.seq, event.id, event.tenant])).toEqual([
      ["1", ids[0], "1"],
      ["2", ids[1], "2"],
    ]);
    expect([first.body.next, first.body.more]).toEqual(["2", true]);
    expect(first.body.events[0]).toMatchObject({ pr_url: "https://github.example.com/acme/access/pull/7", prev_hash: "0".repeat(64) });

    const rest = await pullAll(first.body.next);
    expect(rest.seen.map((event) => event.id)).toEqual(ids.slice(2));
    // Nothing new: the same cursor comes back, and an empty page.
    const idle = await get(`?after=${rest.cursor}`);
    expect(idle.body).toEqual({ events: [], next: rest.cursor, more: false });
    // Later events continue from it.
    const later = await writeEvent(db, { reason: "later" });
    expect((await get(`?after=${rest.cursor}`)).body.events.map((event) => event.id)).toEqual([later]);
  });

  it("never skips an event whose transaction took its id first and committed last", async () => {
    await writeEvent(db, { reason: "before" });
    const slow = await db.transaction();
    let slowId: string;
    try {
      slowId = await writeEvent(slow, { reason: "slow" });
      const fastId = await writeEvent(db, { reason: "fast" });
      expect(Number(slowId)).toBeLessThan(Number(fastId));

      const whileOpen = await pullAll();
      expect(whileOpen.seen.map((event) => event.reason)).toEqual(["before", "fast"]);
      // A cursor on ids would now stand at the fast event's id, past the slow one's: it would never be served.
      expect(Number(whileOpen.seen.at(-1)!.id)).toBeGreaterThan(Number(slowId));
      await slow.commit();

      const afterCommit = await pullAll(whileOpen.cursor);
      expect(afterCommit.seen.map((event) => [event.reason, event.id])).toEqual([["slow", slowId]]);
    } finally {
      if (!slow.isCompleted()) await slow.rollback();
    }
  });

  it("holds limit to 1–1000 (default 100) and says so", async () => {
    for (let index = 0; index < 3; index++) await writeEvent(db);
    expect((await get("")).body.events).toHaveLength(3);
    expect((await get("?limit=1")).body.events).toHaveLength(1);
    expect((await get("?limit=1000")).status).toBe(200);
    for (const limit of ["0", "1001", "-1", "2.5", "ten", ""]) {
      const { status, body } = await get(`?limit=${limit}`);
      expect([limit, status, body.error]).toEqual([limit, 400, "limit must be a whole number from 1 to 1000"]);
    }
  });

  it("answers a bad cursor or an unknown parameter with 400 and the reason, and keeps serving", async () => {
    for (const after of ["-1", "abc", "1e3", "9223372036854775808", "12345678901234567890", "1;drop"]) {
      const { status, body } = await get(`?after=${encodeURIComponent(after)}`);
      expect([after, status, body.error]).toEqual([
        after,
        400,
        `after must be the "next" cursor of an earlier page (a whole number; 0 or none for the start), not "${after}"`,
      ]);
    }
    expect((await get("?since=2026-11-01")).body.error).toBe('unknown parameter "since"; use after, limit');
    expect((await get("?after=9223372036854775807")).body).toEqual({ events: [], next: "9223372036854775807", more: false });
  });

  it("needs the bearer token, and is off without one configured", async () => {
    await writeEvent(db);
    expect((await get("", null)).status).toBe(401);
    expect(await get("", "wrong-token-0123456789abcdef")).toMatchObject({
      status: 401,
      body: { error: "send Authorization: Bearer <JITSUDO_API_TOKEN>" },
    });
    const off = await startHttpServer(
      [apiHandler({ db, log: createLogger({ level: "silent" }) })],
      { port: 0, host: "127.0.0.1" },
      createLogger({ level: "silent" }),
    );
    try {
      const response = await fetch(`http://127.0.0.1:${off.port}/api/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

describe("parseEventsQuery", () => {
  it("reads the cursor and the limit, normalising the cursor", () => {
    expect(parseEventsQuery(new URLSearchParams(""))).toEqual({ after: "0", limit: 100 });
    expect(parseEventsQuery(new URLSearchParams("after=007&limit=5"))).toEqual({ after: "7", limit: 5 });
  });
});
