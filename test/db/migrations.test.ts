import { describe, expect, it } from "vitest";
import { createDb, ensureSchema } from "../../src/db/knex.js";
import { migrateLatest, migrationsPending } from "../../src/db/migrate.js";
import { MIGRATIONS } from "../../src/db/migrations/index.js";
import { freshDatabase } from "../support/db.js";
import { inject } from "vitest";

const grant = (overrides: Record<string, unknown> = {}) => ({
  tenant: 1,
  repo: "acme/access",
  pr_number: 7,
  file_path: "access-requests/alice.yaml",
  blob_sha: "a".repeat(40),
  merge_commit_sha: "m".repeat(40),
  requester: "alice",
  principal: "alice@example.com",
  account_ref: "123456789012",
  permission_set_ref: "ReadOnlyAccess",
  status: "approved",
  starts_at: new Date("2026-11-25T12:00:00Z"),
  expires_at: new Date("2026-11-25T14:00:00Z"),
  duration_seconds: 7200,
  reason: "Investigate the latency alarms",
  ...overrides,
});

describe("migrations", () => {
  it("apply to an empty schema, then find nothing left to do", async () => {
    const schema = `${inject("schemaPrefix")}_${process.pid}_blank`;
    const db = createDb({ url: inject("databaseUrl"), schema });
    try {
      await ensureSchema(db, schema);
      expect(await migrationsPending(db)).toBe(true);
      expect(await migrateLatest(db)).toEqual(MIGRATIONS.map(([name]) => name));
      expect(await migrateLatest(db)).toEqual([]);
      expect(await migrationsPending(db)).toBe(false);
      const tables = await db("pg_tables").where({ schemaname: schema }).orderBy("tablename").pluck("tablename");
      expect(tables).toEqual([
        "access_repository_pins",
        "aws_rate_limits",
        "command_replies",
        "drift_claims",
        "drift_cursors",
        "drift_findings",
        "drift_sweeps",
        "grant_event_chain",
        "grant_events",
        "grants",
        "jitsudo_migrations",
        "jitsudo_migrations_lock",
        "job_leases",
        "merge_lookups",
        "merge_scan_cursors",
        "merge_verdicts",
        "notification_deliveries",
        "notification_outbox",
        "policy_snapshots",
        "tenant_configs",
        "webhook_inbox",
        "webhook_redelivery_checks",
      ]);
    } finally {
      await db.destroy();
    }
  });
});

describe("grants table", () => {
  it("records one grant per merged file: a second delivery of the same merge is refused", async () => {
    const { db } = await freshDatabase();
    await db("grants").insert(grant());
    await expect(db("grants").insert(grant())).rejects.toThrow(/grants_one_per_merged_file/);
    expect(await db("grants").count({ n: "*" }).first()).toEqual({ n: "1" });
  });

  it("refuses unknown statuses, inverted windows and malformed account ids", async () => {
    const { db } = await freshDatabase();
    await expect(db("grants").insert(grant({ status: "granted" }))).rejects.toThrow(/grants_status_known/);
    await expect(db("grants").insert(grant({ expires_at: new Date("2026-11-25T11:00:00Z") }))).rejects.toThrow(/grants_window_ordered/);
    await expect(db("grants").insert(grant({ account_id: "12345" }))).rejects.toThrow(/grants_account_id_format/);
  });
});

describe("grant_events", () => {
  it("is append-only: updates, deletes and truncation are refused by the database", async () => {
    const { db } = await freshDatabase();
    const [row] = await db("grant_events")
      .insert({ tenant: 1, repo: "acme/access", pr_number: 7, type: "rejected", actor: "jitsudo", reason: "no approval" })
      .returning("id");
    await expect(db("grant_events").where({ id: row.id }).update({ reason: "approved" })).rejects.toThrow(
      "grant_events is append-only: UPDATE is not allowed",
    );
    await expect(db("grant_events").where({ id: row.id }).delete()).rejects.toThrow("grant_events is append-only: DELETE is not allowed");
    await expect(db.raw("truncate grant_events")).rejects.toThrow("grant_events is append-only: TRUNCATE is not allowed");
    expect(await db("grant_events").pluck("reason")).toEqual(["no approval"]);
  });
});

describe("migrations started by several replicas at once", () => {
  it("wait for each other: one applies, the others find nothing left", async () => {
    const schema = `${inject("schemaPrefix")}_${process.pid}_race`;
    const replicas = [0, 1, 2].map(() => createDb({ url: inject("databaseUrl"), schema, pool: { min: 0, max: 3 } }));
    try {
      await ensureSchema(replicas[0]!, schema);
      const applied = await Promise.all(replicas.map((db) => migrateLatest(db)));
      expect(applied.map((names) => names.length).sort()).toEqual([0, 0, MIGRATIONS.length]);
    } finally {
      await Promise.all(replicas.map((db) => db.destroy()));
    }
  });
});
