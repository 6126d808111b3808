/**
 * ProvisionGrantWorker: turns `approved` grants whose start has come into Identity Center account
 * assignments, and marks them `active` only once AWS says the assignment SUCCEEDED.
 *
 *   claim ─▶ provisioning ─▶ resolve names ─▶ wait for a create slot ─▶ CreateAccountAssignment
 *         ─▶ poll ─▶ active | failed (AWS said FAILED) | revoking (no answer in time: remove it)
 *
 * Giving up never leaves access behind: once a create may have been sent, a grant that cannot be
 * provisioned goes to `revoking` and ends only when AWS confirms nothing is assigned.
 *
 * Crash-safe: every step is recorded before the next one starts. A grant left in `provisioning` by
 * a worker that died is claimed again (its lease is free) and resumed: a recorded request id is
 * polled first; otherwise the create is sent again, which AWS accepts for an assignment that
 * already exists. Transient errors (throttles the SDK could not absorb, 5xx, conflicts) are
 * retried with backoff until the grant's window has passed; errors that retrying cannot fix (the
 * role is not trusted, the user does not exist) fail the grant with the reason on its PR.
 */
import { resolveTarget, type AwsTarget } from "../aws/connections.js";
import { externalIdFor } from "../aws/credentials.js";
import { backoffMs, classifyAwsError, describeAwsError, rawAwsError, refusedByAws } from "../aws/errors.js";
import { AccessRepositories } from "../config/access-repositories.js";
import type { Assignment, IdentityCenter, OperationStatus } from "../aws/identity-center.js";
import type { GrantRow } from "../grants/grant-repository.js";
import {
  claimDueStarts,
  claimProvisioning,
  createMayHaveBeenSent,
  heldGrant,
  intendCreates,
  markCreatesFinished,
  release,
  tenantKey,
  type CreateIntent,
  updateHeld,
  type AssignmentRef,
} from "../grants/work-queue.js";
import { activate, createFailed, giveUp, start, windowEndedBeforeStart, windowEndedReason } from "../grants/lifecycle.js";
import type { JobContext } from "./context.js";
import { CreateSlotLine } from "./create-slots.js";
import type { OperationOutcome, OperationPoller } from "./operation-poller.js";
import { activateGrant } from "./activation.js";
import { recheckPolicy } from "./policy-recheck.js";
import { formatSessionDuration, type SessionDurationReading } from "../aws/session-duration.js";
import { quote } from "../parsing/printable.js";
import { GrantTasks, moveGrant, StepEnded } from "./steps.js";

type Resolved = GrantRow & AssignmentRef;
/** A grant in the create-slot line, with the Identity Center its create will be sent through. */
interface SlotRequest {
  grant: Resolved;
  ic: IdentityCenter;
  /** Resolves once its create has left for AWS, or once it is certain not to (see `createsFinished`). */
  left: Promise<void>;
  readonly leave: () => void;
}

function slotRequest(grant: Resolved, ic: IdentityCenter): SlotRequest {
  let leave = () => undefined as void;
  const left = new Promise<void>((resolve) => (leave = resolve));
  return { grant, ic, left, leave };
}

export class ProvisionGrantWorker {
  private readonly tasks: GrantTasks;
  private readonly slots: CreateSlotLine<SlotRequest, CreateIntent>;
  private stopping = false;

  constructor(
    private readonly ctx: JobContext,
    private readonly poller: OperationPoller,
  ) {
    this.slots = new CreateSlotLine<SlotRequest, CreateIntent>(
      (requests) =>
        intendCreates(
          ctx.db,
          requests.map((request) => request.grant),
          ctx.workerId,
          ctx.now(),
          ctx.settings.maxCreatesInFlight,
        ),
      // No slot yet: wait in line, unless the grant's window has ended meanwhile.
      (intent, { grant }) => intent === "no-slot" && grant.expires_at > ctx.now(),
      ctx.settings.maxCreatesInFlight,
      // Its role session is assumed before its turn (an AssumeRole round trip), not on its create.
      ({ grant, ic }) =>
        void ic.prepareSession().catch((error: unknown) => {
          // The create asks again and handles the error where it can say what it means.
          ctx.log.debug?.({ grant: grant.id, err: rawAwsError(error) }, "role session not prepared ahead of the create");
        }),
    );
    this.tasks = new GrantTasks(
      ctx,
      (grant) => this.provision(grant),
      (grant, error) => this.retryLater(grant, error),
    );
  }

