/**
 * When a grant's access truly ends. Deleting an Identity Center assignment stops new sign-ins, but
 * a session opened before the deletion lasts up to the permission set's session duration, so the
 * honest end is the assignment's end plus that duration (unless a deny policy cuts sessions off,
 * which jitsudo does not do). Pure: the grants API and the pull request comment both say this.
 */
import type { GrantStatus } from "./lifecycle.js";

/** The columns of a grant its end is told from. */
export interface AccessEndFacts {
  status: GrantStatus;
  expires_at: Date;
  ended_at: Date | null;
  active_at: Date | null;
  create_requested_at: Date | null;
  session_duration_seconds: number | null;
}

/**
 * The assignment's end (past or planned) plus the session duration; null when it is unknown:
 * - the session duration was never read (not provisioned yet, or provisioned before it was kept);
 * - the removal is under way and not yet confirmed (`revoking`): the assignment's end is not known;
 * - the grant ended while another live grant kept the same assignment (`expired`): the access goes
 *   on under that grant, whose own end says when it stops;
 * - the grant never held an assignment (refused, failed before its create was sent).
 */
export function accessEndsBy(grant: AccessEndFacts): Date | null {
  const end = assignmentEnd(grant);
  if (end === null || grant.session_duration_seconds === null) return null;
  return sessionsEnd(end, grant.session_duration_seconds);
}

/** The last moment a session opened before `assignmentEnd` can still be used. */
export function sessionsEnd(assignmentEnd: Date, sessionDurationSeconds: number): Date {
  return new Date(assignmentEnd.getTime() + sessionDurationSeconds * 1000);
}

/** When the grant's assignment ends (planned) or ended (confirmed by AWS); null when that is not known. */
export function assignmentEnd(grant: Omit<AccessEndFacts, "session_duration_seconds">): Date | null {
  switch (grant.status) {
    case "approved":
    case "provisioning":
    case "active":
      return grant.expires_at;
    case "revoked":
      // Without a create ever sent there was never an assignment, so no session either.
      return grant.active_at !== null || grant.create_requested_at !== null ? (grant.ended_at ?? null) : null;
    case "revoking":
    case "expired":
    case "failed":
    case "rejected":
      return null;
  }
}
