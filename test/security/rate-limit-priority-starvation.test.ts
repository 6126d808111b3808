/**
 * Security review 3: tenants take turns at the rate limiter only WITHIN one priority, so one
 * tenant's storm of "revoke"-priority calls holds every call of every other tenant of lower
 * priority (creates, name lookups, status reads, drift) behind the whole storm.
 *
 * `InstancePump.next()` (src/aws/rate-limiter.ts:233-239) serves priorities strictly in order and
 * `TenantTurns` only rotates tenants inside a priority. A tenant can keep the revoke queue full on
 * its own: every grant of its that AWS refuses to create ends `revoking`, and when its role may
 * not delete either (a role scoped to the tenant's own permission sets, as the README asks, and a
 * request for another set), its DeleteAccountAssignment is retried forever, every ≤ 60 s per grant
 * (src/jobs/revoke.ts:138), at "revoke" priority. ~1,200 such grants (24 merged pull requests of
 * 50 files, approved by that tenant's own code owners) are 20 calls a second: the instance's whole
 * budget, and no other tenant's access is created while they last.
 */
import { describe, expect, it } from "vitest";
import { SharedRateLimiter } from "../../src/aws/rate-limiter.js";
import { freshDatabase } from "../support/db.js";

const INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111";
const ACME = "700001";
const GLOBEX = "800001";

describe("one tenant's storm of revoke-priority calls", () => {
  it("delays another tenant's create by a turn, not by the whole storm", async () => {
    const { db } = await freshDatabase();
    const limiter = new SharedRateLimiter(db, { ratePerSecond: 50, burst: 1 });
    await limiter.acquire(INSTANCE, "revoke", GLOBEX);
    const order: string[] = [];
    // globex's refused deletes, retried at revoke priority.
    const storm = Array.from({ length: 30 }, (_, index) =>
      limiter.acquire(INSTANCE, "revoke", GLOBEX).then(() => order.push(`globex-delete-${index}`)),
    );
    // acme's CreateAccountAssignment for a grant whose start has come.
    const create = limiter.acquire(INSTANCE, "provision", ACME).then(() => order.push("acme-create"));
    await Promise.all([...storm, create]);
    expect(order.indexOf("acme-create"), "acme's create waited for globex's whole storm").toBeLessThanOrEqual(3);
  });
});
