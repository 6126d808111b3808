/**
 * A permission set's session duration: how long a session opened with it lasts. Deleting an
 * account assignment does not end sessions already opened, so a grant's access truly ends up to
 * this long after its assignment is deleted. Identity Center answers it in ISO 8601 (`PT8H`,
 * `PT1H30M`); AWS allows 1 to 12 hours and documents PT1H as the default, which its API model lets
 * DescribePermissionSet leave out.
 */
import { formatDuration, parseDuration } from "../parsing/duration.js";
import { quote } from "../parsing/printable.js";

/** What AWS applies when a permission set names no session duration. */
export const DEFAULT_SESSION_DURATION = "PT1H";

export type SessionDurationReading = { ok: true; seconds: number } | { ok: false; problem: string };

/** The session duration as Identity Center answered it (unset: AWS's default), in seconds. */
export function readSessionDuration(answered: string | undefined, permissionSet: string): SessionDurationReading {
  const text = answered ?? DEFAULT_SESSION_DURATION;
  const parsed = parseDuration(text);
  if (!parsed.ok || parsed.ms < 1000)
    return {
      ok: false,
      problem: `Identity Center answered the session duration of permission set ${quote(permissionSet)} as ${quote(text)}, which jitsudo cannot read as a duration, so it cannot say how long a session would outlast the grant`,
    };
  return { ok: true, seconds: Math.round(parsed.ms / 1000) };
}

/** `8h`, `1h30m`: a session duration for people. */
export function formatSessionDuration(seconds: number): string {
  return formatDuration(seconds * 1000);
}
