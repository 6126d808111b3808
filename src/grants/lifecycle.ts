/**
 * The grant lifecycle, whole: its statuses, the moves between them, and for each move the columns
 * it changes, the event it writes to the audit trail and the report it triggers. Pure: callers
 * (the workers, drift, a merge, a revoke command) ask for a move by name; the grant repository
 * (`grant-repository.ts`) applies it in one transaction, guarded so that two replicas cannot both
 * make it. Nothing else writes a grant's status.
 *
 *   approved ──▶ provisioning ◀──▶ active ──▶ revoking ──▶ revoked
 *      │              │               │            │
 *      │              ▼               ▼            ▼
 *      │            failed          expired      expired / failed
 *      ▼
 *   revoked   (revoked or superseded before it ever started: nothing was assigned)
 *   failed    (its window ended before it could start: jitsudo was down, or AWS kept refusing)
 *
 * - active → provisioning is drift repair: the assignment of a live grant was deleted outside
 *   jitsudo, so it is created again, exactly as the first time.
 * - `expired` means the grant ended but its assignment stays, because another live grant needs the
 *   same assignment (same instance, account, permission set and principal): see `coveredEnd`.
 *   An active grant whose extension (a merged edit of its file) became active on the same
 *   assignment ends `expired` the same way, in the extension's activation: see `extendedEnd`.
 * - A grant whose provisioning was given up after a create may have been sent goes to `revoking`
 *   (with a `failure_reason`), so that nothing granted by accident is left behind, and ends `failed`
 *   once AWS confirms nothing is left: never `revoked` or `expired`, which would tell the requester
 *   they had had access.
 * - `rejected` is terminal from the start: a refused merge recorded for the audit trail.
 * - Retrying a failed AWS call is not a move: it is an attempt counter on the same status.
 */

export const GRANT_STATUSES = ["approved", "provisioning", "active", "revoking", "revoked", "failed", "rejected", "expired"] as const;

export type GrantStatus = (typeof GRANT_STATUSES)[number];

const TRANSITIONS: Readonly<Record<GrantStatus, readonly GrantStatus[]>> = {
  approved: ["provisioning", "revoked", "failed"],
  provisioning: ["active", "failed", "revoking"],
  active: ["revoking", "expired", "provisioning"],
  revoking: ["revoked", "expired", "failed"],
  revoked: [],
  failed: [],
  rejected: [],
  expired: [],
};

/** Statuses during which the assignment exists or may exist in AWS: it must not be removed under them. */
export const LIVE_STATUSES: readonly GrantStatus[] = ["provisioning", "active", "revoking"];
/** Statuses in which a grant still means access now or later: what a deleted or edited request file ends. */
export const NOT_ENDED_STATUSES: readonly GrantStatus[] = ["approved", "provisioning", "active"];

export function isGrantStatus(value: string): value is GrantStatus {
  return (GRANT_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: GrantStatus, to: GrantStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: GrantStatus,
    readonly to: GrantStatus,
  ) {
    const allowed = TRANSITIONS[from];
    super(`a grant cannot go from ${from} to ${to}${allowed.length ? ` (from ${from}: ${allowed.join(", ")})` : ` (${from} is final)`}`);
    this.name = "IllegalTransitionError";
  }
}

