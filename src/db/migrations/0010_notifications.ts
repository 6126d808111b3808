/**
 * Notifications (Slack, signed webhooks) through an outbox in PostgreSQL.
 *
 * `notification_outbox`: one row per event worth telling people about. Rows for grant events are
 * written by an AFTER INSERT trigger on `grant_events`, so every notifying event gets its row in
 * the very transaction that records the grant change, whichever code path wrote the event
 * (`appendEvent`, the direct insert of a refused merge, whatever is added later): a rollback
 * loses both, a commit keeps both. `grant_events` itself stays append-only; the trigger only reads
 * the new row (and the grant it belongs to, already updated in the same transaction) to keep a
 * snapshot of what the message must say. A valid request waiting for approval is no grant event:
 * PR validation writes that row itself, deduplicated by `dedupe_key`.
 *
 * `notification_deliveries`: per channel (one Slack channel, one webhook URL) of an event, its own
 * state, so one dead channel neither blocks nor re-sends another. Created when the dispatcher
 * routes an outbox row through the tenant's config as last seen (`routed_at`).
 */
import type { Knex } from "knex";

/**
 * The grant events that notify. Status changes into these statuses (from another status), and the
 * events that are not status changes. Kept literal here (a migration must not change with the
 * code); `src/notifications/events.ts` maps the same set, and test/notifications checks they agree.
 */
const NOTIFYING_CONDITION = `
  (new.to_status in ('approved', 'active', 'revoked', 'expired', 'failed') and new.from_status is distinct from new.to_status)
  or new.type in ('rejected', 'drift_unexpected', 'expiry_reminder', 'break_glass', 'break_glass_review_due')`;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("notification_outbox", (table) => {
    table.bigIncrements("id");
    table.uuid("event_id").notNullable().unique().defaultTo(knex.raw("gen_random_uuid()")).comment("sent to receivers for idempotency");
    table.bigInteger("grant_event_id").unique().comment("the grant_events row; null for a request waiting for approval");
    table.text("dedupe_key").unique().comment("for events that are no grant event: (repository, PR, head sha)");
    table.text("type").notNullable().comment("the grant event type, or request_waiting");
    table.text("from_status");
    table.text("to_status");
    table.bigInteger("tenant").notNullable();
    table.bigInteger("repository_id");
    table.text("repo").notNullable();
    table.integer("pr_number");
    table.uuid("grant_id");
    table.jsonb("payload").notNullable().comment("snapshot at the event: its actor, reason, details and the grant's columns");
    table.timestamp("occurred_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp("routed_at", { useTz: true }).comment("when its deliveries were created from the tenant's channels");
  });
  await knex.raw("create index notification_outbox_unrouted on notification_outbox (id) where routed_at is null");
  await knex.raw("create index notification_outbox_unrouted_by_grant on notification_outbox (grant_id, id) where routed_at is null");

  await knex.schema.createTable("notification_deliveries", (table) => {
    table.bigIncrements("id");
    table.bigInteger("outbox_id").notNullable().references("id").inTable("notification_outbox").onDelete("CASCADE");
    table.uuid("grant_id").comment("copied from the outbox row: order is kept per grant and channel");
    table.text("kind").notNullable().comment("slack or webhook");
    table.text("target").notNullable().comment("the Slack channel or the webhook URL");
    table.text("channel").notNullable().comment("kind:target, the ordering and dedupe key");
    table.text("state").notNullable().defaultTo("pending").comment("pending, delivered or dead");
    table.integer("attempts").notNullable().defaultTo(0);
    table.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text("lease_owner");
    table.timestamp("lease_expires_at", { useTz: true });
    table.timestamp("first_failed_at", { useTz: true });
    table.text("last_error");
    table.timestamp("delivered_at", { useTz: true });
    table.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.unique(["outbox_id", "channel"]);
  });
  await knex.raw(
    "alter table notification_deliveries add constraint notification_deliveries_state check (state in ('pending', 'delivered', 'dead'))",
  );
  await knex.raw("create index notification_deliveries_due on notification_deliveries (next_attempt_at, id) where state = 'pending'");
  await knex.raw(
    "create index notification_deliveries_pending_by_grant on notification_deliveries (grant_id, channel, outbox_id) where state = 'pending'",
  );

  await knex.raw(`
    create function notification_outbox_enqueue() returns trigger language plpgsql as $$
    begin
      insert into notification_outbox
        (grant_event_id, type, from_status, to_status, tenant, repository_id, repo, pr_number, grant_id, payload, occurred_at)
      values (
        new.id, new.type, new.from_status, new.to_status, new.tenant, new.repository_id, new.repo, new.pr_number, new.grant_id,
        jsonb_build_object(
          'actor', new.actor,
          'reason', new.reason,
          'details', new.details,
          'grant', (
            select jsonb_build_object(
              'id', g.id, 'status', g.status, 'file_path', g.file_path, 'requester', g.requester, 'principal', g.principal,
              'account_ref', g.account_ref, 'account_id', g.account_id, 'permission_set_ref', g.permission_set_ref,
              'starts_at', g.starts_at, 'expires_at', g.expires_at, 'reason', g.reason, 'ticket', g.ticket,
              'approvers', g.approvers, 'failure_reason', g.failure_reason, 'last_error', g.last_error)
            from grants g where g.id = new.grant_id)
        ),
        new.created_at
      );
      return null;
    end $$`);
  await knex.raw(`
    create trigger grant_events_notify after insert on grant_events
    for each row when (${NOTIFYING_CONDITION})
    execute function notification_outbox_enqueue()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop trigger if exists grant_events_notify on grant_events");
  await knex.raw("drop function if exists notification_outbox_enqueue()");
  await knex.schema.dropTableIfExists("notification_deliveries");
  await knex.schema.dropTableIfExists("notification_outbox");
}
