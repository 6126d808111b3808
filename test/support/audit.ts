/**
 * What the audit trail's tests share: events written as the code writes them (plain INSERTs, the
 * triggers doing the rest), transactions held open to interleave commits, and an attacker's
 * statements, run as a database superuser would, with the append-only triggers disabled.
 */
import { Writable } from "node:stream";
import type { Knex } from "knex";
import { auditCommand } from "../../src/cli/audit.js";

export interface EventInput {
  tenant?: number;
  grantId?: string | null;
  type?: string;
  reason?: string;
  prNumber?: number;
  createdAt?: Date;
  details?: Record<string, unknown>;
}

export function eventRow(event: EventInput = {}): Record<string, unknown> {
  return {
    tenant: event.tenant ?? 1,
    repository_id: 424242,
    repo: "acme/access",
    pr_number: event.prNumber ?? 7,
    grant_id: event.grantId ?? null,
    type: event.type ?? "rejected",
    actor: "jitsudo",
    reason: event.reason ?? "needs 1 code-owner approval, has 0",
    details: JSON.stringify(event.details ?? {}),
    ...(event.createdAt ? { created_at: event.createdAt } : {}),
  };
}

/** Inserts one event in its own transaction; returns its id. */
export async function writeEvent(db: Knex, event: EventInput = {}): Promise<string> {
  const [row] = await db("grant_events").insert(eventRow(event)).returning<{ id: string }[]>("id");
  return row!.id;
}

/** Statements as an attacker with superuser rights runs them: append-only triggers off, for this transaction only. */
export async function tamper(db: Knex, statements: string[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw("alter table grant_events disable trigger grant_events_no_update_or_delete");
    await trx.raw("alter table grant_event_chain disable trigger grant_event_chain_no_update_or_delete");
    for (const statement of statements) await trx.raw(statement);
    await trx.raw("alter table grant_events enable trigger grant_events_no_update_or_delete");
    await trx.raw("alter table grant_event_chain enable trigger grant_event_chain_no_update_or_delete");
  });
}

/** The backend process of a transaction's connection, to watch it wait. */
export async function backendPid(trx: Knex.Transaction): Promise<number> {
  const { rows } = await trx.raw<{ rows: { pid: number }[] }>("select pg_backend_pid() as pid");
  return rows[0]!.pid;
}

/** Waits until the session `pid` waits for a lock (another transaction's row or advisory lock). */
export async function waitsForALock(db: Knex, pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.raw<{ rows: unknown[] }>("select 1 from pg_stat_activity where pid = ? and wait_event_type = 'Lock'", [pid]);
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error(`session ${pid} never waited for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `jitsudo audit …` in-process, capturing what it prints. */
export async function runAudit(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string[] }> {
  let stdout = "";
  const stderr: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stdout += chunk.toString();
      done();
    },
  });
  const code = await auditCommand(args, { env, stdout: out, stderr: (line) => stderr.push(line) });
  return { code, stdout, stderr };
}
