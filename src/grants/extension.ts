/**
 * Extending a grant without a gap: the pure rules. An approved, merged edit of a request file
 * whose new grant asks for the same assignment (same account, permission set and principal, as
 * written), starting at the merge, while the file's grant is active, is an extension: the old grant
 * is marked superseded but stays active; the new grant is provisioned as any other (judged again on
 * its canonical ids, a create that AWS answers for an existing assignment too), and in the same
 * transaction as its activation the old one ends `expired`, the assignment kept (`extendedEnd`).
 *
 * What an extension may never do:
 * - give access the policy would not give afresh: the new grant is an ordinary approved grant that
 *   passed every rule at the merge and is re-checked on canonical ids before its create. If it
 *   fails, the old grant is untouched and ends at its own expiry, its assignment removed.
 * - keep the old grant alive: the old grant's removal at its own expiry waits for the extension's
 *   outcome only while the extension is on its way (approved or provisioning, not given up) and
 *   for at most `EXTENSION_WAIT_MS` after the old grant's expiry; then it is removed as usual.
 * - carry the old assignment over to another one: at activation the old grant ends `expired` only
 *   when the extension's resolved assignment (instance, account id, permission set ARN, principal
 *   id) is the old grant's; otherwise the old grant is removed (`extensionElsewhere`).
 */
import type { GrantStatus } from "./lifecycle.js";

/**
 * Longest the removal of an expired grant waits for its extension to become active. The
 * extension has to resolve names, re-check the policy, wait for a create slot and hear back from
 * AWS: seconds normally, minutes under load. Past this, the old grant goes as any other would.
 */
export const EXTENSION_WAIT_MS = 10 * 60_000;

/** The old grant as the merge reads it. */
export interface ExtendedCandidate {
  status: GrantStatus;
  account_ref: string;
  permission_set_ref: string;
  principal: string;
  instance_arn: string | null;
  expires_at: Date;
}

/** The new grant of the same file, as the merge records it. */
export interface ExtensionRequest {
  accountRef: string;
  permissionSetRef: string;
  principal: string;
  startsAt: Date;
  /** The request has no starts_at in the future: its window opens at the merge. */
  startsOnMerge?: boolean;
  aws: { instanceArn?: string };
}

/** Whether `next` extends `old` without a gap, or replaces it as any other edit does (ending it now). */
export function isExtension(old: ExtendedCandidate, next: ExtensionRequest): boolean {
  if (old.status !== "active" || next.startsOnMerge !== true) return false;
  // As written: a different spelling of the same account may well be the same assignment, but that
  // is for AWS to say at activation; the merge only promises what it can read.
  if (old.account_ref !== next.accountRef || old.permission_set_ref !== next.permissionSetRef || old.principal !== next.principal)
    return false;
  if (next.aws.instanceArn !== undefined && old.instance_arn !== null && next.aws.instanceArn !== old.instance_arn) return false;
  // Only a window that opens before the old one closes can carry it on.
  return next.startsAt < old.expires_at;
}

/** The extension as the old grant's removal reads it. */
export interface ExtensionState {
  status: GrantStatus;
  failure_reason: string | null;
  starts_at: Date;
}

/**
 * Whether the removal of `old` (its expiry come) must wait for `extension`: it is still on its way
 * and the wait has not run out. Failed, ended or given up: `old` is removed as usual.
 */
export function awaitsExtension(old: { expires_at: Date }, extension: ExtensionState, now: Date): boolean {
  if (extension.status !== "approved" && extension.status !== "provisioning") return false;
  if (extension.failure_reason !== null || extension.starts_at > now) return false;
  return now.getTime() < old.expires_at.getTime() + EXTENSION_WAIT_MS;
}
