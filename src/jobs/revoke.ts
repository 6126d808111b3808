/**
 * RevokeGrantWorker: takes access away at `expires_at`, and for early revokes (a deleted request
 * file, `/jitsudo revoke`, a superseding edit, a provisioning that timed out).
 *
 *   claim ─▶ does another live grant need this assignment? ─ yes ─▶ expired (assignment stays)
 *                                                          └ no ──▶ revoking ─▶ DeleteAccountAssignment
 *         ─▶ poll ─▶ revoked (SUCCEEDED, or AWS says the assignment is already gone)
 *                  └ FAILED / error ─▶ stays revoking, retried with backoff, and loud
 *
 * A revoke is never marked done on hope: only a SUCCEEDED deletion or AWS's own "not found" ends
 * it. A revoke that keeps failing stays `revoking` and is retried for as long as it takes, with
 * an error log, a metric, and the reason on the PR, because access that outlives its approval is
 * exactly what jitsudo exists to prevent.
 */
import { resolveTarget } from "../aws/connections.js";
import { backoffMs, classifyAwsError, describeAwsError, rawAwsError } from "../aws/errors.js";
import type { Assignment, IdentityCenter } from "../aws/identity-center.js";
import type { GrantRow } from "../grants/grant-repository.js";
import { claimDueExpiries, claimRevoking, heldGrant, intendDelete, release, updateHeld, type AssignmentRef } from "../grants/work-queue.js";
import { AWS, JITSUDO, removalReason, removed, type EventInput } from "../grants/lifecycle.js";
import { noteEvent } from "../grants/grant-repository.js";
import type { JobContext } from "./context.js";
import type { OperationPoller } from "./operation-poller.js";
import { GrantTasks, moveGrant, reportMove, StepEnded } from "./steps.js";

type Resolved = GrantRow & AssignmentRef;

/** How soon a revoke that waits for another grant's create in flight looks again. */
const WAIT_FOR_CREATE_MS = 500;

/** Failed attempts after which a revoke is reported as failing, not just retried quietly. */
const LOUD_AFTER_ATTEMPTS = 2;
/** Backoff from 1 s doubling: about three minutes of conflicts before a failing revoke is loud. */
const CONFLICT_QUIET_ATTEMPTS = 8;

export class RevokeGrantWorker {
  private readonly tasks: GrantTasks;

  constructor(
    private readonly ctx: JobContext,
    private readonly poller: OperationPoller,
  ) {
    this.tasks = new GrantTasks(
      ctx,
      (grant) => this.revoke(grant),
      (grant, error) => this.retryLater(grant, error),
    );
  }

  /** Expiries first, then early revokes and retries. */
  claimAndStart(): Promise<number> {
    return this.tasks.claimAndStart([claimDueExpiries, claimRevoking]);
  }

  drain(): Promise<void> {
    return this.tasks.drain();
  }

  private async revoke(grant: GrantRow): Promise<void> {
    const { ctx } = this;
    if (!grant.principal_id || !grant.account_id || !grant.permission_set_arn || !grant.instance_arn) {
      // Never resolved, so never created: there is nothing in AWS to remove.
      await this.removed(grant, { actor: JITSUDO, reason: "nothing had been assigned" });
      return;
    }
    const resolved = grant as Resolved;
    const target = resolveTarget(resolved, ctx.defaults);
    if (!target.ok) throw new Error(target.problem);
    const ic = await ctx.aws.connect(target.target, `grant-${grant.id}`, "revoke");

    if (resolved.operation === "delete" && resolved.aws_request_id) {
      return this.await(resolved, ic, resolved.aws_request_id, resolved.operation_started_at?.getTime() ?? ctx.now().getTime());
    }
    const intent = await intendDelete(ctx.db, resolved, ctx.workerId, ctx.now(), removalReason(grant));
    if (intent === "lost") throw new StepEnded();
    if ("waitFor" in intent) {
      // Another grant's create of this assignment is in flight: look again once it has had a moment.
      await release(ctx.db, grant.id, ctx.workerId, { next_attempt_at: new Date(ctx.now().getTime() + WAIT_FOR_CREATE_MS) });
      return;
    }
    if ("coveredBy" in intent) {
      reportMove(ctx, grant, intent.move);
      return;
    }
    const revoking = intent.go;
    if (intent.began) reportMove(ctx, grant, intent.began);

    let result: Awaited<ReturnType<IdentityCenter["deleteAssignment"]>>;
    try {
      result = await ic.deleteAssignment({
        accountId: resolved.account_id,
        permissionSetArn: resolved.permission_set_arn,
        principalType: "USER",
        principalId: resolved.principal_id,
      });
    } catch (error) {
      await updateHeld(ctx.db, revoking, ctx.workerId, { operation: null, operation_started_at: null });
      throw error;
    }
    // Timed from AWS's answer: the deletion had begun by then (and the lag metric errs on the late side).
    const issuedAt = ctx.now();
    this.observeLag(resolved, issuedAt);
    if (result === "not-found") {
      await this.removed(revoking, { actor: AWS, reason: "the assignment was already gone" });
      return;
    }
    if (!(await updateHeld(ctx.db, revoking, ctx.workerId, { aws_request_id: result.requestId, operation_started_at: issuedAt })))
      throw new StepEnded();
    return this.await(revoking, ic, result.requestId, issuedAt.getTime());
  }

