/**
 * `jitsudo audit export|verify`: the audit trail read straight from the database jitsudo runs on
 * (DATABASE_URL, DATABASE_SCHEMA), for a quarterly review or to check that nobody rewrote it.
 * Export streams through a server-side cursor, so a million events take as little memory as ten.
 * The arguments and the words printed are src/cli/audit-options.ts.
 */
import { createWriteStream, existsSync } from "node:fs";
import process from "node:process";
import type { Writable } from "node:stream";
import { auditEvent, type AuditEvent } from "../audit/audit-event.js";
import { writeAuditExport } from "../audit/audit-export.js";
import { exportRows, hasAuditTrail, type ExportFilter } from "../audit/audit-store.js";
import { verifyAuditTrail } from "../audit/audit-verify.js";
import { ConfigError, githubWebUrl, parseEnv, type AppConfig } from "../config/env.js";
import { createDb } from "../db/knex.js";
import { AUDIT_USAGE, parseAuditOptions, verifyReport } from "./audit-options.js";

export interface AuditIo {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: (line: string) => void;
}

/** The command as a process runs it: its environment (and .env, as the services read it), stdout, stderr. */
export function runAudit(argv: readonly string[]): Promise<number> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  return auditCommand(argv, { env: process.env, stdout: process.stdout, stderr: (line) => process.stderr.write(`${line}\n`) });
}

/** Returns the exit status: 0 done (verify: intact), 1 verify found a break, 2 bad usage or configuration. */
export async function auditCommand(argv: readonly string[], io: AuditIo): Promise<number> {
  const options = parseAuditOptions(argv);
  if ("error" in options) {
    io.stderr(`${options.error}\n${AUDIT_USAGE}`);
    return 2;
  }
  if (options.command === "help") {
    io.stdout.write(`${AUDIT_USAGE}\n`);
    return 0;
  }
  let config: AppConfig;
  try {
    config = parseEnv(io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`jitsudo: ${error.message}`);
    return 2;
  }
  if (!config.databaseUrl) {
    io.stderr("jitsudo audit reads jitsudo's database: set DATABASE_URL (postgres://…) and, if jitsudo uses one, DATABASE_SCHEMA");
    return 2;
  }
  const db = createDb({
    url: config.databaseUrl,
    ...(config.databaseSchema ? { schema: config.databaseSchema } : {}),
    pool: { min: 0, max: 2 },
  });
  try {
    let found: boolean;
    try {
      found = await hasAuditTrail(db);
    } catch (error) {
      // The first statement: a wrong address or password fails here. The URL is not repeated (it holds the password).
      io.stderr(`jitsudo audit could not read the database DATABASE_URL names: ${(error as Error).message}; check DATABASE_URL`);
      return 2;
    }
    if (!found) {
      io.stderr(
        "no audit trail here (no grant_event_chain table): point DATABASE_URL and DATABASE_SCHEMA at jitsudo's database, or run `jitsudo migrate` there",
      );
      return 2;
    }
    if (options.command === "verify") {
      const result = await verifyAuditTrail(db, options.tenant === undefined ? {} : { tenant: options.tenant });
      for (const line of verifyReport(result)) io.stdout.write(`${line}\n`);
      return result.broken ? 1 : 0;
    }
    const filter: ExportFilter = {
      since: options.since,
      ...(options.until ? { until: options.until } : {}),
      ...(options.tenant !== undefined ? { tenant: options.tenant } : {}),
    };
    const webBaseUrl = githubWebUrl(config);
    async function* events(): AsyncGenerator<AuditEvent> {
      for await (const row of exportRows(db, filter)) yield auditEvent(row, webBaseUrl);
    }
    const out = options.output === undefined ? io.stdout : createWriteStream(options.output);
    // stdout stays open for whatever the process writes after; a file is closed, so it is complete on return.
    const count = await writeAuditExport(events(), options.format, out, { end: options.output !== undefined });
    io.stderr(`exported ${count} event${count === 1 ? "" : "s"} as ${options.format} to ${options.output ?? "stdout"}`);
    return 0;
  } finally {
    await db.destroy();
  }
}