export function assertTransition(from: GrantStatus, to: GrantStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export function isLive(status: GrantStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

export function isEnded(status: GrantStatus): boolean {
  return !NOT_ENDED_STATUSES.includes(status);
}

export function isTerminal(status: GrantStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export type EventType =
  | "approved"
  | "rejected"
  | "ignored"
  | "direct_push"
  | "superseded"
  | "revoke_requested"
  | "provisioning"
  | "active"
  | "failed"
  | "revoking"
  | "revoked"
  | "revoke_failed"
  | "expired"
  | "drift_repaired"
  | "drift_unexpected"
  | "drift_resumed"
  | "break_glass"
  | "break_glass_reviewed"
  | "break_glass_review_due"
  /** An active grant ended because its extension (a merged edit of its file) took over the assignment without a gap. */
  | "extended"
  /** Its end is near (the rule's remind_before): the PR and the notification channels are told how to extend it. */
  | "expiry_reminder";

export interface EventInput {
  type: EventType;
  actor: string;
  reason: string;
  details?: Record<string, unknown>;
}

/** Who writes an event: jitsudo itself, or AWS when the event records AWS's answer. */
export const JITSUDO = "jitsudo";
export const AWS = "aws";

/** A time the database fills in when the move is applied (its own clock, as `updated_at` is). */
export const NOW = Symbol("now");
export type DbTime = Date | typeof NOW;

/** The columns a move may change besides `status`, typed: the repository writes exactly these. */
export interface GrantChanges {
  instance_arn?: string;
  aws_region?: string;
  attempts?: number;
  next_attempt_at?: Date | null;
  last_error?: string | null;
  failure_reason?: string | null;
  superseded_by?: string;
  operation?: null;
  operation_started_at?: null;
  aws_request_id?: null;
  lease_owner?: null;
  active_at?: Date;
  ended_at?: DbTime;
}

/**
 * How a move is told to the requester. `pull-request`: the PR's status comment is brought up to
 * date (the workers' and drift's moves). `merge-comment`: the move is part of a merge and the
 * merge's own verdict comment says it. `command-reply`: a `/jitsudo revoke` answers in its reply.
 */
export type Report = "pull-request" | "merge-comment" | "command-reply";

export interface Move {
  to: GrantStatus;
  event: EventInput;
  changes: GrantChanges;
  report: Report;
  /** The move leaves work for a worker (an assignment to create or remove): wake them on commit. */
  wakesWorkers: boolean;
}

type Grant = { status: GrantStatus; failure_reason: string | null; active_at?: Date | null };

/** The columns every final status clears: nothing in flight, nobody holding it. */
const ENDED: GrantChanges = { ended_at: NOW, operation: null, operation_started_at: null, lease_owner: null, next_attempt_at: null };
/** The operation a grant carried out is over. */
const NO_OPERATION: GrantChanges = { operation: null, operation_started_at: null, aws_request_id: null };
/** The create is over and the grant is let go: nothing to retry. */
const CREATE_DONE: GrantChanges = { ...NO_OPERATION, lease_owner: null, attempts: 0, next_attempt_at: null };

/** approved → provisioning: its start time has come. */
export function start(target?: { instanceArn: string; region: string }): Move {
  return {
    to: "provisioning",
    event: { type: "provisioning", actor: JITSUDO, reason: "its start time has come" },
    changes: target ? { instance_arn: target.instanceArn, aws_region: target.region, attempts: 0 } : {},
    report: "pull-request",
    wakesWorkers: false,
  };
}

/** provisioning → active: AWS created the assignment. */
export function activate(requestId: string, now: Date): Move {
  return {
    to: "active",
    event: { type: "active", actor: AWS, reason: `assignment created (request ${requestId})`, details: { request_id: requestId } },
    changes: { ...CREATE_DONE, active_at: now, last_error: null },
    report: "pull-request",
    wakesWorkers: false,
  };
}

/** provisioning → failed: AWS says the create FAILED, so nothing was assigned. */
export function createFailed(requestId: string, failureReason: string | undefined): Move {
  return {
    to: "failed",
    event: {
      type: "failed",
      actor: AWS,
      reason: `Identity Center could not create the assignment: ${failureReason ?? "no reason given"}`,
      details: { request_id: requestId },
    },
    changes: { ...CREATE_DONE, ...ENDED, last_error: failureReason ?? "FAILED" },
    report: "pull-request",
    wakesWorkers: false,
  };
}

/** approved → failed: its window ended before it could start. Nothing was ever sent to AWS. */
export function windowEndedBeforeStart(expiresAt: Date): Move {
  const reason = windowEndedReason(expiresAt);
  return {
    to: "failed",
    event: { type: "failed", actor: JITSUDO, reason },
    changes: { ...ENDED, last_error: reason, failure_reason: reason },
    report: "pull-request",
    wakesWorkers: false,
  };
}

export function windowEndedReason(expiresAt: Date): string {
  return `its access window ended (${expiresAt.toISOString()}) before it could be provisioned`;
}

/**
 * provisioning → revoking or failed: provisioning is given up. If a create was ever about to be
 * sent (this attempt or an earlier one whose answer may have been lost), the assignment may exist:
 * the grant goes to `revoking` and ends only when AWS confirms nothing is left. Otherwise it ends
 * `failed` at once.
 */
export function giveUp(reason: string, createMayExist: boolean): Move {
  const cleared: GrantChanges = { ...NO_OPERATION, last_error: reason, failure_reason: reason };
  if (createMayExist) {
    return {
      to: "revoking",
      event: { type: "failed", actor: JITSUDO, reason: `${reason}; removing anything an earlier create may have left` },
      changes: { ...cleared, lease_owner: null, attempts: 0, next_attempt_at: null },
      report: "pull-request",
      wakesWorkers: false,
    };
  }
  return {
    to: "failed",
    event: { type: "failed", actor: JITSUDO, reason },
    changes: { ...ENDED, ...cleared },
    report: "pull-request",
    wakesWorkers: false,
  };
}

/** active → provisioning: drift found the live grant's assignment deleted outside jitsudo; create it again. */
export function repairDrift(): Move {
  return {
    to: "provisioning",
    event: { type: "drift_repaired", actor: JITSUDO, reason: "the assignment was deleted outside jitsudo; creating it again" },
    changes: { attempts: 0, next_attempt_at: null, last_error: null },
    report: "pull-request",
    wakesWorkers: true,
  };
}

/** Why a removal is under way: the expiry, a retry, or an early revoke. */
export function removalReason(grant: Pick<Grant, "status"> & { expires_at: Date; last_error: string | null }): string {
  if (grant.status === "active") return `expired at ${grant.expires_at.toISOString()}`;
  return grant.last_error ? `retrying the removal (${grant.last_error})` : "revoke requested";
}

/** active → revoking: the grant's end has come and no other grant needs its assignment. */
export function beginRemoval(reason: string): Move {
  return { to: "revoking", event: { type: "revoking", actor: JITSUDO, reason }, changes: {}, report: "pull-request", wakesWorkers: false };
}

/**
 * active or revoking → expired (or failed): what happens when a grant ends while another grant
 * needs the same assignment. The assignment is not removed: the grant ends `expired`, its reason
 * naming the grant the assignment stays for and until when. A grant given up while provisioning
 * never had access of its own: it ends `failed`, with its reason.
 */
export function coveredEnd(grant: Grant, reason: string, covering: { id: string; pr_number: number; expires_at: Date }): Move {
  const stays = `the assignment stays for grant ${covering.id} (PR #${covering.pr_number}) until ${covering.expires_at.toISOString()}`;
  if (grant.failure_reason) {
    return {
      to: "failed",
      event: { type: "failed", actor: JITSUDO, reason: `${grant.failure_reason}; ${stays}` },
      changes: { ...ENDED, last_error: grant.failure_reason },
      report: "pull-request",
      wakesWorkers: false,
    };
  }
  return {
    to: "expired",
    event: { type: "expired", actor: JITSUDO, reason: `${reason}; ${stays}` },
    changes: ENDED,
    report: "pull-request",
    wakesWorkers: false,
  };
}

/**
 * active → expired: the grant's extension (a merged edit of its request file for the same
 * assignment, see `src/grants/extension.ts`) is active, on the very assignment this grant holds,
 * so this grant ends here and the assignment stays: no delete, no re-create, no gap.
 */
export function extendedEnd(extension: { id: string; pr_number: number; expires_at: Date }): Move {
  return {
    to: "expired",
    event: {
      type: "extended",
      actor: JITSUDO,
      reason: `extended by #${extension.pr_number} without interruption; the assignment stays for grant ${extension.id} until ${extension.expires_at.toISOString()}`,
      details: { extended_by: extension.id, extended_by_pr: extension.pr_number },
    },
    changes: ENDED,
    report: "pull-request",
    wakesWorkers: false,
  };
}

/**
 * active → revoking: the grant's extension became active on another assignment than this grant's
 * (its names resolved to other ids, or another instance): nothing carries this one over, so it is
 * removed now, as any superseded grant is.
 */
export function extensionElsewhere(extension: { id: string; pr_number: number }): Move {
  return {
    to: "revoking",
    event: {
      type: "superseded",
      actor: JITSUDO,
      reason: `superseded by #${extension.pr_number}, whose grant ${extension.id} holds another assignment; removing this one`,
    },
    changes: { next_attempt_at: null, attempts: 0 },
    report: "pull-request",
    wakesWorkers: true,
  };
}

/**
 * revoking (or a never-assigned grant) → revoked, or failed: nothing of the grant is left in AWS.
 * It ends `failed` when it got here because provisioning was given up (it never gave the access a
 * `revoked` would suggest it had).
 */
export function removed(grant: Grant, event: Omit<EventInput, "type">): Move {
  const changes: GrantChanges = { ...ENDED, aws_request_id: null, ...(grant.active_at ? { last_error: null } : {}) };
  if (grant.failure_reason) {
    return {
      to: "failed",
      event: { ...event, type: "failed", reason: `${grant.failure_reason}; nothing is left assigned (${event.reason})` },
      changes: { ...changes, last_error: grant.failure_reason },
      report: "pull-request",
      wakesWorkers: false,
    };
  }
  return { to: "revoked", event: { ...event, type: "revoked" }, changes, report: "pull-request", wakesWorkers: false };
}

/**
 * Ends a grant early (its request file deleted or edited by an approved merge, or `/jitsudo
 * revoke`): one that never started is revoked at once (nothing was assigned); one that is or may be
 * assigned goes to `revoking`, for the revoke job to remove the assignment.
 */
export function endEarly(
  grant: Pick<Grant, "status">,
  event: EventInput,
  report: Extract<Report, "merge-comment" | "command-reply">,
  supersededBy?: string,
): Move {
  const superseded: GrantChanges = supersededBy ? { superseded_by: supersededBy } : {};
  if (grant.status === "approved") return { to: "revoked", event, changes: { ...superseded, ended_at: NOW }, report, wakesWorkers: true };
  return { to: "revoking", event, changes: { ...superseded, next_attempt_at: null, attempts: 0 }, report, wakesWorkers: true };
}
