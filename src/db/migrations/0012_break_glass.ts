/**
 * Break-glass grants: granted without code-owner approval, so each one is reviewed by a code owner
 * after the merge. The grant keeps when it was broken and by which team, when its review is due,
 * who reviewed it, and when the owners are next reminded (the interval doubles after each reminder).
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => {
    table.text("break_glass_team").comment("set for a break-glass grant: the team (@org/slug) whose active member the requester was");
    table
      .jsonb("break_glass_owners")
      .comment("the request file's code owners at the merge's base (@user, @org/team): who reviews it, whom reminders call");
    table.timestamp("break_glass_review_due_at", { useTz: true }).comment("when a code owner's review of this break-glass grant is due");
    table
      .timestamp("break_glass_reviewed_at", { useTz: true })
      .comment("when a code owner reviewed it (approved the merged PR or /jitsudo ack)");
    table.text("break_glass_reviewed_by").comment("the code owner who reviewed it");
    table.timestamp("break_glass_next_reminder_at", { useTz: true }).comment("when the owners are next reminded of the missing review");
    table.integer("break_glass_reminders").notNullable().defaultTo(0).comment("reminders sent so far; the interval doubles after each");
  });
  await knex.raw(
    "create index grants_break_glass_unreviewed on grants (break_glass_next_reminder_at) where break_glass_team is not null and break_glass_reviewed_at is null",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists grants_break_glass_unreviewed");
  await knex.schema.alterTable("grants", (table) => {
    for (const column of [
      "break_glass_reminders",
      "break_glass_next_reminder_at",
      "break_glass_reviewed_by",
      "break_glass_reviewed_at",
      "break_glass_review_due_at",
      "break_glass_owners",
      "break_glass_team",
    ])
      table.dropColumn(column);
  });
}
