/**
 * The audit trail an auditor or a SIEM reads without joining, in an order that never skips, and
 * tamper-evident.
 *
 * Facts. Each `grant_events` row carries its grant's facts as they were at the event (requester,
 * principal, account, permission set, rule and policy, approvers, merge commit, AWS request ids,
 * the grant's times). A BEFORE INSERT trigger copies them from `grants` (which every move updates
 * before it appends its event, in the same transaction), so no writer can forget them or write
 * others: whatever an INSERT puts in these columns is replaced.
 *
 * Chain. `grant_event_chain` links every event, per tenant (installation), to the one before it:
 * `hash` = SHA-256 of a canonical text of the event's fields, its positions and the previous
 * event's hash (`grant_event_canonical`, version 1; `src/audit/canonical.ts` computes the same
 * independently, for `jitsudo audit verify`). A link is written by a DEFERRED constraint trigger,
 * so at COMMIT, under one advisory lock per schema:
 *
 * - Race-free: the lock is held from reading the chain's head to the end of the commit, so two
 *   transactions can never link to the same predecessor, and a rolled-back event is never linked.
 * - Deadlock-free: taken at commit, it is the last lock a transaction takes, after every row lock
 *   it holds, and its holder then waits for nothing else. Taken at INSERT instead (in a BEFORE
 *   trigger), a transaction holding it could go on to lock a grant row (a merge ending a live
 *   grant, an extension ending the grant it extends) held by a worker that is itself waiting for
 *   the lock to append its own event: PostgreSQL would abort one of them.
 * - Short: event-writing transactions never span a network call in this codebase; the lock covers
 *   only the linking (two index lookups and an insert per event, ~80 µs) and the commit itself.
 * - One lock for every tenant, not one each: it also numbers the commit order across tenants (the
 *   cursor below), and jitsudo writes a few events per grant, so commits seldom wait on it.
 *
 * Cursor. `seq` numbers links across all tenants in commit order, without gaps: a link's number is
 * the head's plus one, read under the lock, and the lock is released only after the commit is
 * visible. So whoever sees link n+1 sees link n, and `seq > after` never skips an event. (An id
 * cursor would: ids are taken at INSERT, so a transaction holding id 41 can commit after one
 * holding 42 was read. A cursor on transaction ids below the snapshot's xmin would not skip
 * either, but any long transaction anywhere on the server would hold every reader back, and its
 * order would not be the chain's.) Exports, one snapshot each, go by event id and carry `seq`.
 *
 * Existing events are given their facts (the grant's as it is now: the best there is for them)
 * and linked in id order, the append-only trigger disabled for that UPDATE only, inside this
 * migration's transaction.
 *
 * Kept literal here: a migration must not change with the code.
 */
import type { Knex } from "knex";

/** The grant's facts each event carries, as columns of grant_events. */
const FACTS: ReadonlyArray<readonly [column: string, type: string]> = [
  ["requester", "text"],
  ["principal", "text"],
  ["principal_id", "text"],
  ["account_ref", "text"],
  ["account_id", "text"],
  ["permission_set_ref", "text"],
  ["permission_set_arn", "text"],
  ["instance_arn", "text"],
  ["policy_rule", "integer"],
  ["policy_sha256", "text"],
  ["approvers", "jsonb"],
  ["merge_commit_sha", "text"],
  ["file_path", "text"],
  ["request_reason", "text"],
  ["ticket", "text"],
  ["break_glass_team", "text"],
  ["aws_request_ids", "jsonb"],
  ["starts_at", "timestamptz"],
  ["expires_at", "timestamptz"],
  ["active_at", "timestamptz"],
  ["ended_at", "timestamptz"],
];
const FACT_COLUMNS = FACTS.map(([column]) => column);

