/**
 * The canonical text of a grant event and the hash that links it into its tenant's chain, computed
 * here independently of the database's own `grant_event_canonical` (migration 0013), so that
 * `jitsudo audit verify` does not trust the functions of the database it checks.
 *
 * Version 1: every field below, in this order, as the text PostgreSQL gives it (timestamps in UTC
 * with microseconds, jsonb in its normalised form), each written as `<length>:<text>` (the length
 * in Unicode characters, as PostgreSQL's length() counts them; a dash for null) and joined with
 * `|`; the length prefix makes the text unambiguous whatever a field contains. hash = hex SHA-256
 * of that text in UTF-8, which holds the link's positions and the previous event's hash: changing,
 * removing or reordering an event changes every hash after it.
 */
import { createHash } from "node:crypto";

/** The hash the first event of every tenant follows. */
export const GENESIS_HASH = "0".repeat(64);

/** The canonical forms this build can check (grant_event_chain.version). */
export const CANONICAL_VERSION = 1;

const time = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Version 1's fields as SQL over `c` (grant_event_chain) and `e` (grant_events), in order. */
export const CANONICAL_SQL: readonly string[] = [
  "c.seq::text",
  "c.tenant_seq::text",
  "c.prev_hash",
  "e.id::text",
  "e.tenant::text",
  "e.repository_id::text",
  "e.repo",
  "e.pr_number::text",
  "e.grant_id::text",
  "e.type",
  "e.from_status",
  "e.to_status",
  "e.actor",
  "e.reason",
  "e.details::text",
  time("e.created_at"),
  "e.requester",
  "e.principal",
  "e.principal_id",
  "e.account_ref",
  "e.account_id",
  "e.permission_set_ref",
  "e.permission_set_arn",
  "e.instance_arn",
  "e.policy_rule::text",
  "e.policy_sha256",
  "e.approvers::text",
  "e.merge_commit_sha",
  "e.file_path",
  "e.request_reason",
  "e.ticket",
  "e.break_glass_team",
  "e.aws_request_ids::text",
  time("e.starts_at"),
  time("e.expires_at"),
  time("e.active_at"),
  time("e.ended_at"),
];

const SURROGATE = /[\uD800-\uDFFF]/;

/** Characters as PostgreSQL counts them (code points), not UTF-16 units as `length` does. */
function characters(text: string): number {
  if (!SURROGATE.test(text)) return text.length;
  let count = 0;
  for (const _character of text) count += 1;
  return count;
}

export function canonicalText(fields: readonly (string | null)[]): string {
  if (fields.length !== CANONICAL_SQL.length) {
    throw new Error(`a version ${CANONICAL_VERSION} event has ${CANONICAL_SQL.length} fields, not ${fields.length}`);
  }
  return fields.map((field) => (field === null ? "-" : `${characters(field)}:${field}`)).join("|");
}

export function linkHash(fields: readonly (string | null)[]): string {
  return createHash("sha256").update(canonicalText(fields), "utf8").digest("hex");
}
