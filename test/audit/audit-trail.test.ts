/**
 * The audit trail in PostgreSQL (migration 0013): each event carries its grant's facts whoever
 * wrote it, and is linked into its tenant's hash chain at commit, in commit order, without gaps,
 * without races and without deadlocks.
 */
import type { Knex } from "knex";
import { describe, expect, inject, it } from "vitest";
import { auditEvent } from "../../src/audit/audit-event.js";
import { eventsAfter } from "../../src/audit/audit-store.js";
import { verifyAuditTrail } from "../../src/audit/audit-verify.js";
import { createDb, ensureSchema, rowsAs } from "../../src/db/knex.js";
import { migrateLatest } from "../../src/db/migrate.js";
import { MIGRATIONS } from "../../src/db/migrations/index.js";
import { applyMove, recordMerge, type MergeRecord } from "../../src/grants/grant-repository.js";
import { activate, start } from "../../src/grants/lifecycle.js";
import { backendPid, eventRow, waitsForALock, writeEvent } from "../support/audit.js";
import { freshDatabase } from "../support/db.js";

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
  grants: [
    {
      filePath: "access-requests/alice.yaml",
      blobSha: "a".repeat(40),
      requester: "alice",
      principal: "alice@example.com",
      accountRef: "123456789012",
      permissionSetRef: "ReadOnlyAccess",
      startsAt: new Date("2026-11-25T12:00:00Z"),
      expiresAt: new Date("2026-11-25T14:00:00Z"),
      reason: "Investigate the latency alarms",
      ticket: "INC-4711",
      approvers: ["bob", "carol"],
      approverSets: [{ path: "access-requests/alice.yaml", approvers: ["bob", "carol"] }],
      policyRule: 2,
      aws: { instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef" },
    },
  ],
  revokedPaths: [],
  policy: "rules: []\n",
  ...overrides,
});

async function chain(db: Knex): Promise<{ seq: string; event_id: string; tenant: string; tenant_seq: string }[]> {
  return await rowsAs<{ seq: string; event_id: string; tenant: string; tenant_seq: string }[]>(
    db("grant_event_chain").orderBy("seq").select("seq", "event_id", "tenant", "tenant_seq"),
  );
}