/** A timestamp as canonical text: UTC, microseconds, whatever the session's TimeZone. */
const time = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Version 1 of the canonical text: every field, in this order, as text (src/audit/canonical.ts lists the same). */
const CANONICAL_FIELDS = [
  "seq::text",
  "tenant_seq::text",
  "prev_hash",
  "(e).id::text",
  "(e).tenant::text",
  "(e).repository_id::text",
  "(e).repo",
  "(e).pr_number::text",
  "(e).grant_id::text",
  "(e).type",
  "(e).from_status",
  "(e).to_status",
  "(e).actor",
  "(e).reason",
  "(e).details::text",
  time("(e).created_at"),
  "(e).requester",
  "(e).principal",
  "(e).principal_id",
  "(e).account_ref",
  "(e).account_id",
  "(e).permission_set_ref",
  "(e).permission_set_arn",
  "(e).instance_arn",
  "(e).policy_rule::text",
  "(e).policy_sha256",
  "(e).approvers::text",
  "(e).merge_commit_sha",
  "(e).file_path",
  "(e).request_reason",
  "(e).ticket",
  "(e).break_glass_team",
  "(e).aws_request_ids::text",
  time("(e).starts_at"),
  time("(e).expires_at"),
  time("(e).active_at"),
  time("(e).ended_at"),
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table grant_events ${FACTS.map(([column, type]) => `add column ${column} ${type}`).join(", ")}`);
  await knex.raw("create index grant_events_by_time on grant_events (created_at)");

  // The grant's facts as they are now; called with the new row by the trigger, and for each existing row below.
  await knex.raw(`
    create function grant_event_facts(e grant_events) returns grant_events language plpgsql stable as $$
    declare
      g grants%rowtype;
    begin
      if e.grant_id is not null then
        select * into g from grants where id = e.grant_id;
      end if;
      e.requester := g.requester;
      e.principal := g.principal;
      e.principal_id := g.principal_id;
      e.account_ref := g.account_ref;
      e.account_id := g.account_id;
      e.permission_set_ref := g.permission_set_ref;
      e.permission_set_arn := g.permission_set_arn;
      e.instance_arn := g.instance_arn;
      e.policy_rule := g.policy_rule;
      e.policy_sha256 := g.policy_sha256;
      e.approvers := g.approvers;
      -- A refused merge has no grant; its event names the merge commit in its details.
      e.merge_commit_sha := coalesce(g.merge_commit_sha, e.details->>'merge_commit_sha');
      e.file_path := g.file_path;
      e.request_reason := g.reason;
      e.ticket := g.ticket;
      e.break_glass_team := g.break_glass_team;
      -- The AWS request this event records (its answer), and the one in flight for the grant, if any.
      e.aws_request_ids := coalesce(
        (select jsonb_agg(distinct id order by id) from (values (e.details->>'request_id'), (g.aws_request_id)) ids (id) where id is not null),
        '[]'::jsonb);
      e.starts_at := g.starts_at;
      e.expires_at := g.expires_at;
      e.active_at := g.active_at;
      e.ended_at := g.ended_at;
      return e;
    end $$`);
  await knex.raw(`
    create function grant_events_audit_facts() returns trigger language plpgsql as $$
    begin
      new := grant_event_facts(new);
      return new;
    end $$`);

  await knex.raw(`
    create table grant_event_chain (
      seq bigint primary key,
      event_id bigint not null unique,
      tenant bigint not null,
      tenant_seq bigint not null,
      prev_hash text not null,
      hash text not null,
      version smallint not null,
      unique (tenant, tenant_seq)
    )`);
  await knex.raw(`comment on table grant_event_chain is 'one link per grant event, in commit order: see migration 0013_audit_trail'`);
  await knex.raw(`comment on column grant_event_chain.seq is 'commit order across tenants, without gaps: the cursor of GET /api/events'`);
  await knex.raw(`comment on column grant_event_chain.tenant_seq is 'position in the tenant''s chain, from 1, without gaps'`);
  await knex.raw(
    `comment on column grant_event_chain.hash is 'hex SHA-256 of grant_event_canonical (version): the event, its positions and prev_hash'`,
  );
  await knex.raw(`
    create function grant_event_chain_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'grant_event_chain is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end $$`);
  await knex.raw(`
    create trigger grant_event_chain_no_update_or_delete before update or delete on grant_event_chain
    for each row execute function grant_event_chain_append_only()`);
  await knex.raw(`
    create trigger grant_event_chain_no_truncate before truncate on grant_event_chain
    for each statement execute function grant_event_chain_append_only()`);

  // A field as unambiguous text: its length in characters before it, a dash for null. Characters,
  // not bytes: the same whatever the database's encoding, and no conversion per field (most of the cost).
  await knex.raw(`
    create function grant_event_field(v text) returns text language sql immutable as $$
      select case when v is null then '-' else length(v)::text || ':' || v end
    $$`);
  // PL/pgSQL, not SQL: PL/pgSQL keeps the expression's plan for the session, where an SQL function
  // called once per row would be parsed and planned again each time (about 1 ms here).
  await knex.raw(`
    create function grant_event_canonical(e grant_events, seq bigint, tenant_seq bigint, prev_hash text) returns text
    language plpgsql stable as $$
    begin
      return ${CANONICAL_FIELDS.map((field) => `grant_event_field(${field})`).join(" || '|' || ")};
    end $$`);

  await knex.raw(`
    create function grant_event_link(e grant_events) returns void language plpgsql as $$
    declare
      next_seq bigint;
      head_position bigint;
      link_position bigint;
      prev text;
    begin
      -- Under REPEATABLE READ the head read below would be the transaction's old snapshot, not the last commit.
      if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'grant events must be written in READ COMMITTED transactions (this one is %): the audit chain links each to the last committed one',
          current_setting('transaction_isolation');
      end if;
      -- One chain writer per schema (one deployment), held until this commit is visible. Taken once
      -- per transaction: taking it again for each event costs time in proportion to how many it holds.
      if current_setting('jitsudo.audit_chain_locked', true) is distinct from pg_current_xact_id()::text then
        perform pg_advisory_xact_lock(hashtext('jitsudo:audit-chain'), hashtext(current_schema()));
        perform set_config('jitsudo.audit_chain_locked', pg_current_xact_id()::text, true);
      end if;
      select coalesce(max(c.seq), 0) + 1 into next_seq from grant_event_chain c;
      select c.tenant_seq, c.hash into head_position, prev
        from grant_event_chain c where c.tenant = e.tenant order by c.tenant_seq desc limit 1;
      link_position := coalesce(head_position, 0) + 1;
      -- The first event of a tenant follows the all-zero hash.
      prev := coalesce(prev, repeat('0', 64));
      insert into grant_event_chain (seq, event_id, tenant, tenant_seq, prev_hash, hash, version)
      values (next_seq, e.id, e.tenant, link_position, prev,
              encode(sha256(convert_to(grant_event_canonical(e, next_seq, link_position, prev), 'UTF8')), 'hex'), 1);
    end $$`);
  await knex.raw(`
    create function grant_events_chain() returns trigger language plpgsql as $$
    begin
      perform grant_event_link(new);
      return null;
    end $$`);

  // Existing events: their facts, then their links in id order (all of them committed, so id order is theirs).
  await knex.raw("alter table grant_events disable trigger grant_events_no_update_or_delete");
  await knex.raw(`
    update grant_events e set (${FACT_COLUMNS.join(", ")}) =
      (select ${FACT_COLUMNS.map((column) => `f.${column}`).join(", ")} from grant_event_facts(e) f)`);
  await knex.raw("alter table grant_events enable trigger grant_events_no_update_or_delete");
  await knex.raw(`
    do $$
    declare
      e grant_events;
    begin
      for e in select * from grant_events order by id loop
        perform grant_event_link(e);
      end loop;
    end $$`);
  await knex.raw(
    "alter table grant_events alter column aws_request_ids set default '[]'::jsonb, alter column aws_request_ids set not null",
  );

  await knex.raw(`
    create trigger grant_events_audit_facts before insert on grant_events
    for each row execute function grant_events_audit_facts()`);
  await knex.raw(`
    create constraint trigger grant_events_chain after insert on grant_events
    deferrable initially deferred
    for each row execute function grant_events_chain()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop trigger if exists grant_events_chain on grant_events");
  await knex.raw("drop trigger if exists grant_events_audit_facts on grant_events");
  await knex.raw("drop function if exists grant_events_chain()");
  await knex.raw("drop function if exists grant_event_link(grant_events)");
  await knex.raw("drop function if exists grant_event_canonical(grant_events, bigint, bigint, text)");
  await knex.raw("drop function if exists grant_event_field(text)");
  await knex.raw("drop table if exists grant_event_chain");
  await knex.raw("drop function if exists grant_event_chain_append_only()");
  await knex.raw("drop function if exists grant_events_audit_facts()");
  await knex.raw("drop function if exists grant_event_facts(grant_events)");
  await knex.raw("drop index if exists grant_events_by_time");
  await knex.raw(`alter table grant_events ${FACT_COLUMNS.map((column) => `drop column ${column}`).join(", ")}`);
}
