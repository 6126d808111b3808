/**
 * Expiry reminders: the pure rules. A rule's `remind_before` (default 10m, `off` for none) is kept
 * on each grant at its merge. The reminder falls due `remind_before` before the grant's expiry,
 * while it is active; it is claimed once (its grant event, `expiry_reminder`, is what the
 * notification channels read) and owes the pull request one comment mentioning the requester.
 *
 * - A grant no longer than its `remind_before` gets no reminder: its requester asked for less time
 *   than the reminder's lead, so the end was in sight from the start.
 * - A grant activated late, with less than `remind_before` left, is reminded at once.
 * - A grant being extended (superseded by an extension still on its way or active) is not
 *   reminded: its extension is, before its own end. If the extension fails, the old grant is
 *   reminded again as usual (if its reminder time has not passed its expiry).
 */
import { formatDuration } from "../parsing/duration.js";

export const DEFAULT_REMIND_BEFORE_MS = 10 * 60_000;

/** What `remind_before` turns reminders off with (a duration of zero is refused everywhere else). */
export const REMINDERS_OFF = "off";

/** The seconds before expiry to remind, as kept on the grant; null: no reminder for this grant. */
export function remindBeforeSeconds(durationMs: number, remindBeforeMs: number | null): number | null {
  if (remindBeforeMs === null || remindBeforeMs <= 0) return null;
  if (durationMs <= remindBeforeMs) return null;
  return Math.round(remindBeforeMs / 1000);
}

/** When a grant's reminder falls due, or undefined when it has none. */
export function reminderDueAt(grant: { expires_at: Date; remind_before_seconds: number | null }): Date | undefined {
  if (grant.remind_before_seconds === null) return undefined;
  return new Date(grant.expires_at.getTime() - grant.remind_before_seconds * 1000);
}

/** How the reminder's lead reads in a message ("10m"). */
export function describeLead(seconds: number): string {
  return formatDuration(seconds * 1000);
}