  /** Grants left mid-way first (their AWS operations may be in flight), then those whose start has come. */
  claimAndStart(): Promise<number> {
    return this.tasks.claimAndStart([claimProvisioning, claimDueStarts]);
  }

  /** Someone may have freed a create slot: let waiting grants try again. */
  slotFreed(instanceArn?: string): void {
    void this.slots.freed(instanceArn);
  }

  /**
   * A status list showed these creates finished: their slots are free now, while their outcomes
   * are still being read. Resolves once the creates of the grants waiting for those slots have
   * left for AWS: the operation poller reads the outcomes only then, because the activations those
   * outcomes release (ten transactions for a wave) would otherwise take the pool connections and
   * the CPU the next wave's slot claim, rate-limit reservation and signing wait for (measured: the
   * next wave left 12 ms after the status list instead of 28 ms, bench/provisioning.bench.ts).
   * If the mark fails, the slots free as before, once each outcome is recorded.
   */
  async createsFinished(instanceArn: string, requestIds: string[]): Promise<void> {
    try {
      const n = await markCreatesFinished(this.ctx.db, instanceArn, requestIds, this.ctx.now());
      if (n === 0) return;
      const started = await this.slots.freed(instanceArn);
      await Promise.all(started.map((request) => request.left));
    } catch (error) {
      this.ctx.log.warn({ err: error, instanceArn }, "could not free the slots of finished creates early");
    }
  }

  drain(): Promise<void> {
    return this.tasks.drain();
  }

  /** Grants waiting for a create slot let go of it (they are resumed by the next worker). */
  stop(): void {
    this.stopping = true;
    this.slotFreed();
  }

  private async provision(claimed: GrantRow): Promise<void> {
    const { ctx } = this;
    let grant = claimed;
    const target = resolveTarget(grant, ctx.defaults);

    // Expiry is checked at every step, whatever the status: a grant sent back to provisioning by
    // drift repair, or resumed after a crash, must not be created again after its window.
    if (grant.expires_at <= ctx.now()) return this.windowEnded(grant);
    if (grant.status === "approved") {
      grant = await moveGrant(ctx, grant, start(target.ok ? target.target : undefined));
    }
    if (!target.ok) return this.giveUp(grant, target.problem);
    const refused = await ownCredentialsRefusal(ctx, grant, target.target);
    if (refused) return this.giveUp(grant, refused);

    const ic = await this.connect(grant, target.target);
    const resolved = await this.resolve(grant, ic);
    if (!resolved) return;

    // A request id recorded by an earlier attempt: its outcome comes first.
    if (resolved.operation === "create" && resolved.aws_request_id) {
      return this.await(resolved, ic, resolved.aws_request_id, resolved.operation_started_at?.getTime() ?? ctx.now().getTime());
    }
    // Before every create (the first, a resumed one, a drift repair): how long sessions outlast it.
    if (!(await this.sessionDurationAllows(resolved, ic))) return;
    const slot = resolved.operation !== "create" ? await this.reserveSlot(resolved, ic) : undefined;
    let sent: OperationStatus;
    try {
      if (resolved.expires_at <= ctx.now()) {
        // The window ended while names were resolved or a slot was awaited: nothing is sent.
        await updateHeld(ctx.db, resolved, ctx.workerId, { operation: null, operation_started_at: null });
        this.slotFreed(resolved.instance_arn);
        return this.windowEnded(resolved);
      }
      sent = await this.sendCreate(grant, resolved, ic, slot?.leave);
    } finally {
      slot?.leave();
    }
    const { requestId } = sent;
    // Timed from AWS's answer: however long the call waited for a rate-limit slot, the operation
    // began by then; and from its arrival, not from when the SDK finished parsing it.
    const startedAt = new Date(ctx.now().getTime() - (sent.answeredMsAgo ?? 0));
    if (!(await updateHeld(ctx.db, resolved, ctx.workerId, { aws_request_id: requestId, operation_started_at: startedAt })))
      throw new StepEnded();
    return this.await(resolved, ic, requestId, startedAt.getTime());
  }

