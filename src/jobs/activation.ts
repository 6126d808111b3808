/**
 * A grant's activation, which for an extension is also the end of the grant it extends: both in one
 * transaction (src/grants/extension-store.ts), both reported on their pull requests.
 */
import { StaleGrantError, type GrantRow } from "../grants/grant-repository.js";
import { activateExtending } from "../grants/extension-store.js";
import type { Move } from "../grants/lifecycle.js";
import type { AssignmentRef } from "../grants/work-queue.js";
import type { JobContext } from "./context.js";
import { moveGrant, reportMove, StepEnded } from "./steps.js";

export async function activateGrant(ctx: JobContext, grant: GrantRow & AssignmentRef, activation: Move): Promise<void> {
  if (!grant.extends_grant_id) {
    await moveGrant(ctx, grant, activation);
    return;
  }
  let handedOver: Awaited<ReturnType<typeof activateExtending>>;
  try {
    handedOver = await ctx.db.transaction((trx) => activateExtending(trx, grant, activation, ctx.workerId));
  } catch (error) {
    if (error instanceof StaleGrantError) throw new StepEnded("the grant moved under this worker");
    throw error;
  }
  reportMove(ctx, grant, activation);
  if (handedOver) {
    ctx.log.info({ grant: handedOver.old.id, extension: grant.id, to: handedOver.move.to }, "grant handed over to its extension");
    reportMove(ctx, handedOver.old, handedOver.move);
  }
}
