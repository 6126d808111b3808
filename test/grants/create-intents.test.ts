/**
 * `intendCreates`: the create slots of an instance (AWS allows 10 creations in flight), taken for
 * several waiting grants in one transaction. The batch must decide exactly as one grant at a time
 * would: in order, up to the cap, never past a pending delete of the same assignment, never for a
 * grant this worker no longer holds, and sharing slots with another tenant's waiting grants.
 */
import type { Knex } from "knex";
import { describe, expect, it } from "vitest";
import { recordMerge, type GrantRow, type NewGrant } from "../../src/grants/grant-repository.js";
import { intendCreates, markCreatesFinished, type AssignmentRef } from "../../src/grants/work-queue.js";
import { freshDatabase } from "../support/db.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef";
const PERMISSION_SET = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
const WORKER = "worker-a";

const newGrant = (index: number): NewGrant => ({
  filePath: `access-requests/user${index}.yaml`,
  blobSha: "a".repeat(40),
  requester: `user${index}`,
  principal: `user${index}@example.com`,
  accountRef: "123456789012",
  permissionSetRef: "ReadOnlyAccess",
  startsAt: new Date("2026-11-25T12:00:00Z"),
  expiresAt: new Date("2027-11-25T14:00:00Z"),
  reason: "Investigate the latency alarms",
  approvers: ["bob"],
  approverSets: [],
  policyRule: 0,
  aws: { instanceArn: INSTANCE },
});

/** `count` grants of one tenant, provisioning, held by WORKER, waiting for a slot. */
async function waitingGrants(db: Knex, count: number, repositoryId = 424242, first = 0): Promise<(GrantRow & AssignmentRef)[]> {
  const { grantIds } = await recordMerge(db, {
    tenant: 1,
    repositoryId,
    repo: `acme/access-${repositoryId}`,
    prNumber: 1 + first,
    mergeCommitSha: String(first).padStart(40, "m"),
    mergedAt: new Date("2026-11-25T12:00:00Z"),
    verdict: "approved",
    reasons: [],
    actor: "jitsudo",
    details: {},
    grants: Array.from({ length: count }, (_, index) => newGrant(first + index)),
    revokedPaths: [],
  });
  for (const [index, id] of grantIds.entries()) {
    await db("grants")
      .where({ id })
      .update({
        status: "provisioning",
        lease_owner: WORKER,
        account_id: "123456789012",
        permission_set_arn: PERMISSION_SET,
        principal_id: `user-${first + index}`,
      });
  }
  return (await db("grants").whereIn("id", grantIds).orderBy("pr_number").orderBy("file_path")) as (GrantRow & AssignmentRef)[];
}

const byId = <G extends GrantRow>(grants: G[], ids: string[]) => ids.map((id) => grants.find((grant) => grant.id === id)!);

describe("intendCreates", () => {
  it("gives the free slots to the first grants in line, in one transaction, and says no to the rest", async () => {
    const { db } = await freshDatabase();
    const grants = await waitingGrants(db, 12);
    const ordered = byId(
      grants,
      grants.map((grant) => grant.id),
    );
    const intents = await intendCreates(db, ordered, WORKER, new Date(), 10);
    expect(intents).toEqual([...Array(10).fill("go"), "no-slot", "no-slot"]);
    const marked = await db("grants").where({ operation: "create" }).pluck("id");
    expect(new Set(marked)).toEqual(new Set(ordered.slice(0, 10).map((grant) => grant.id)));
    // Slots already taken count: nothing is left for the last two.
    expect(await intendCreates(db, ordered.slice(10), WORKER, new Date(), 10)).toEqual(["no-slot", "no-slot"]);
  });

  it("frees the slots of creates a status list showed finished, before their outcomes are recorded", async () => {
    const { db } = await freshDatabase();
    const grants = await waitingGrants(db, 13);
    expect(await intendCreates(db, grants.slice(0, 10), WORKER, new Date(), 10)).toEqual(Array(10).fill("go"));
    for (const [index, grant] of grants.slice(0, 10).entries())
      await db("grants")
        .where({ id: grant.id })
        .update({ aws_request_id: `req-${index}` });
    // The list showed three finished (one of them another instance's request id: not ours, not counted).
    expect(await markCreatesFinished(db, INSTANCE, ["req-0", "req-1", "req-2"], new Date())).toBe(3);
    expect(await markCreatesFinished(db, "arn:aws:sso:::instance/ssoins-other", ["req-3"], new Date())).toBe(0);
    // Their grants still record the create (a crash now resumes by polling it), but hold no slot.
    expect(await db("grants").where({ operation: "create" }).count({ n: "*" })).toEqual([{ n: "10" }]);
    expect(await intendCreates(db, grants.slice(10), WORKER, new Date(), 10)).toEqual(["go", "go", "go"]);
    // A new create starts unmarked: it holds its slot until a list shows it finished.
    expect(
      await db("grants")
        .whereIn(
          "id",
          grants.slice(10).map((grant) => grant.id),
        )
        .whereNotNull("operation_finished_at")
        .count({ n: "*" }),
    ).toEqual([{ n: "0" }]);
    expect(await intendCreates(db, grants.slice(0, 1), WORKER, new Date(), 10)).toEqual(["no-slot"]);
  });

  it("waits for a pending delete of the same assignment, and reports grants it no longer holds as lost", async () => {
    const { db } = await freshDatabase();
    const grants = await waitingGrants(db, 3);
    const [deleting, blocked, lost] = grants as [GrantRow & AssignmentRef, GrantRow & AssignmentRef, GrantRow & AssignmentRef];
    // `deleting` removes the very assignment `blocked` wants; `lost` was taken over by another worker.
    await db("grants").where({ id: deleting.id }).update({ status: "revoking", operation: "delete" });
    await db("grants").where({ id: blocked.id }).update({ principal_id: deleting.principal_id });
    await db("grants").where({ id: lost.id }).update({ lease_owner: "worker-b" });
    const intents = await intendCreates(db, [{ ...blocked, principal_id: deleting.principal_id }, lost], WORKER, new Date(), 10);
    expect(intents).toEqual([{ blockedBy: deleting.id }, "lost"]);
    expect(await db("grants").where({ operation: "create" }).count({ n: "*" })).toEqual([{ n: "0" }]);
  });

  it("keeps to its even share while another tenant's grants wait", async () => {
    const { db } = await freshDatabase();
    await waitingGrants(db, 2, 424243, 100); // the other tenant: two grants waiting for a slot
    const mine = await waitingGrants(db, 8);
    const intents = await intendCreates(db, mine, WORKER, new Date(), 10);
    // Two tenants: a share of 5 each while the other waits.
    expect(intents).toEqual([...Array(5).fill("go"), ...Array(3).fill("no-slot")]);
  });
});
