import { describe, expect, it } from "vitest";
import {
  applyMove,
  endEarlyIn,
  eventsOfPullRequest,
  grantsOfPullRequest,
  recordMerge,
  StaleGrantError,
  type MergeRecord,
  type NewGrant,
} from "../../src/grants/grant-repository.js";
import { activate } from "../../src/grants/lifecycle.js";
import { freshDatabase } from "../support/db.js";

const grant = (overrides: Partial<NewGrant> = {}): NewGrant => ({
  filePath: "access-requests/alice.yaml",
  blobSha: "a".repeat(40),
  requester: "alice",
  principal: "alice@example.com",
  accountRef: "123456789012",
  permissionSetRef: "ReadOnlyAccess",
  startsAt: new Date("2026-11-25T12:00:00Z"),
  expiresAt: new Date("2026-11-25T14:00:00Z"),
  reason: "Investigate the latency alarms",
  approvers: ["bob"],
  approverSets: [{ path: "access-requests/alice.yaml", approvers: ["bob"] }],
  policyRule: 0,
  aws: { instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef" },
  ...overrides,
});

const merge = (overrides: Partial<MergeRecord> = {}): MergeRecord => ({
  tenant: 1,
  repositoryId: 424242,
  repo: "acme/access",
  prNumber: 7,
  mergeCommitSha: "m".repeat(40),
  mergedAt: new Date("2026-11-25T12:00:00Z"),
  verdict: "approved",
  reasons: [],
  actor: "jitsudo",
  details: { head_sha: "h".repeat(40) },
  grants: [grant()],
  revokedPaths: [],
  ...overrides,
});

describe("recordMerge", () => {
  it("records an approved merge once, however often it is delivered", async () => {
    const { db } = await freshDatabase();
    const first = await recordMerge(db, merge());
    const again = await Promise.all([recordMerge(db, merge()), recordMerge(db, merge())]);
    expect([first.recorded, first.grantIds.length]).toEqual([true, 1]);
    expect(again.map((outcome) => outcome.recorded)).toEqual([false, false]);
    const grants = await grantsOfPullRequest(db, 424242, 7);
    expect(grants.map((row) => [row.status, row.approvers, row.duration_seconds])).toEqual([["approved", ["bob"], 7200]]);
    const events = await eventsOfPullRequest(db, 424242, 7);
    expect(events.map((event) => [event.type, event.to_status, event.reason])).toEqual([["approved", "approved", "approved by @bob"]]);
  });

  it("records a refusal as an event with every reason and no grant", async () => {
    const { db } = await freshDatabase();
    await recordMerge(
      db,
      merge({
        verdict: "rejected",
        reasons: ["@bob approved 1a2b3c4, not the merged head 4d5e6f7", "needs 1 code-owner approval, has 0"],
        grants: [],
      }),
    );
    expect(await grantsOfPullRequest(db, 424242, 7)).toEqual([]);
    const [event] = await eventsOfPullRequest(db, 424242, 7);
    expect([event.type, event.grant_id, event.reason, event.details.reasons]).toEqual([
      "rejected",
      null,
      "@bob approved 1a2b3c4, not the merged head 4d5e6f7; needs 1 code-owner approval, has 0",
      ["@bob approved 1a2b3c4, not the merged head 4d5e6f7", "needs 1 code-owner approval, has 0"],
    ]);
  });

  it("supersedes the live grant of an edited file only through the new approved merge", async () => {
    const { db } = await freshDatabase();
    const original = await recordMerge(db, merge());
    await db("grants").where({ id: original.grantIds[0] }).update({ status: "active" });
    const edit = await recordMerge(
      db,
      merge({
        prNumber: 8,
        mergeCommitSha: "n".repeat(40),
        grants: [grant({ blobSha: "b".repeat(40), expiresAt: new Date("2026-11-25T16:00:00Z") })],
      }),
    );
    expect(edit.endedGrantIds).toEqual(original.grantIds);
    const [old] = await grantsOfPullRequest(db, 424242, 7);
    expect([old!.status, old!.superseded_by]).toEqual(["revoking", edit.grantIds[0]]);
  });

  it("ends the live grant of a deleted request file: at once if it never started", async () => {
    const { db } = await freshDatabase();
    await recordMerge(db, merge());
    const deletion = await recordMerge(
      db,
      merge({ prNumber: 9, mergeCommitSha: "d".repeat(40), grants: [], revokedPaths: ["access-requests/alice.yaml"] }),
    );
    expect(deletion.endedGrantIds).toHaveLength(1);
    const [row] = await grantsOfPullRequest(db, 424242, 7);
    expect(row!.status).toBe("revoked");
    const events = await db("grant_events").where({ grant_id: row!.id }).orderBy("id");
    expect(events.map((event) => [event.type, event.from_status, event.to_status, event.reason])).toEqual([
      ["approved", null, "approved", "approved by @bob"],
      ["revoke_requested", "approved", "revoked", "request file deleted by #9"],
    ]);
  });
});

describe("applyMove", () => {
  it("refuses a move the state machine forbids, and one another worker already made", async () => {
    const { db } = await freshDatabase();
    const { grantIds } = await recordMerge(db, merge());
    const [row] = await grantsOfPullRequest(db, 424242, 7);
    await expect(db.transaction((trx) => applyMove(trx, row!, activate("x", new Date())))).rejects.toThrow(
      "a grant cannot go from approved to active",
    );
    await db.transaction((trx) =>
      endEarlyIn(trx, row!, { type: "revoke_requested", actor: "alice", reason: "/jitsudo revoke" }, "command-reply"),
    );
    await expect(
      db.transaction((trx) =>
        endEarlyIn(trx, row!, { type: "revoke_requested", actor: "bob", reason: "/jitsudo revoke" }, "command-reply"),
      ),
    ).rejects.toThrow(StaleGrantError);
    expect(await db("grant_events").where({ grant_id: grantIds[0] }).count({ n: "*" }).first()).toEqual({ n: "2" });
  });
});
