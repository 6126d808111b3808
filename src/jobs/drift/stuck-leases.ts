/**
 * Stuck leases: a grant of this tenant held by a live worker but stuck in `provisioning` /
 * `revoking` for twice the poll timeout has its lease freed, so that a worker resumes it. (A
 * worker that died lets go of its leases by itself, with its session lock; this is for one that
 * lives on but lost track of a grant.)
 */
import { noteEvent, wakeWorkers } from "../../grants/grant-repository.js";
import { JITSUDO } from "../../grants/lifecycle.js";
import { freeLease, grantsHeldSince } from "../../grants/work-queue.js";
import type { JobContext } from "../context.js";
import type { TenantScope } from "../drift-plan.js";

/** This tenant's grants a live worker has held past twice the poll timeout: free them so a worker resumes them. */
export async function resumeStuck(ctx: JobContext, scope: TenantScope): Promise<number> {
  const before = new Date(ctx.now().getTime() - ctx.settings.pollTimeoutMs * 2);
  const stuck = await grantsHeldSince(ctx.db, { instanceArn: scope.target.instanceArn, repositoryId: scope.repositoryId }, before);
  for (const grant of stuck) {
    if (!(await freeLease(ctx.db, grant))) continue;
    ctx.metrics.driftFindings.inc({ kind: "stuck" });
    ctx.log.warn(
      { grant: grant.id, status: grant.status, worker: grant.lease_owner },
      "drift: a grant was stuck with its worker; freed for another to resume",
    );
    await noteEvent(ctx.db, grant, {
      type: "drift_resumed",
      actor: JITSUDO,
      reason: `stuck in ${grant.status} with worker ${grant.lease_owner} since ${grant.updated_at.toISOString()}; resumed`,
    });
  }
  if (stuck.length > 0) await wakeWorkers(ctx.db);
  return stuck.length;
}
