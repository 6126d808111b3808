/**
 * `jitsudo audit verify` against an attacker with the database's superuser rights, who edits,
 * deletes and reorders rows with the append-only triggers disabled: each is found, and the first
 * break is named (tenant, event, position, what differs) with exit status 1.
 */
import type { Knex } from "knex";
import { describe, expect, it } from "vitest";
import { verifyAuditTrail } from "../../src/audit/audit-verify.js";
import { runAudit, tamper, writeEvent } from "../support/audit.js";
import { freshDatabase } from "../support/db.js";

/** Five events of tenant 1 and two of tenant 2, interleaved; returns their ids in order. */
async function trail(db: Knex): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, tenant] of [1, 1, 2, 1, 1, 2, 1].entries()) ids.push(await writeEvent(db, { tenant, reason: `event ${index}` }));
  return ids;
}

function verifyCommand(url: string, schema: string, args: string[] = []) {
  return runAudit(["verify", ...args], { DATABASE_URL: url, DATABASE_SCHEMA: schema });
}

describe("jitsudo audit verify", () => {
  it("passes an untouched trail, exit 0, printing each chain's head", async () => {
    const { db, url, schema } = await freshDatabase();
    const ids = await trail(db);
    const { code, stdout } = await verifyCommand(url, schema);
    expect(code).toBe(0);
    const hashes = (await db("grant_event_chain").whereIn("event_id", [ids[6]!, ids[5]!]).orderBy("tenant").pluck("hash")) as string[];
    expect(stdout.split("\n")).toEqual([
      "audit trail intact: 7 events in 2 tenant chains",
      `tenant 1: head at position 5 (event ${ids[6]}) hash ${hashes[0]}`,
      `tenant 2: head at position 2 (event ${ids[5]}) hash ${hashes[1]}`,
      "",
    ]);
  });

  it("finds an edited row: the event, its position, and that its content no longer matches its hash", async () => {
    const { db, url, schema } = await freshDatabase();
    const ids = await trail(db);
    await tamper(db, [`update grant_events set reason = 'approved by @bob' where id = ${ids[3]}`]);
    const { code, stdout } = await verifyCommand(url, schema);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      new RegExp(
        `^audit trail BROKEN at tenant 1, event ${ids[3]}, position 3: event ${ids[3]} \\(position 3\\) was changed after it was written: its fields now hash to [0-9a-f]{12}…, the chain recorded [0-9a-f]{12}…\\n\\(2 events checked before it were intact\\)\\n$`,
      ),
    );
  });

  it("finds an edit of a fact copied from the grant, and of a time", async () => {
    const { db } = await freshDatabase();
    const ids = await trail(db);
    await tamper(db, [`update grant_events set created_at = created_at - interval '1 second' where id = ${ids[5]}`]);
    expect((await verifyAuditTrail(db)).broken).toMatchObject({ tenant: "2", eventId: ids[5], position: "2" });
    const again = await freshDatabase();
    const more = await trail(again.db);
    await tamper(again.db, [`update grant_events set approvers = '["mallory"]' where id = ${more[0]}`]);
    expect((await verifyAuditTrail(again.db)).broken).toMatchObject({ tenant: "1", eventId: more[0], position: "1" });
  });

  it("finds a deleted row (with its link): the positions missing before the next event", async () => {
    const { db, url, schema } = await freshDatabase();
    const ids = await trail(db);
    await tamper(db, [`delete from grant_event_chain where event_id = ${ids[1]}`, `delete from grant_events where id = ${ids[1]}`]);
    const { code, stdout } = await verifyCommand(url, schema);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `audit trail BROKEN at tenant 1, event ${ids[3]}, position 3: position 2 is missing before event ${ids[3]}: events were deleted from the chain`,
    );
  });

  it("finds a deleted event row whose link was left", async () => {
    const { db } = await freshDatabase();
    const ids = await trail(db);
    await tamper(db, [`delete from grant_events where id = ${ids[4]}`]);
    expect((await verifyAuditTrail(db)).broken).toEqual({
      tenant: "1",
      eventId: ids[4],
      position: "4",
      problem: `event ${ids[4]} is linked at position 4 but its row is gone: it was deleted`,
    });
  });

  it("finds the deletion of a chain's last event through the commit order across tenants", async () => {
    const { db } = await freshDatabase();
    const ids = await trail(db);
    // Tenant 2's last event: nothing follows it in its own chain, but tenant 1's last one follows it in commit order.
    await tamper(db, [`delete from grant_event_chain where event_id = ${ids[5]}`, `delete from grant_events where id = ${ids[5]}`]);
    expect((await verifyAuditTrail(db)).broken).toEqual({
      tenant: null,
      eventId: ids[6],
      position: null,
      problem: `link 6 is missing from the commit order before event ${ids[6]} (tenant 1): events were deleted, the last of a chain perhaps`,
    });
    // Checking tenant 2 alone cannot see it: the chain's head is simply earlier. (Recorded heads can.)
    expect((await verifyAuditTrail(db, { tenant: "2" })).heads.get("2")).toMatchObject({ position: "1", eventId: ids[2] });
  });

  it("finds reordered rows: the first event whose link does not follow the one before it", async () => {
    const { db, url, schema } = await freshDatabase();
    const ids = await trail(db);
    // Swap the chain positions of tenant 1's 2nd and 3rd events (moved out of the way first: positions are unique).
    const [second, third] = [ids[1], ids[3]];
    await tamper(db, [
      `update grant_event_chain set tenant_seq = -tenant_seq, seq = -seq where event_id in (${second}, ${third})`,
      `update grant_event_chain set tenant_seq = 3, seq = 4 where event_id = ${second}`,
      `update grant_event_chain set tenant_seq = 2, seq = 2 where event_id = ${third}`,
    ]);
    const { code, stdout } = await verifyCommand(url, schema);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      new RegExp(
        `^audit trail BROKEN at tenant 1, event ${third}, position 2: event ${third} \\(position 2\\) follows hash [0-9a-f]{12}…, but the event before it \\(${ids[0]}, position 1\\) has hash [0-9a-f]{12}…: events were removed, inserted or reordered here\\n`,
      ),
    );
  });

  it("finds an event written with the triggers off, outside every chain", async () => {
    const { db } = await freshDatabase();
    await trail(db);
    let forged = "";
    await db.transaction(async (trx) => {
      await trx.raw("set local session_replication_role = replica");
      forged = await writeEvent(trx, { tenant: 2, type: "approved", reason: "approved by @bob" });
    });
    expect((await verifyAuditTrail(db)).broken).toEqual({
      tenant: "2",
      eventId: forged,
      position: null,
      problem: `event ${forged} is in no chain: it was written with the database's triggers off, or its link was deleted`,
    });
  });

  it("checks one tenant with --tenant, and refuses a tenant that is not an installation id", async () => {
    const { db, url, schema } = await freshDatabase();
    const ids = await trail(db);
    await tamper(db, [`update grant_events set reason = 'edited' where id = ${ids[0]}`]);
    expect((await verifyCommand(url, schema, ["--tenant", "2"])).stdout).toMatch(/^audit trail intact: 2 events in 1 tenant chain\n/);
    expect((await verifyCommand(url, schema, ["--tenant", "1"])).code).toBe(1);
    const bad = await verifyCommand(url, schema, ["--tenant", "acme"]);
    expect([bad.code, bad.stderr[0]]).toEqual([
      2,
      expect.stringMatching(/^--tenant must be a GitHub App installation id \(digits\), not "acme"\n/),
    ]);
  });
});
