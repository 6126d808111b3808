/**
 * Every statement on the audit trail: grant events with their link in the hash chain
 * (`grant_event_chain`, migration 0013), read for the API's pages, for exports and for checking
 * the chains. Large reads go through a server-side cursor, a batch at a time (src/db/cursor.ts).
 */
import type { Knex } from "knex";
import { fetchInBatches } from "../db/cursor.js";
import { rowsAs } from "../db/knex.js";
import type { AuditRow } from "./audit-event.js";
import { CANONICAL_SQL } from "./canonical.js";
import type { ChainLink } from "./chain-check.js";

/** A timestamp as ISO 8601 text in UTC with microseconds: exact, and the same text the chain hashes. */
const time = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const AUDIT_SELECT = `
  c.seq::text as seq, ${time("e.created_at")} as created_at, e.tenant::text as tenant, c.tenant_seq::text as tenant_seq,
  e.id::text as id, e.type, e.grant_id, e.repo, e.repository_id::text as repository_id, e.pr_number, e.actor,
  e.from_status, e.to_status, e.reason, e.requester, e.principal, e.principal_id, e.account_ref, e.account_id,
  e.permission_set_ref, e.permission_set_arn, e.instance_arn, e.policy_rule, e.policy_sha256, e.approvers,
  e.merge_commit_sha, e.file_path, e.request_reason, e.ticket, e.break_glass_team, e.aws_request_ids,
  ${time("e.starts_at")} as starts_at, ${time("e.expires_at")} as expires_at, ${time("e.active_at")} as active_at,
  ${time("e.ended_at")} as ended_at, e.details, c.prev_hash, c.hash`;

/** Whether this database (and schema) holds jitsudo's audit trail: read-only, unlike asking knex's migrator. */
export async function hasAuditTrail(db: Knex): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { found: boolean }[] }>("select to_regclass('grant_event_chain') is not null as found");
  return rows[0]?.found === true;
}

/**
 * Up to `limit` events after the cursor `after` (a `seq`; "0" for the start), in commit order.
 * Complete however transactions interleave: see migration 0013 for why `seq > after` never skips.
 */
export async function eventsAfter(db: Knex, after: string, limit: number): Promise<AuditRow[]> {
  const { rows } = await db.raw<{ rows: AuditRow[] }>(
    `select ${AUDIT_SELECT} from grant_event_chain c join grant_events e on e.id = c.event_id where c.seq > ? order by c.seq limit ?`,
    [after, limit],
  );
  return rows;
}

export interface ExportFilter {
  since: Date;
  /** Exclusive. */
  until?: Date;
  tenant?: string;
}

/**
 * The events written in [since, until), by event id, a batch at a time. Events outside the chain
 * (written with the database's triggers off) are included, with no seq or hash: an export hides
 * nothing, and `jitsudo audit verify` names them.
 */
export function exportRows(db: Knex, filter: ExportFilter, batchSize?: number): AsyncGenerator<AuditRow, void, undefined> {
  const conditions = ["e.created_at >= ?"];
  const bindings: Knex.RawBinding[] = [filter.since];
  if (filter.until) {
    conditions.push("e.created_at < ?");
    bindings.push(filter.until);
  }
  if (filter.tenant !== undefined) {
    conditions.push("e.tenant = ?");
    bindings.push(filter.tenant);
  }
  return fetchInBatches<AuditRow>(
    db,
    `select ${AUDIT_SELECT} from grant_events e left join grant_event_chain c on c.event_id = e.id
     where ${conditions.join(" and ")} order by e.id`,
    bindings,
    batchSize,
  );
}

interface LinkRow {
  seq: string;
  tenant: string;
  tenant_seq: string;
  prev_hash: string;
  hash: string;
  version: number;
  event_id: string;
  event_tenant: string | null;
  present: boolean;
  [field: `f${number}`]: string | null;
}

/** Every link of the chains (or of one tenant's), with its event's canonical fields as they are now, by tenant and position. */
export async function* chainLinks(db: Knex, tenant?: string): AsyncGenerator<ChainLink, void, undefined> {
  const fields = CANONICAL_SQL.map((sql, index) => `${sql} as f${index}`).join(", ");
  const rows = fetchInBatches<LinkRow>(
    db,
    `select c.seq::text as seq, c.tenant::text as tenant, c.tenant_seq::text as tenant_seq, c.prev_hash, c.hash, c.version,
            c.event_id::text as event_id, e.tenant::text as event_tenant, e.id is not null as present, ${fields}
     from grant_event_chain c left join grant_events e on e.id = c.event_id
     ${tenant === undefined ? "" : "where c.tenant = ?"}
     order by c.tenant, c.tenant_seq`,
    tenant === undefined ? [] : [tenant],
  );
  for await (const row of rows) {
    yield {
      seq: row.seq,
      tenant: row.tenant,
      tenantSeq: row.tenant_seq,
      prevHash: row.prev_hash,
      hash: row.hash,
      version: row.version,
      eventId: row.event_id,
      eventTenant: row.event_tenant,
      fields: row.present ? CANONICAL_SQL.map((_sql, index) => row[`f${index}`] ?? null) : null,
    };
  }
}

/** The first event no chain links (written with the database's triggers off, or its link deleted). */
export async function firstUnlinkedEvent(db: Knex, tenant?: string): Promise<{ id: string; tenant: string } | undefined> {
  const query = db("grant_events as e").whereNotExists((linked) => {
    void linked.select(db.raw("1")).from("grant_event_chain as c").whereRaw("c.event_id = e.id");
  });
  if (tenant !== undefined) void query.where("e.tenant", tenant);
  return await rowsAs<{ id: string; tenant: string } | undefined>(
    query.orderBy("e.id").first(db.raw("e.id::text as id"), db.raw("e.tenant::text as tenant")),
  );
}

/** The first hole in the commit order across tenants: a link deleted, even the last of its tenant's chain. */
export async function firstSeqGap(db: Knex): Promise<{ expected: string; seq: string; tenant: string; eventId: string } | undefined> {
  const { rows } = await db.raw<{ rows: { expected: string; seq: string; tenant: string; event_id: string }[] }>(
    `select (coalesce(before, 0) + 1)::text as expected, seq::text as seq, tenant::text as tenant, event_id::text as event_id
     from (select seq, tenant, event_id, lag(seq) over (order by seq) as before from grant_event_chain) links
     where seq <> coalesce(before, 0) + 1
     order by seq limit 1`,
  );
  const [gap] = rows;
  return gap && { expected: gap.expected, seq: gap.seq, tenant: gap.tenant, eventId: gap.event_id };
}
