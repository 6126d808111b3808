/**
 * The grant lifecycle as data: which statuses exist and which moves between them are legal.
 *
 *   approved ──▶ provisioning ◀──▶ active ──▶ revoking ──▶ revoked
 *      │              │               │
 *      │              ▼               ▼
 *      │            failed          expired   (ended, but the assignment stays for another live grant)
 *      ▼
 *   revoked   (revoked or superseded before it ever started: nothing was assigned)
 *   failed    (its window ended before it could start: jitsudo was down, or AWS kept refusing)
 *
 * active → provisioning is drift repair: the assignment of a live grant was deleted outside
 * jitsudo, so it is created again, exactly as the first time.
 * `rejected` is terminal from the start: a refused merge recorded for the audit trail. Retrying a
 * failed AWS call is not a status change; it is an attempt counter on the same status. A grant
 * whose provisioning failed after the assignment may exist moves to `revoking`, so that nothing
 * granted by accident is left behind, and ends `failed` once AWS confirms nothing of it is left
 * (never `revoked` or `expired`, which would tell the requester they had had access).
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

/** Statuses during which the assignment exists or may exist in AWS: it must not be removed under them. */
export function isLive(status: GrantStatus): boolean {
  return status === "provisioning" || status === "active" || status === "revoking";
}

export function isTerminal(status: GrantStatus): boolean {
  return TRANSITIONS[status].length === 0;
}