describe("each grant event's facts", () => {
  it("are its grant's at the event, whichever move wrote it", async () => {
    const { db } = await freshDatabase();
    const { grantIds } = await recordMerge(db, merge());
    const id = grantIds[0]!;
    await db.transaction((trx) => applyMove(trx, { id, status: "approved", tenant: "1", repo: "acme/access", pr_number: 7 }, start()));
    // The worker records the create's request id before it sends it; its answer activates the grant.
    await db("grants").where({ id }).update({ aws_request_id: "req-create-1", principal_id: "u-alice", account_id: "123456789012" });
    await db.transaction((trx) =>
      applyMove(trx, { id, status: "provisioning", tenant: "1", repo: "acme/access", pr_number: 7 }, activate("req-create-1", new Date())),
    );

    const events = await eventsAfter(db, "0", 10);
    expect(events.map((event) => [event.type, event.to_status])).toEqual([
      ["approved", "approved"],
      ["provisioning", "provisioning"],
      ["active", "active"],
    ]);
    const [approved, provisioning, active] = events.map((row) => auditEvent(row, "https://github.example.com"));
    expect(approved).toMatchObject({
      grant_id: id,
      tenant: "1",
      repo: "acme/access",
      pr_number: 7,
      pr_url: "https://github.example.com/acme/access/pull/7",
      requester: "alice",
      principal: "alice@example.com",
      principal_id: null,
      account_ref: "123456789012",
      account_id: null,
      permission_set_ref: "ReadOnlyAccess",
      instance_arn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      policy_rule: 2,
      approvers: ["bob", "carol"],
      merge_commit_sha: "m".repeat(40),
      file_path: "access-requests/alice.yaml",
      request_reason: "Investigate the latency alarms",
      ticket: "INC-4711",
      aws_request_ids: [],
      starts_at: "2026-11-25T12:00:00.000000Z",
      expires_at: "2026-11-25T14:00:00.000000Z",
      active_at: null,
      ended_at: null,
    });
    expect(approved!.policy_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(provisioning).toMatchObject({ principal_id: null, aws_request_ids: [] });
    // Facts as they were at each event: resolved ids and the request id appear only from then on.
    expect(active).toMatchObject({ principal_id: "u-alice", account_id: "123456789012", aws_request_ids: ["req-create-1"] });
    expect(active!.active_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });

  it("of a refused merge, which has no grant, name its merge commit", async () => {
    const { db } = await freshDatabase();
    await recordMerge(db, merge({ verdict: "rejected", reasons: ["needs 1 code-owner approval, has 0"], grants: [] }));
    const [refused] = await eventsAfter(db, "0", 10);
    expect(refused).toMatchObject({
      type: "rejected",
      grant_id: null,
      requester: null,
      merge_commit_sha: "m".repeat(40),
      aws_request_ids: [],
    });
  });

  it("cannot be written by the writer: an INSERT's own values are replaced by the grant's", async () => {
    const { db } = await freshDatabase();
    const { grantIds } = await recordMerge(db, merge());
    await db("grant_events").insert({
      ...eventRow({ grantId: grantIds[0]!, type: "revoke_failed" }),
      requester: "mallory",
      approvers: JSON.stringify(["mallory"]),
      account_id: "999999999999",
      aws_request_ids: JSON.stringify(["forged"]),
    });
    const rows = await db("grant_events")
      .where({ type: "revoke_failed" })
      .select("requester", "approvers", "account_id", "aws_request_ids");
    expect(rows).toEqual([{ requester: "alice", approvers: ["bob", "carol"], account_id: null, aws_request_ids: [] }]);
  });
});

describe("the hash chain", () => {
  it("links events in commit order, per tenant and across tenants, whatever their ids", async () => {
    const { db } = await freshDatabase();
    const first = await writeEvent(db, { tenant: 1 });
    const late = await db.transaction();
    const lateId = await writeEvent(late, { tenant: 1 });
    const early = await writeEvent(db, { tenant: 2 });
    const alsoEarly = await writeEvent(db, { tenant: 1 });
    await late.commit();
    expect(Number(lateId)).toBeLessThan(Number(early));
    expect(await chain(db)).toEqual([
      { seq: "1", event_id: first, tenant: "1", tenant_seq: "1" },
      { seq: "2", event_id: early, tenant: "2", tenant_seq: "1" },
      { seq: "3", event_id: alsoEarly, tenant: "1", tenant_seq: "2" },
      { seq: "4", event_id: lateId, tenant: "1", tenant_seq: "3" },
    ]);
    expect((await verifyAuditTrail(db)).broken).toBeUndefined();
  });

  it("stays one intact chain per tenant under concurrent writers", async () => {
    const { db } = await freshDatabase();
    await Promise.all(
      Array.from({ length: 12 }, (_, writer) =>
        db.transaction(async (trx) => {
          for (let index = 0; index < 3; index++)
            await trx("grant_events").insert(eventRow({ tenant: 1 + (writer % 2), reason: `writer ${writer}` }));
        }),
      ),
    );
    const links = await chain(db);
    expect(links.map((link) => link.seq)).toEqual(Array.from({ length: 36 }, (_, index) => String(index + 1)));
    for (const tenant of ["1", "2"]) {
      const positions = links.filter((link) => link.tenant === tenant).map((link) => link.tenant_seq);
      expect(positions).toEqual(Array.from({ length: 18 }, (_, index) => String(index + 1)));
    }
    const verified = await verifyAuditTrail(db);
    expect([verified.broken, verified.checked, verified.heads.get("1")?.position, verified.heads.get("2")?.position]).toEqual([
      undefined,
      36,
      "18",
      "18",
    ]);
  });

  it("never deadlocks a writer that locks a grant after its event with one that appends to the grant it holds", async () => {
    // A merge records its new grant's event, then locks the live grant the edit ends; a worker holds
    // that grant's row and appends its own event. Had the chain's lock been taken at INSERT, each would
    // wait for the other and PostgreSQL would abort one. Taken at commit, both go through.
    const { db } = await freshDatabase();
    const { grantIds } = await recordMerge(db, merge());
    const grantId = grantIds[0]!;
    const worker = await db.transaction();
    const merging = await db.transaction();
    try {
      await worker("grants").where({ id: grantId }).update({ attempts: 1 });
      await merging("grant_events").insert(eventRow({ tenant: 1, type: "approved" }));
      const mergingPid = await backendPid(merging);
      // Started now (a query builder runs when asked for its result), answered once the worker commits.
      const lockingTheGrant = merging("grants")
        .where({ id: grantId })
        .forUpdate()
        .first("id")
        .then((row) => row as unknown);
      await waitsForALock(db, mergingPid);
      await worker("grant_events").insert(eventRow({ tenant: 1, grantId, type: "revoke_failed" }));
      await worker.commit();
      await lockingTheGrant;
      await merging.commit();
    } finally {
      if (!worker.isCompleted()) await worker.rollback();
      if (!merging.isCompleted()) await merging.rollback();
    }
    const types = await db("grant_event_chain as c").join("grant_events as e", "e.id", "c.event_id").orderBy("c.seq").pluck("e.type");
    expect(types).toEqual(["approved", "revoke_failed", "approved"]);
    expect((await verifyAuditTrail(db)).broken).toBeUndefined();
  });

  it("links nothing of a rolled-back transaction and leaves no gap", async () => {
    const { db } = await freshDatabase();
    await writeEvent(db);
    await expect(
      db.transaction(async (trx) => {
        await trx("grant_events").insert(eventRow());
        throw new Error("the merge failed");
      }),
    ).rejects.toThrow("the merge failed");
    const last = await writeEvent(db);
    expect((await chain(db)).map((link) => [link.seq, link.tenant_seq, link.event_id])).toEqual([
      ["1", "1", expect.any(String)],
      ["2", "2", last],
    ]);
    expect((await verifyAuditTrail(db)).broken).toBeUndefined();
  });

  it("hashes any text the same way in PostgreSQL and in jitsudo: quotes, separators, newlines, characters outside the BMP", async () => {
    const { db } = await freshDatabase();
    for (const reason of ['a "quoted", |piped| 3:abc', "line one\nline two\r\n", "emoji 🔥 and 𝄞, é, 中文", "", "-"]) {
      await writeEvent(db, { reason, details: { note: reason, nested: { list: [1, 2.5, "x"] } } });
    }
    const verified = await verifyAuditTrail(db);
    expect([verified.broken, verified.checked]).toEqual([undefined, 5]);
  });

  it("refuses to link events written under REPEATABLE READ, saying why", async () => {
    const { db } = await freshDatabase();
    await expect(
      db.transaction(
        async (trx) => {
          await trx("grant_events").insert(eventRow());
        },
        { isolationLevel: "repeatable read" },
      ),
    ).rejects.toThrow(/grant events must be written in READ COMMITTED transactions \(this one is repeatable read\)/);
    expect(await db("grant_events").count({ n: "*" }).first()).toEqual({ n: "0" });
  });
});

describe("migration 0013 on a database with events", () => {
  it("gives existing events their grant's facts and links them in id order", async () => {
    const schema = `${inject("schemaPrefix")}_${process.pid}_audit_upgrade`;
    const db = createDb({ url: inject("databaseUrl"), schema, pool: { min: 0, max: 2 } });
    try {
      await ensureSchema(db, schema);
      const before = MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex(([name]) => name === "0013_audit_trail"),
      );
      await db.migrate.latest({
        tableName: "jitsudo_migrations",
        migrationSource: {
          getMigrations: () => Promise.resolve(before),
          getMigrationName: ([name]: (typeof before)[number]) => name,
          getMigration: ([, migration]: (typeof before)[number]) => Promise.resolve(migration),
        },
      });
      const [grant] = await db("grants")
        .insert({
          tenant: 1,
          repository_id: 424242,
          repo: "acme/access",
          pr_number: 7,
          file_path: "access-requests/alice.yaml",
          blob_sha: "a".repeat(40),
          merge_commit_sha: "m".repeat(40),
          requester: "alice",
          principal: "alice@example.com",
          account_ref: "123456789012",
          permission_set_ref: "ReadOnlyAccess",
          status: "active",
          starts_at: new Date("2026-11-25T12:00:00Z"),
          expires_at: new Date("2026-11-25T14:00:00Z"),
          duration_seconds: 7200,
          reason: "Investigate the latency alarms",
          approvers: JSON.stringify(["bob"]),
        })
        .returning<[{ id: string }]>("id");
      await db("grant_events").insert([
        {
          tenant: 1,
          repository_id: 424242,
          repo: "acme/access",
          pr_number: 7,
          grant_id: grant!.id,
          type: "approved",
          actor: "jitsudo",
          reason: "approved by @bob",
        },
        {
          tenant: 2,
          repository_id: 5,
          repo: "acme/other",
          pr_number: 1,
          type: "rejected",
          actor: "jitsudo",
          reason: "no",
          details: { merge_commit_sha: "f".repeat(40) },
        },
        {
          tenant: 1,
          repository_id: 424242,
          repo: "acme/access",
          pr_number: 7,
          grant_id: grant!.id,
          type: "active",
          actor: "aws",
          reason: "created",
          details: { request_id: "req-1" },
        },
      ]);

      await migrateLatest(db);

      const rows = await eventsAfter(db, "0", 10);
      expect(
        rows.map((row) => [row.seq, row.tenant, row.tenant_seq, row.type, row.requester, row.merge_commit_sha, row.aws_request_ids]),
      ).toEqual([
        ["1", "1", "1", "approved", "alice", "m".repeat(40), []],
        ["2", "2", "1", "rejected", null, "f".repeat(40), []],
        ["3", "1", "2", "active", "alice", "m".repeat(40), ["req-1"]],
      ]);
      expect((await verifyAuditTrail(db)).broken).toBeUndefined();
      // The append-only trigger is back on.
      await expect(db("grant_events").update({ reason: "edited" })).rejects.toThrow("grant_events is append-only: UPDATE is not allowed");
    } finally {
      await db.raw(`drop schema if exists "${schema}" cascade`);
      await db.destroy();
    }
  });
});
