/**
 * Extensions and expiry reminders.
 *
 * Extension: a merged edit of a request file that asks for the same assignment, starting at once,
 * while the file's grant is active, takes over without a gap. The new grant names the grant it
 * extends (`extends_grant_id`); the old one keeps `superseded_by` and stays active until the new
 * one is (see src/grants/extension.ts).
 *
 * Reminders: `remind_before_seconds` is the matching rule's `remind_before`, kept on the grant at
 * the merge so a later policy edit does not change it (null: no reminder). `reminded_at` is set
 * once, atomically, by the replica that claims the reminder; the PR comment it owes is sent (and
 * recorded as sent, `reminder_comment_sent_at`) separately, so GitHub being down loses nothing.
 * `reminder_comment_tried_at` is the sender's lease: one replica at a time posts it.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => {
    table.uuid("extends_grant_id").references("id").inTable("grants").comment("the active grant this one extends without a gap");
    table.integer("remind_before_seconds").comment("the rule's remind_before at the merge; null: no expiry reminder");
    table.timestamp("reminded_at", { useTz: true }).comment("when the expiry reminder was claimed (its grant event written)");
    table.timestamp("reminder_comment_tried_at", { useTz: true }).comment("the reminder comment's sender lease");
    table.timestamp("reminder_comment_sent_at", { useTz: true }).comment("when GitHub accepted the reminder comment");
  });
  // What the reminder job looks for on every worker cycle: kept small by the partial conditions.
  await knex.raw(
    "create index grants_reminders_due on grants (expires_at) where status = 'active' and reminded_at is null and remind_before_seconds is not null",
  );
  await knex.raw(
    "create index grants_reminder_comments_owed on grants (reminded_at) where reminded_at is not null and reminder_comment_sent_at is null",
  );
  await knex.raw("create index grants_extends on grants (extends_grant_id) where extends_grant_id is not null");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists grants_extends");
  await knex.raw("drop index if exists grants_reminder_comments_owed");
  await knex.raw("drop index if exists grants_reminders_due");
  await knex.schema.alterTable("grants", (table) => {
    table.dropColumn("reminder_comment_sent_at");
    table.dropColumn("reminder_comment_tried_at");
    table.dropColumn("reminded_at");
    table.dropColumn("remind_before_seconds");
    table.dropColumn("extends_grant_id");
  });
}
