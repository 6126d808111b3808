/**
 * The audit trail at a million events: written through the real triggers (each event's facts copied
 * from its grant, each linked into its tenant's hash chain at commit), then exported as JSON Lines
 * and as CSV to a file by `jitsudo audit export` in a process of its own (so that nothing this
 * process did before counts), then verified. The export must stream: its resident set size is
 * sampled while it runs and must stay flat (RSS at 10% of the file against 100%), and so must its
 * live heap. Target: constant memory, whatever the number of events.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";
import type { Knex } from "knex";
import type { AuditFormat } from "../src/audit/audit-format.js";
import { verifyAuditTrail } from "../src/audit/audit-verify.js";
import { benchDatabase, type BenchDatabase } from "./support/database.js";
import type { BenchResult } from "./stats.js";

const EVENTS = 1_000_000;
const EVENTS_PER_GRANT = 10;
const GRANTS = EVENTS / EVENTS_PER_GRANT;
/** Events written per transaction: each commit links its events into the chain. */
const PER_TRANSACTION = 50_000;
const MB = 1024 * 1024;
const run = promisify(execFile);

export async function benchAuditExport(): Promise<BenchResult> {
  const database = await benchDatabase("audit-export");
  const { db } = database;
  const dir = mkdtempSync(join(tmpdir(), "jitsudo-bench-audit-"));
  try {
    const written = await writeEvents(db);
    const jsonl = await timedExport(database, "jsonl", join(dir, "events.jsonl"));
    const csv = await timedExport(database, "csv", join(dir, "events.csv"));
    const verifyStarted = performance.now();
    const verified = await verifyAuditTrail(db);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    if (verified.broken || verified.checked !== EVENTS) throw new Error(`verify: ${JSON.stringify(verified.broken ?? verified.checked)}`);
    return {
      name: `audit trail: ${EVENTS.toLocaleString("en")} events (${GRANTS.toLocaleString("en")} grants, 2 tenants) written, exported and verified`,
      figures: {
        write_seconds: round(written.seconds),
        write_events_per_s: Math.round(EVENTS / written.seconds),
        ...figuresOf("jsonl", jsonl),
        ...figuresOf("csv", csv),
        verify_seconds: round(verifySeconds),
        verify_events_per_s: Math.round(EVENTS / verifySeconds),
      },
      target: "export in constant memory: RSS at 10% ≈ at 100%, live heap flat",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await database.close();
  }
}

/** Grants by SQL, then their events through the triggers, PER_TRANSACTION at a time. */
async function writeEvents(db: Knex): Promise<{ seconds: number }> {
  await db.raw("insert into policy_snapshots (sha256, content) values (md5('policy'), 'rules: []')");
  await db.raw(
    `insert into grants (tenant, repository_id, repo, pr_number, file_path, blob_sha, merge_commit_sha, requester, principal,
       principal_id, account_ref, account_id, permission_set_ref, permission_set_arn, instance_arn, status, starts_at, expires_at,
       duration_seconds, reason, ticket, approvers, policy_rule, policy_sha256, active_at, ended_at)
     select 1 + n % 2, 424242 + n % 2, 'acme/access-' || n % 2, n, 'access-requests/user-' || n % 500 || '/request-' || n || '.yaml',
       md5(n::text) || 'abcdefgh', md5('merge' || n) || '01234567', 'user-' || n % 500, 'user-' || n % 500 || '@example.com',
       'u-' || md5(n::text), lpad((n % 100)::text, 12, '9'), lpad((n % 100)::text, 12, '9'), 'ReadOnlyAccess',
       'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-0123456789abcdef', 'arn:aws:sso:::instance/ssoins-1234567890abcdef',
       'revoked', now() - interval '90 days' + n * interval '1 minute', now() - interval '90 days' + n * interval '1 minute' + interval '2 hours',
       7200, 'Investigate the latency alarms of the payments service, "ticket" INC-' || n, 'INC-' || n, '["bob", "carol"]'::jsonb,
       n % 3, md5('policy'), now() - interval '90 days' + n * interval '1 minute', now() - interval '90 days' + n * interval '1 minute' + interval '2 hours'
     from generate_series(1, ?) n`,
    [GRANTS],
  );
  const started = performance.now();
  const grantsPerTransaction = PER_TRANSACTION / EVENTS_PER_GRANT;
  for (let first = 0; first < GRANTS; first += grantsPerTransaction) {
    await db.raw(
      `insert into grant_events (grant_id, tenant, repository_id, repo, pr_number, type, from_status, to_status, actor, reason, details)
       select g.id, g.tenant, g.repository_id, g.repo, g.pr_number, 'revoke_failed', 'revoking', 'revoking', 'aws',
         'DeleteAccountAssignment failed, retrying (attempt ' || k || ')', jsonb_build_object('request_id', md5(g.id::text || k), 'attempt', k)
       from (select * from grants order by pr_number offset ? limit ?) g cross join generate_series(1, ?) k
       order by g.pr_number, k`,
      [first, grantsPerTransaction, EVENTS_PER_GRANT],
    );
  }
  return { seconds: (performance.now() - started) / 1000 };
}

interface ExportRun {
  seconds: number;
  bytes: number;
  startMb: number;
  /** RSS when 10%, 50% and all of the file had been written, and the highest seen. */
  at10Mb: number;
  at50Mb: number;
  at100Mb: number;
  peakMb: number;
  /** The live heap after a full collection, the highest of those taken every 2 s. */
  liveHeapMb: number;
}

/** The export as an operator runs it, in a process of its own (bench/support/audit-export-process.ts). */
async function timedExport(database: BenchDatabase, format: AuditFormat, path: string): Promise<ExportRun> {
  const { stdout, stderr } = await run(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "bench/support/audit-export-process.ts", format, path],
    { env: { ...process.env, DATABASE_URL: database.url, DATABASE_SCHEMA: database.schema }, maxBuffer: 64 * MB },
  );
  const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
    code: number;
    seconds: number;
    samples: { bytes: number; rss: number }[];
    liveHeapMax: number;
  };
  if (result.code !== 0) throw new Error(`jitsudo audit export exited ${result.code}`);
  if (!stderr.includes(`exported ${EVENTS} events as ${format}`))
    throw new Error(`the ${format} export did not write every event: ${stderr}`);
  const bytes = statSync(path).size;
  const at = (share: number) => result.samples.find((entry) => entry.bytes >= share * bytes)!.rss / MB;
  return {
    seconds: result.seconds,
    bytes,
    startMb: result.samples[0]!.rss / MB,
    at10Mb: at(0.1),
    at50Mb: at(0.5),
    at100Mb: result.samples.at(-1)!.rss / MB,
    peakMb: Math.max(...result.samples.map((entry) => entry.rss)) / MB,
    liveHeapMb: result.liveHeapMax / MB,
  };
}

function figuresOf(format: AuditFormat, run: ExportRun): Record<string, number | string> {
  return {
    [`${format}_seconds`]: round(run.seconds),
    [`${format}_events_per_s`]: Math.round(EVENTS / run.seconds),
    [`${format}_file_mb`]: Math.round(run.bytes / MB),
    [`${format}_rss_mb`]: `at start ${Math.round(run.startMb)}, at 10% ${Math.round(run.at10Mb)}, 50% ${Math.round(run.at50Mb)}, 100% ${Math.round(run.at100Mb)}, peak ${Math.round(run.peakMb)}`,
    [`${format}_live_heap_mb`]: Math.round(run.liveHeapMb),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
