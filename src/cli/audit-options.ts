/**
 * `jitsudo audit`'s arguments and what it prints: the pure half of src/cli/audit.ts.
 */
import { parseArgs } from "node:util";
import { AUDIT_FORMATS, type AuditFormat } from "../audit/audit-format.js";
import type { VerifyResult } from "../audit/audit-verify.js";

export const AUDIT_USAGE = `usage: jitsudo audit export --since <date> [--until <date>] [--format jsonl|csv] [--tenant <installation id>] [--output <file>]
       jitsudo audit verify [--tenant <installation id>]

  export   the grant events written from --since until before --until (2026-11-01, or a time like
           2026-11-01T09:30:00Z), from DATABASE_URL, as JSON Lines (default) or CSV, to stdout or --output
  verify   check the tamper-evident hash chains; exit 1 and name the first break if one was edited,
           deleted or reordered

Exit status: 0 done (verify: intact), 1 verify found a break, 2 bad usage or configuration.`;

export type AuditOptions =
  | { command: "export"; since: Date; until?: Date; format: AuditFormat; tenant?: string; output?: string }
  | { command: "verify"; tenant?: string }
  | { command: "help" };

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})$/;
const TENANT = /^\d{1,19}$/;

/** A day (midnight UTC) or a time with its zone; an error naming the flag otherwise. */
export function parseMoment(flag: string, text: string): Date | { error: string } {
  const wrong = {
    error: `${flag} "${text.slice(0, 40)}" must be a date like 2026-11-01 (midnight UTC) or a time like 2026-11-01T09:30:00Z`,
  };
  if (!DATE.test(text) && !TIME.test(text)) return wrong;
  // Date accepts 2026-02-30 as 2 March: a day that does not exist is a typo.
  const day = text.slice(0, 10);
  const midnight = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(midnight.getTime()) || midnight.toISOString().slice(0, 10) !== day) return wrong;
  const moment = new Date(DATE.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(moment.getTime()) ? wrong : moment;
}

export function parseAuditOptions(argv: readonly string[]): AuditOptions | { error: string } {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { command: "help" };
  if (command !== "export" && command !== "verify")
    return { error: `unknown audit command "${command.slice(0, 40)}"; use export or verify` };
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options:
        command === "export"
          ? {
              since: { type: "string" },
              until: { type: "string" },
              format: { type: "string", default: "jsonl" },
              tenant: { type: "string" },
              output: { type: "string", short: "o" },
            }
          : { tenant: { type: "string" } },
    }));
  } catch (error) {
    return { error: (error as Error).message };
  }
  const tenant = values.tenant as string | undefined;
  if (tenant !== undefined && !TENANT.test(tenant))
    return { error: `--tenant must be a GitHub App installation id (digits), not "${tenant.slice(0, 40)}"` };
  if (command === "verify") return { command, ...(tenant !== undefined ? { tenant } : {}) };

  const format = values.format as string;
  if (!(AUDIT_FORMATS as readonly string[]).includes(format))
    return { error: `--format must be ${AUDIT_FORMATS.join(" or ")}, not "${format.slice(0, 40)}"` };
  const sinceText = values.since as string | undefined;
  if (sinceText === undefined) return { error: "--since is required: the first day to export, like 2026-11-01" };
  const since = parseMoment("--since", sinceText);
  if ("error" in since) return since;
  const untilText = values.until as string | undefined;
  const until = untilText === undefined ? undefined : parseMoment("--until", untilText);
  if (until && "error" in until) return until;
  if (until && until <= since) return { error: `--until (${until.toISOString()}) must be after --since (${since.toISOString()})` };
  const output = values.output as string | undefined;
  if (output === "") return { error: "--output must name a file" };
  return {
    command,
    since,
    format: format as AuditFormat,
    ...(until ? { until } : {}),
    ...(tenant !== undefined ? { tenant } : {}),
    ...(output !== undefined ? { output } : {}),
  };
}

/** What verify prints: the break, or each chain's head (worth recording where the database's owner cannot write). */
export function verifyReport(result: VerifyResult): string[] {
  if (result.broken) {
    const { tenant, eventId, position, problem } = result.broken;
    const where = [
      tenant === null ? undefined : `tenant ${tenant}`,
      `event ${eventId}`,
      position === null ? undefined : `position ${position}`,
    ];
    return [
      `audit trail BROKEN at ${where.filter(Boolean).join(", ")}: ${problem}`,
      `(${result.checked} events checked before it were intact)`,
    ];
  }
  const tenants = result.heads.size;
  return [
    `audit trail intact: ${result.checked} event${result.checked === 1 ? "" : "s"} in ${tenants} tenant chain${tenants === 1 ? "" : "s"}`,
    ...[...result.heads].map(
      ([tenant, head]) => `tenant ${tenant}: head at position ${head.position} (event ${head.eventId}) hash ${head.hash}`,
    ),
  ];
}