  /** Asks AWS to create the assignment; returns AWS's answer. A refusal frees the slot and is rethrown, or ends the grant. */
  private async sendCreate(grant: GrantRow, resolved: Resolved, ic: IdentityCenter, onSent?: () => void): Promise<OperationStatus> {
    const { ctx } = this;
    try {
      const status = await ic.createAssignment(assignmentOf(resolved), onSent ? { onSent } : {});
      return status;
    } catch (error) {
      // Nothing was created: give the slot back; retryLater decides when to try again. If AWS
      // refused this, the first create, outright (a 4xx), it certainly created nothing: no removal
      // needs confirming if the grant is given up.
      const neverSent = resolved.create_requested_at === null && refusedByAws(error);
      await updateHeld(ctx.db, resolved, ctx.workerId, {
        operation: null,
        operation_started_at: null,
        ...(neverSent ? { create_requested_at: null } : {}),
      });
      this.slotFreed(resolved.instance_arn);
      if (classifyAwsError(error) === "access-denied" && (await ic.managementAccountId()) === resolved.account_id) {
        ctx.log.warn({ grant: grant.id, err: rawAwsError(error) }, "AWS refused an assignment in the management account");
        await this.giveUp(
          resolved,
          `account ${resolved.account_id} is the organisation's management account, and AWS refuses assignments there to a delegated administrator (which jitsudo's role for this tenant is); ask the platform team for access to the management account another way`,
        );
        throw new StepEnded();
      }
      throw error;
    }
  }

  private async connect(grant: GrantRow, target: AwsTarget): Promise<IdentityCenter> {
    try {
      return await this.ctx.aws.connect(target, `grant-${grant.id}`, "provision");
    } catch (error) {
      if (classifyAwsError(error) === "access-denied") {
        const role = target.roleArn
          ? `assume ${target.roleArn} (ExternalId ${externalIdFor(target.tenant, target.repositoryId)})`
          : "use its own credentials";
        this.ctx.log.warn({ grant: grant.id, err: rawAwsError(error) }, "could not reach the tenant's Identity Center");
        await this.giveUp(grant, `jitsudo could not ${role}: ${describeAwsError(error)}`);
        throw new StepEnded();
      }
      throw error;
    }
  }

  /** Names to ids: the user, the account, the permission set. Undefined when the grant failed on one. */
  private async resolve(grant: GrantRow, ic: IdentityCenter): Promise<Resolved | undefined> {
    const checked = grant.policy_rechecked_at !== null || grant.create_requested_at !== null;
    if (checked && grant.principal_id && grant.account_id && grant.permission_set_arn && grant.instance_arn) return grant as Resolved;
    const { directory } = this.ctx;
    const [principal, account, permissionSet] = await Promise.all([
      directory.principalId(ic, grant.principal),
      directory.accountId(ic, grant.account_ref),
      directory.permissionSetArn(ic, grant.permission_set_ref),
    ]);
    const problem = [principal, account, permissionSet].find((result) => !result.ok);
    if (problem && !problem.ok) {
      await this.giveUp(grant, problem.problem);
      return undefined;
    }
    const ids = {
      principal_id: principal.ok ? principal.id : null,
      account_id: account.ok ? account.id : null,
      permission_set_arn: permissionSet.ok ? permissionSet.id : null,
      instance_arn: ic.instanceArn,
    };
    const resolved = { ...grant, ...ids } as Resolved;
    // Before anything is created: the request judged again on the ids it turned out to name.
    const recheck = grant.create_requested_at === null ? await recheckPolicy(this.ctx.db, directory, ic, resolved) : undefined;
    if (recheck && !recheck.ok) {
      await this.giveUp(grant, `refused on its canonical ids: ${recheck.problem}`);
      return undefined;
    }
    // The cap of the rule that decides on the canonical ids, kept for every later create (a repair).
    const cap = recheck ? { max_session_seconds: capSeconds(recheck.rule.maxSessionDurationMs) } : {};
    const rechecked = recheck ? { policy_rechecked_at: this.ctx.now(), ...cap } : {};
    if (!(await updateHeld(this.ctx.db, grant, this.ctx.workerId, { ...ids, ...rechecked }))) throw new StepEnded();
    return { ...resolved, ...cap };
  }

