/**
 * When a status list first showed a grant's create no longer in progress. AWS's cap of creates in
 * flight counts only operations in progress, so the slot is free from then on, before the
 * operation's outcome is read and recorded (src/jobs/operation-poller.ts, `intendCreates`).
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => {
    table
      .timestamp("operation_finished_at", { useTz: true })
      .comment("when AWS's status list first showed the grant's create no longer in progress; its create slot is free from then");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => table.dropColumn("operation_finished_at"));
}
