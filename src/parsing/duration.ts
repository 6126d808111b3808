/**
 * Durations as people write them in request files, policy rules and RECONCILIATION_INTERVAL:
 * `90m`, `2h`, `1h30m`, `1d`, `45s`, or ISO 8601 `PT2H`, `P1DT2H`. Years and months are refused
 * because their length depends on the calendar, which has no place in an access window.
 */

import { quote } from "./printable.js";

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** Longest duration jitsudo will ever represent; bigger values are typos or overflow attempts. */
export const MAX_DURATION_MS = 366 * UNIT_MS.d;

const COMPACT = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const ISO = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

export const DURATION_FORMS = "30m, 2h, 1h30m, 1d or PT2H";

export function parseDuration(text: string): DurationResult {
  const trimmed = text.trim();
  const match = COMPACT.exec(trimmed) ?? ISO.exec(trimmed);
  // Both patterns accept the empty string and bare "P"/"PT"; a duration needs at least one part.
  if (!match || match.slice(1).every((part) => part === undefined) || /T$/.test(trimmed)) {
    if (/^\d+$/.test(trimmed)) {
      return { ok: false, message: `${quote(trimmed)} has no unit; write ${trimmed}m or ${trimmed}h` };
    }
    if (/^P(?:\d+[YMW])/.test(trimmed)) {
      return {
        ok: false,
        message: `${quote(text)} uses years, months or weeks, whose length varies; write days or hours, e.g. P7D or PT2H`,
      };
    }
    return { ok: false, message: `${quote(text)} is not a duration; write it as ${DURATION_FORMS}` };
  }
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number];
  const ms = days * UNIT_MS.d + hours * UNIT_MS.h + minutes * UNIT_MS.m + seconds * UNIT_MS.s;
  if (ms === 0) return { ok: false, message: `${quote(text)} is zero; a duration must be longer than that` };
  // Huge digit strings become huge floats (or Infinity), never a wrapped-around small number.
  if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) {
    return { ok: false, message: `${quote(text)} is longer than jitsudo allows (${formatDuration(MAX_DURATION_MS)})` };
  }
  return { ok: true, ms };
}

/** `5400000` → `1h30m`: the compact form, for messages and comments. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000) * 1000;
  let out = "";
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out || "0s";
}
