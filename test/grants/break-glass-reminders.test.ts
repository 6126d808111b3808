/**
 * Break-glass review reminders: from `review_within` after the access started, then at doubling
 * intervals, each claimed once however many workers ask, with the `break_glass_review_due` event
 * the notification channels carry; none once a code owner reviewed it.
 */
import { describe, expect, it } from "vitest";
import {
  claimDueReviewReminders,
  countUnreviewed,
  nextReviewReminderAt,
  recordBreakGlassReview,
  unreviewedOfPullRequest,
} from "../../src/grants/break-glass-store.js";
import { recordMerge, type NewGrant } from "../../src/grants/grant-repository.js";
import { freshDatabase } from "../support/db.js";

const STARTS = new Date("2026-11-25T12:00:00Z");
const HOUR = 3_600_000;

const breakGlassGrant: NewGrant = {
  filePath: "access-requests/alice.yaml",
  blobSha: "a".repeat(40),
  requester: "alice",
  principal: "alice@example.com",
  accountRef: "123456789012",
  permissionSetRef: "AdministratorAccess",
  startsAt: STARTS,
  expiresAt: new Date(STARTS.getTime() + HOUR),
  reason: "Database is down, restoring from backup",
  ticket: "INC-4711",
  approvers: [],
  approverSets: [],
  policyRule: 0,
  breakGlass: { team: "@acme/oncall", reviewDueAt: new Date(STARTS.getTime() + 12 * HOUR), owners: ["@bob", "@acme/platform"] },
  aws: {},
};

async function merged() {
  const { db } = await freshDatabase();
  await recordMerge(db, {
    tenant: 1,
    repositoryId: 424242,
    repo: "acme/access",
    prNumber: 7,
    mergeCommitSha: "m".repeat(40),
    mergedAt: STARTS,
    verdict: "approved",
    reasons: [],
    actor: "jitsudo",
    details: {},
    grants: [breakGlassGrant],
    revokedPaths: [],
  });
  return db;
}

const at = (hours: number) => new Date(STARTS.getTime() + hours * HOUR);

describe("break-glass review reminders", () => {
  it("reminds at review_within, then after twice that, then four times, each once across workers", async () => {
    const db = await merged();
    expect(await claimDueReviewReminders(db, at(11.9), 10)).toEqual([]);
    expect(await nextReviewReminderAt(db)).toEqual(at(12));
    // Three workers ask at once: one reminder.
    const claims = await Promise.all([0, 1, 2].map(() => claimDueReviewReminders(db, at(12), 10)));
    expect(claims.flat().map((grant) => grant.break_glass_reminders)).toEqual([1]);
    // review_within (12 h) doubled: the next at 12 + 24 h, then 36 + 48 h.
    expect(await nextReviewReminderAt(db)).toEqual(at(36));
    expect(await claimDueReviewReminders(db, at(35.9), 10)).toEqual([]);
    expect((await claimDueReviewReminders(db, at(36), 10)).map((grant) => grant.break_glass_reminders)).toEqual([2]);
    expect(await nextReviewReminderAt(db)).toEqual(at(84));
    const events = await db("grant_events").where({ type: "break_glass_review_due" }).orderBy("id").select("reason", "details");
    expect(events).toHaveLength(2);
    expect(events[0].reason).toContain("has not been reviewed by a code owner");
  });

  it("stops reminding once a code owner reviewed it, and counts it reviewed", async () => {
    const db = await merged();
    expect(await countUnreviewed(db)).toBe(1);
    const grants = await unreviewedOfPullRequest(db, 424242, 7, 1);
    const [first, second] = await Promise.all([
      recordBreakGlassReview(db, grants, { reviewer: "bob", how: "ack", at: at(1) }),
      recordBreakGlassReview(db, grants, { reviewer: "carol", how: "approval", at: at(1) }),
    ]);
    // One review is recorded, whoever came first.
    expect(first.length + second.length).toBe(1);
    expect(await countUnreviewed(db)).toBe(0);
    expect(await claimDueReviewReminders(db, at(100), 10)).toEqual([]);
    expect(await nextReviewReminderAt(db)).toBeUndefined();
    expect(await db("grant_events").where({ type: "break_glass_reviewed" }).count({ n: "*" })).toEqual([{ n: "1" }]);
  });
});