  /**
   * The permission set's session duration, within the cap of the rule that decided the grant
   * (`max_session_duration`): a session opened before the assignment is deleted lasts that long, so
   * it is how long access outlasts the grant. Fails closed: when it cannot be read, nothing is
   * created. Read through the directory's cache (one DescribePermissionSet per permission set every
   * few minutes, whatever the number of grants) and kept on the grant, the longest seen, for the
   * pull request and the grants API. False when the grant was given up.
   */
  private async sessionDurationAllows(grant: Resolved, ic: IdentityCenter): Promise<boolean> {
    const { ctx } = this;
    const permissionSet = quote(grant.permission_set_ref, 100);
    let reading: SessionDurationReading;
    try {
      reading = await ctx.directory.sessionDuration(ic, grant.permission_set_arn);
    } catch (error) {
      // Throttling and AWS's own failures are retried with backoff (nothing is created meanwhile); a refusal is final.
      const kind = classifyAwsError(error);
      if (kind !== "access-denied" && kind !== "invalid" && kind !== "not-found") throw error;
      ctx.log.warn({ grant: grant.id, err: rawAwsError(error) }, "could not read the permission set's session duration");
      reading = {
        ok: false,
        problem:
          kind === "access-denied"
            ? `AWS refused jitsudo sso:DescribePermissionSet (${(error as { name?: string }).name ?? "AccessDenied"}), which the tenant role needs (ask the platform team)`
            : describeAwsError(error),
      };
    }
    if (!reading.ok) {
      await this.refuseCreate(
        grant,
        `jitsudo could not read the session duration of permission set ${permissionSet}: ${reading.problem}; nothing was assigned, since it could not say when access would really end`,
      );
      return false;
    }
    // Kept even when refused: the pull request check of the next request for this set reads it.
    const seconds = Math.max(reading.seconds, grant.session_duration_seconds ?? 0);
    if (!(await updateHeld(ctx.db, grant, ctx.workerId, { session_duration_seconds: seconds, session_duration_read_at: ctx.now() })))
      throw new StepEnded();
    const cap = grant.max_session_seconds;
    if (cap !== null && reading.seconds > cap) {
      const [session, allowed] = [formatSessionDuration(reading.seconds), formatSessionDuration(cap)];
      await this.refuseCreate(
        grant,
        `permission set ${permissionSet} has a session duration of ${session} in Identity Center, longer than the ${allowed} its policy rule allows (max_session_duration): a session opened during the grant could last ${session} after it ends; nothing was assigned. Ask for a permission set whose session duration is ${allowed} or less, or ask an Identity Center admin to shorten this one's`,
      );
      return false;
    }
    return true;
  }

  /** Gives up before a create is sent; a create slot it held from an earlier attempt is freed for the next in line. */
  private async refuseCreate(grant: Resolved, reason: string): Promise<void> {
    await this.giveUp(grant, reason);
    if (grant.operation === "create") this.slotFreed(grant.instance_arn);
  }

