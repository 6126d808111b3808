/** Claiming expiry reminders in PostgreSQL: once, at their time, never for a grant being extended. */
import { describe, expect, it } from "vitest";
import { claimDueReminders, nextReminderAt, takeOwedReminderComments } from "../../src/grants/reminder-store.js";
import { approveGrant, TestClock, type AwsWorld } from "../support/aws-world.js";
import { freshDatabase } from "../support/db.js";

const MINUTE = 60_000;

describe("reminder store", () => {
  const world = { clock: new TestClock() } as AwsWorld;
  const activeGrant = async (db: Awaited<ReturnType<typeof freshDatabase>>["db"], extra: Record<string, unknown> = {}) => {
    const id = await approveGrant(db, world, { prNumber: 7 });
    await db("grants")
      .where({ id })
      .update({ status: "active", remind_before_seconds: 600, ...extra });
    return (await db("grants").where({ id }).first()) as { id: string; expires_at: Date };
  };

  it("claims a due reminder exactly once, with its event, however many claim at once", async () => {
    const { db } = await freshDatabase();
    const grant = await activeGrant(db);
    const early = new Date(grant.expires_at.getTime() - 11 * MINUTE);
    expect(await claimDueReminders(db, early, 10)).toEqual([]);
    expect(await nextReminderAt(db, early)).toEqual(new Date(grant.expires_at.getTime() - 10 * MINUTE));
    const due = new Date(grant.expires_at.getTime() - 9 * MINUTE);
    const claims = await Promise.all(Array.from({ length: 8 }, () => claimDueReminders(db, due, 10)));
    expect(claims.flat().map((claimed) => claimed.id)).toEqual([grant.id]);
    expect(await db("grant_events").where({ type: "expiry_reminder" }).pluck("grant_id")).toEqual([grant.id]);
    expect(await nextReminderAt(db, due)).toBeUndefined();
    // Its comment is owed, and leased to one sender at a time.
    const taken = await Promise.all(Array.from({ length: 4 }, () => takeOwedReminderComments(db, due, 60_000, 10)));
    expect(taken.flat().map((owed) => owed.id)).toEqual([grant.id]);
  });

  it("skips a grant whose extension is on its way, and reminds it again if the extension failed", async () => {
    const { db } = await freshDatabase();
    const old = await activeGrant(db);
    const extension = await approveGrant(db, world, { prNumber: 8 });
    await db("grants").where({ id: old.id }).update({ superseded_by: extension });
    await db("grants").where({ id: extension }).update({ extends_grant_id: old.id, status: "provisioning" });
    const due = new Date(old.expires_at.getTime() - 5 * MINUTE);
    expect(await claimDueReminders(db, due, 10)).toEqual([]);
    expect(await nextReminderAt(db, due)).toBeUndefined();
    await db("grants").where({ id: extension }).update({ status: "failed" });
    expect((await claimDueReminders(db, due, 10)).map((claimed) => claimed.id)).toEqual([old.id]);
  });

  it("never reminds a grant without remind_before, nor one already past its expiry", async () => {
    const { db } = await freshDatabase();
    const off = await activeGrant(db, { remind_before_seconds: null });
    expect(await claimDueReminders(db, new Date(off.expires_at.getTime() - MINUTE), 10)).toEqual([]);
    const late = await activeGrant(db);
    expect(await claimDueReminders(db, new Date(late.expires_at.getTime() + MINUTE), 10)).toEqual([]);
  });
});
