/**
 * How far the catch-up scan for lost merge webhooks has read each repository's closed pull
 * requests: everything updated before `scanned_until` has been looked at.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("merge_scan_cursors", (table) => {
    table.bigInteger("tenant").notNullable().comment("GitHub App installation id");
    table.text("repo").notNullable();
    table.timestamp("scanned_until", { useTz: true }).notNullable();
    table.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(["tenant", "repo"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("merge_scan_cursors");
}