  /**
   * Waits until the instance has a free create slot (AWS allows 10 in flight) and no delete of this
   * assignment is pending; returns the slot's request, to be told when the create leaves.
   */
  private async reserveSlot(grant: Resolved, ic: IdentityCenter): Promise<SlotRequest> {
    for (;;) {
      const request = slotRequest(grant, ic);
      const answer = await this.slots.take({ instanceArn: grant.instance_arn, tenant: tenantKey(grant) }, request, () => this.stopping);
      // The caller tells when the create leaves; any other answer sends nothing.
      if (answer === "go") return request;
      request.leave();
      if (this.stopping || answer === "stopped") throw new StepEnded("shutting down");
      if (answer === "lost") throw new StepEnded();
      if (grant.expires_at <= this.ctx.now()) {
        await this.giveUp(grant, "its access window ended while it waited for Identity Center");
        throw new StepEnded();
      }
      // A delete of this very assignment is pending: wait for it outside the line, then queue again.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  private async await(grant: Resolved, ic: IdentityCenter, requestId: string, startedAt: number): Promise<void> {
    const outcome = await this.poller.wait(ic, "create", requestId, startedAt);
    if (outcome.kind === "stopped") throw new StepEnded(); // shutting down: the next worker polls the same request id
    try {
      await this.settle(grant, ic, requestId, outcome);
    } finally {
      // Only now is the grant's operation cleared in the database: the next in line can count a free slot.
      this.slotFreed(grant.instance_arn);
    }
  }

  private async settle(
    grant: Resolved,
    ic: IdentityCenter,
    requestId: string,
    found: Exclude<OperationOutcome, { kind: "stopped" }>,
  ): Promise<void> {
    let outcome = found;
    const { ctx } = this;
    if (outcome.kind === "unknown-request") {
      // AWS no longer knows the request (statuses are not kept forever; a worker back after a long
      // outage): the assignment itself says whether it was created. If not, ask again (creating is idempotent).
      if (await ic.hasAssignment(assignmentOf(grant))) {
        outcome = { kind: "finished", status: { requestId, status: "SUCCEEDED" } };
      } else {
        await updateHeld(ctx.db, grant, ctx.workerId, { aws_request_id: null });
        throw new Error(`Identity Center does not know create request ${requestId} and the assignment is not there; creating it again`);
      }
    }
    if (outcome.kind === "timeout") {
      // Unknown whether the assignment exists: giving up goes through a confirmed removal.
      await this.giveUp(
        grant,
        `Identity Center did not finish creating the assignment within ${Math.round(ctx.settings.pollTimeoutMs / 1000)} s (request ${requestId})`,
      );
      return;
    }
    const { status } = outcome;
    if (status.status === "SUCCEEDED") {
      const now = ctx.now();
      // An extension's activation also ends the grant it extends, keeping the assignment (no gap).
      await activateGrant(ctx, grant, activate(requestId, now));
      ctx.metrics.provisionSeconds.observe(Math.max(0, now.getTime() - grant.starts_at.getTime()) / 1000);
      return;
    }
    await moveGrant(ctx, grant, createFailed(requestId, status.failureReason));
  }

  /**
   * A grant whose window ended before it was active: never created now; anything an earlier create
   * left is removed. It ends `failed` with the reason, never `expired`: the requester never had it.
   */
  private async windowEnded(grant: GrantRow): Promise<void> {
    if (grant.status === "approved") {
      await moveGrant(this.ctx, grant, windowEndedBeforeStart(grant.expires_at));
      return;
    }
    await this.giveUp(grant, windowEndedReason(grant.expires_at));
  }

  /** Gives up on provisioning a grant (see the lifecycle's `giveUp`). */
  private async giveUp(grant: GrantRow, reason: string): Promise<void> {
    const { ctx } = this;
    ctx.log.warn({ grant: grant.id, pr: grant.pr_number, reason }, "grant failed");
    await moveGrant(ctx, grant, giveUp(reason, await createMayHaveBeenSent(ctx.db, grant.id)));
  }

  /** After an error: if the grant can still start in time, try again after a backoff; never lose it. */
  private async retryLater(grant: GrantRow, error: unknown): Promise<void> {
    const { ctx } = this;
    if (error instanceof StepEnded) {
      // The grant was finished, or moved under us (an early revoke): whatever we held is let go.
      await release(ctx.db, grant.id, ctx.workerId);
      return;
    }
    const current = await heldGrant(ctx.db, grant.id, ctx.workerId);
    if (!current) return;
    const reason = describeAwsError(error);
    const kind = classifyAwsError(error);
    if (kind === "access-denied" || kind === "invalid")
      ctx.log.warn({ grant: grant.id, err: rawAwsError(error) }, "Identity Center refused a provisioning step");
    if (current.status === "provisioning" && (kind === "access-denied" || kind === "invalid")) {
      await this.giveUp(current, `Identity Center refused the request: ${reason}`).catch(() => undefined);
      await release(ctx.db, grant.id, ctx.workerId);
      return;
    }
    const delay = backoffMs(current.attempts, { baseMs: ctx.settings.retryBaseMs });
    if (current.status === "provisioning" && current.expires_at.getTime() <= ctx.now().getTime() + delay) {
      await this.giveUp(current, `it could not be provisioned before its window ended; last error: ${reason}`).catch(() => undefined);
      await release(ctx.db, grant.id, ctx.workerId);
      return;
    }
    ctx.log.warn(
      { grant: grant.id, err: rawAwsError(error), reason, attempt: current.attempts + 1, retryInMs: delay },
      "provisioning step failed; retrying",
    );
    await release(ctx.db, grant.id, ctx.workerId, {
      attempts: current.attempts + 1,
      next_attempt_at: new Date(ctx.now().getTime() + delay),
      last_error: reason,
    });
  }
}

/** jitsudo's own AWS identity acts only for listed repositories, on the deployment's own instance. */
export async function ownCredentialsRefusal(
  ctx: Pick<JobContext, "accessRepositories" | "db" | "defaults">,
  grant: Pick<GrantRow, "repository_id" | "repo">,
  target: AwsTarget,
): Promise<string | undefined> {
  if (target.roleArn) return undefined;
  // The worker always knows its instance: a target without one fell back to it.
  const refusal = await new AccessRepositories(ctx.accessRepositories, ctx.db, ctx.defaults.instanceArn ?? "").ownCredentialsRefusal(
    { id: grant.repository_id, fullName: grant.repo },
    target.instanceArn,
  );
  return refusal ? `the tenant config ${refusal}; set aws.role_arn` : undefined;
}

/** A rule's max_session_duration as the grant keeps it. */
function capSeconds(maxSessionDurationMs: number | null): number | null {
  return maxSessionDurationMs === null ? null : Math.round(maxSessionDurationMs / 1000);
}

function assignmentOf(grant: Resolved): Assignment {
  return {
    accountId: grant.account_id,
    permissionSetArn: grant.permission_set_arn,
    principalType: "USER",
    principalId: grant.principal_id,
  };
}
