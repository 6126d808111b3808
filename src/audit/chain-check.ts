/**
 * Checking a tenant's hash chain, link by link, in the order of its positions: the pure half of
 * `jitsudo audit verify` (src/audit/audit-verify.ts feeds it from the database). It stops at the
 * first break and says what differs, in the words an auditor needs: which event, which position,
 * and whether it was changed, removed or reordered.
 */
import { CANONICAL_VERSION, GENESIS_HASH, linkHash } from "./canonical.js";

export interface ChainLink {
  seq: string;
  tenant: string;
  /** Position in the tenant's chain, from 1. */
  tenantSeq: string;
  prevHash: string;
  hash: string;
  version: number;
  eventId: string;
  /** The tenant the event's own row names; null when the row is gone. */
  eventTenant: string | null;
  /** The event's canonical fields as they are now (src/audit/canonical.ts); null when its row is gone. */
  fields: (string | null)[] | null;
}

export interface ChainBreak {
  tenant: string;
  eventId: string;
  /** The position in the tenant's chain where it breaks. */
  position: string;
  problem: string;
}

export interface ChainHead {
  position: string;
  hash: string;
  eventId: string;
}

const short = (hash: string) => `${hash.slice(0, 12)}…`;

export class ChainChecker {
  /** The last link checked of each tenant: what to record to check later that nothing was cut off. */
  readonly heads = new Map<string, ChainHead>();
  private intact = 0;
  private tenant: string | undefined;
  private expected = 1n;
  private previous: ChainHead | undefined;

  /** Checks the next link; links come ordered by tenant, then position. Returns the break it shows, if any. */
  check(link: ChainLink): ChainBreak | undefined {
    if (link.tenant !== this.tenant) {
      this.tenant = link.tenant;
      this.expected = 1n;
      this.previous = undefined;
    }
    const problem = this.problemOf(link);
    if (problem) return { tenant: link.tenant, eventId: link.eventId, position: link.tenantSeq, problem };
    this.previous = { position: link.tenantSeq, hash: link.hash, eventId: link.eventId };
    this.heads.set(link.tenant, this.previous);
    this.expected = BigInt(link.tenantSeq) + 1n;
    this.intact += 1;
    return undefined;
  }

  /** Links checked and found intact so far. */
  get checked(): number {
    return this.intact;
  }

  private problemOf(link: ChainLink): string | undefined {
    const position = BigInt(link.tenantSeq);
    if (position !== this.expected) {
      const missing =
        position - 1n === this.expected ? `position ${this.expected} is` : `positions ${this.expected} to ${position - 1n} are`;
      return `${missing} missing before event ${link.eventId}: events were deleted from the chain`;
    }
    if (link.fields === null) return `event ${link.eventId} is linked at position ${position} but its row is gone: it was deleted`;
    if (link.version !== CANONICAL_VERSION) {
      return `event ${link.eventId} is linked in canonical form version ${link.version}; this jitsudo checks version ${CANONICAL_VERSION}: run a jitsudo that knows it`;
    }
    if (link.eventTenant !== link.tenant) {
      return `event ${link.eventId} belongs to tenant ${link.eventTenant} but is linked in the chain of tenant ${link.tenant}: the link was moved`;
    }
    const before = this.previous?.hash ?? GENESIS_HASH;
    if (link.prevHash !== before) {
      const which = this.previous
        ? `the event before it (${this.previous.eventId}, position ${this.previous.position}) has hash ${short(before)}`
        : "the first event of a chain follows the all-zero hash";
      return `event ${link.eventId} (position ${position}) follows hash ${short(link.prevHash)}, but ${which}: events were removed, inserted or reordered here`;
    }
    const actual = linkHash(link.fields);
    if (actual !== link.hash) {
      return `event ${link.eventId} (position ${position}) was changed after it was written: its fields now hash to ${short(actual)}, the chain recorded ${short(link.hash)}`;
    }
    return undefined;
  }
}
