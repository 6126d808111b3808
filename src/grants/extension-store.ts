/**
 * Extensions in the database (the rules are in `extension.ts`): the old grant handed over in the
 * same transaction as its extension's activation, and what the PR comments say of both.
 */
import type { Knex } from "knex";
import { rowsAs } from "../db/knex.js";
import { applyMove, type GrantRow } from "./grant-repository.js";
import { extendedEnd, extensionElsewhere, type Move } from "./lifecycle.js";
import { assignmentLock, sameAssignment, type AssignmentRef } from "./work-queue.js";

/**
 * Activates a grant (the lifecycle's `activate`, guarded by this worker's lease) and, if it extends
 * an active grant, ends that one in the same transaction: `expired` with the assignment kept when
 * both hold the same assignment, else on to `revoking`. Taken under the assignment's lock, as every
 * delete decision is (`intendDelete`), so the old grant's removal never runs between the two.
 * Returns the old grant and its move, for the caller to report.
 */
export async function activateExtending(
  trx: Knex,
  grant: GrantRow & AssignmentRef,
  activation: Move,
  workerId: string,
): Promise<{ old: GrantRow; move: Move } | undefined> {
  await assignmentLock(trx, grant);
  await applyMove(trx, grant, activation, { lease_owner: workerId });
  if (!grant.extends_grant_id) return undefined;
  // Still active and still superseded by this grant: a later edit may have taken the extension over.
  const old = await rowsAs<GrantRow | undefined>(
    trx("grants").where({ id: grant.extends_grant_id, superseded_by: grant.id, status: "active" }).forUpdate().first(),
  );
  if (!old) return undefined;
  const same = JSON.stringify(sameAssignment(old as GrantRow & AssignmentRef)) === JSON.stringify(sameAssignment(grant));
  const move = same ? extendedEnd(grant) : extensionElsewhere(grant);
  // No lease guard: a revoke worker may hold the old grant while it waits for this very activation.
  await applyMove(trx, old, move);
  return { old, move };
}

/** An extension as a PR comment tells of it. */
export interface ExtensionLink {
  id: string;
  pr_number: number;
  status: GrantRow["status"];
  expires_at: Date;
  superseded_by: string | null;
}

/** For a PR's grants: the extension of each one being (or that was) extended, and the grant each one extends. */
export interface ExtensionLinks {
  extendedBy: ReadonlyMap<string, ExtensionLink>;
  extends: ReadonlyMap<string, ExtensionLink>;
}

export const NO_EXTENSION_LINKS: ExtensionLinks = { extendedBy: new Map(), extends: new Map() };

export async function extensionLinks(db: Knex, grants: readonly GrantRow[]): Promise<ExtensionLinks> {
  const extendedIds = grants.filter((grant) => grant.superseded_by).map((grant) => grant.id);
  const extendingIds = grants.flatMap((grant) => (grant.extends_grant_id ? [grant.extends_grant_id] : []));
  if (extendedIds.length === 0 && extendingIds.length === 0) return NO_EXTENSION_LINKS;
  const columns = ["id", "pr_number", "status", "expires_at", "superseded_by", "extends_grant_id"];
  const [extensions, extended] = await Promise.all([
    extendedIds.length
      ? rowsAs<(ExtensionLink & { extends_grant_id: string })[]>(db("grants").whereIn("extends_grant_id", extendedIds).select(columns))
      : [],
    extendingIds.length ? rowsAs<ExtensionLink[]>(db("grants").whereIn("id", extendingIds).select(columns)) : [],
  ]);
  const byId = new Map(grants.map((grant) => [grant.id, grant]));
  return {
    // Only the extension the grant is superseded by now (an earlier one may have been replaced by a later edit).
    extendedBy: new Map(
      extensions
        .filter((extension) => byId.get(extension.extends_grant_id)?.superseded_by === extension.id)
        .map((extension) => [extension.extends_grant_id, extension]),
    ),
    extends: new Map(
      grants.flatMap((grant) => {
        const old = extended.find((candidate) => candidate.id === grant.extends_grant_id);
        return old ? [[grant.id, old] as const] : [];
      }),
    ),
  };
}
