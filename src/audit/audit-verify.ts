/**
 * `jitsudo audit verify`: walks every tenant's hash chain (or one tenant's) from the database, a
 * batch at a time, and stops at the first break; then looks for events outside every chain and,
 * across tenants, for holes in the commit order (which also catch the deletion of a chain's last
 * event, which its own chain cannot show).
 *
 * What it proves: nothing was changed, removed or reordered since it was written, unless whoever
 * did it also recomputed every later hash. Against that, keep the heads it prints (or the hashes a
 * SIEM pulled from GET /api/events) somewhere the database's owner cannot write: a later run
 * whose chain no longer passes through a recorded head shows the rewrite.
 */
import type { Knex } from "knex";
import { chainLinks, firstSeqGap, firstUnlinkedEvent } from "./audit-store.js";
import { ChainChecker, type ChainHead } from "./chain-check.js";

export interface AuditBreak {
  /** Null when the break is in the commit order across tenants and its tenant is unknown. */
  tenant: string | null;
  eventId: string;
  /** Position in the tenant's chain; null for an event in no chain. */
  position: string | null;
  problem: string;
}

export interface VerifyResult {
  /** Links checked and found intact. */
  checked: number;
  /** Each tenant's last intact link. */
  heads: ReadonlyMap<string, ChainHead>;
  /** The first break found; undefined when the trail is intact. */
  broken?: AuditBreak;
}

export async function verifyAuditTrail(db: Knex, options: { tenant?: string } = {}): Promise<VerifyResult> {
  const checker = new ChainChecker();
  const result = (broken?: AuditBreak): VerifyResult => ({ checked: checker.checked, heads: checker.heads, ...(broken ? { broken } : {}) });
  for await (const link of chainLinks(db, options.tenant)) {
    const broken = checker.check(link);
    // Leaving the loop closes the cursor's transaction (src/db/cursor.ts).
    if (broken) return result(broken);
  }
  const unlinked = await firstUnlinkedEvent(db, options.tenant);
  if (unlinked) {
    return result({
      tenant: unlinked.tenant,
      eventId: unlinked.id,
      position: null,
      problem: `event ${unlinked.id} is in no chain: it was written with the database's triggers off, or its link was deleted`,
    });
  }
  if (options.tenant !== undefined) return result();
  const gap = await firstSeqGap(db);
  if (gap) {
    const missing =
      BigInt(gap.seq) - BigInt(gap.expected) === 1n ? `link ${gap.expected} is` : `links ${gap.expected} to ${BigInt(gap.seq) - 1n} are`;
    return result({
      tenant: null,
      eventId: gap.eventId,
      position: null,
      problem: `${missing} missing from the commit order before event ${gap.eventId} (tenant ${gap.tenant}): events were deleted, the last of a chain perhaps`,
    });
  }
  return result();
}