  private async await(grant: Resolved, ic: IdentityCenter, requestId: string, startedAt: number): Promise<void> {
    const { ctx } = this;
    const outcome = await this.poller.wait(ic, "delete", requestId, startedAt);
    if (outcome.kind === "stopped") throw new StepEnded();
    // A deletion that FAILED, or whose status AWS no longer keeps (a worker back after a long
    // outage): the assignment itself says whether anything is left. AWS documents neither what
    // deleting a missing assignment does nor how long statuses are kept.
    // Lists lag behind operations, so an empty look is believed only once the assignment's last
    // create is older than that lag; until then the removal is tried again.
    const lastCreate = grant.active_at ?? grant.create_requested_at;
    const listSettled = lastCreate === null || ctx.now().getTime() - lastCreate.getTime() >= ctx.settings.listSettleMs;
    if (((outcome.kind === "finished" && outcome.status.status === "FAILED") || outcome.kind === "unknown-request") && listSettled) {
      if (!(await ic.hasAssignment(assignmentOf(grant)))) {
        await this.removed(grant, {
          actor: AWS,
          reason: `the assignment is gone (deletion request ${requestId} ${outcome.kind === "finished" ? "ended FAILED" : "is no longer known to AWS"})`,
          details: { request_id: requestId },
        });
        return;
      }
    }
    if (outcome.kind === "finished" && outcome.status.status === "SUCCEEDED") {
      await this.removed(grant, { actor: AWS, reason: `assignment deleted (request ${requestId})`, details: { request_id: requestId } });
      const due = this.expiryDue(grant, ctx.now());
      if (due) ctx.metrics.revokeSeconds.observe((ctx.now().getTime() - due.getTime()) / 1000);
      return;
    }
    const problem =
      outcome.kind === "timeout"
        ? `Identity Center did not finish deleting the assignment within ${Math.round(ctx.settings.pollTimeoutMs / 1000)} s (request ${requestId})`
        : outcome.kind === "unknown-request"
          ? `Identity Center does not know deletion request ${requestId}`
          : `Identity Center could not delete the assignment: ${outcome.status.failureReason ?? "no reason given"} (request ${requestId})`;
    await updateHeld(ctx.db, grant, ctx.workerId, { operation: null, operation_started_at: null, aws_request_id: null });
    throw new RevokeFailed(problem);
  }

  /** A failed revoke stays `revoking` and is tried again; after a couple of tries, loudly. */
  private async retryLater(grant: GrantRow, error: unknown): Promise<void> {
    const { ctx } = this;
    if (error instanceof StepEnded) {
      await release(ctx.db, grant.id, ctx.workerId);
      return;
    }
    const current = await heldGrant(ctx.db, grant.id, ctx.workerId);
    if (!current) return;
    const reason = error instanceof RevokeFailed ? error.message : describeAwsError(error);
    const attempts = current.attempts + 1;
    const delay = backoffMs(current.attempts, { baseMs: ctx.settings.retryBaseMs, maxMs: 60_000 });
    // AWS answers ConflictException for minutes after another write to the assignment, and under
    // load (its own tools wait up to 3 minutes): expected, so quiet for as long as that lasts.
    const kind = classifyAwsError(error);
    const loud =
      error instanceof RevokeFailed ||
      kind === "access-denied" ||
      attempts >= (kind === "conflict" ? CONFLICT_QUIET_ATTEMPTS : LOUD_AFTER_ATTEMPTS);
    const details = {
      grant: grant.id,
      pr: grant.pr_number,
      repo: grant.repo,
      attempt: attempts,
      retryInMs: delay,
      err: rawAwsError(error),
      reason,
    };
    if (loud) {
      ctx.log.error(details, "revoke failed: the assignment is still in place; retrying");
      ctx.metrics.revokeFailures.inc();
      await noteEvent(ctx.db, current, { type: "revoke_failed", actor: JITSUDO, reason, details: { attempt: attempts } });
    } else {
      ctx.log.warn(details, "revoke step failed; retrying");
    }
    await release(ctx.db, grant.id, ctx.workerId, { attempts, next_attempt_at: new Date(ctx.now().getTime() + delay), last_error: reason });
    if (loud) ctx.reporter.changed(current);
  }

  /** Nothing of the grant is left in AWS (see the lifecycle's `removed`). */
  private async removed(grant: GrantRow, event: Omit<EventInput, "type">): Promise<void> {
    await moveGrant(this.ctx, grant, removed(grant, event));
  }

  /** The expiry this removal carries out, if it is one (early revokes have no expiry to lag behind). */
  private expiryDue(grant: GrantRow, at: Date): Date | undefined {
    return grant.expires_at <= at ? grant.expires_at : undefined;
  }

  private observeLag(grant: GrantRow, issuedAt: Date): void {
    const due = this.expiryDue(grant, issuedAt);
    if (due) this.ctx.metrics.revokeLagSeconds.observe((issuedAt.getTime() - due.getTime()) / 1000);
  }
}

class RevokeFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RevokeFailed";
  }
}

function assignmentOf(grant: Resolved): Assignment {
  return {
    accountId: grant.account_id,
    permissionSetArn: grant.permission_set_arn,
    principalType: "USER",
    principalId: grant.principal_id,
  };
}
