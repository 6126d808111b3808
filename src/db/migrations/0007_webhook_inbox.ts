/**
 * The durable webhook inbox: a delivery is verified, written here and answered at once; processors
 * on any replica work through it in order per pull request, retrying failures. And job leases:
 * "one replica at a time" for periodic jobs as rows with an expiry, instead of advisory locks that
 * hold a pooled connection (in a transaction) for as long as the job talks to GitHub or AWS.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("webhook_inbox", (table) => {
    table.bigIncrements("seq").comment("arrival order: deliveries of one ordering key are processed in this order");
    table
      .text("delivery_id")
      .notNullable()
      .unique()
      .comment("X-GitHub-Delivery (a redelivery has the same one), or catch-up:… for merges the scan found");
    table.text("event").notNullable();
    table.text("action");
    table.bigInteger("installation_id");
    table.bigInteger("repository_id");
    table.text("ordering_key").notNullable().comment("pr:<repository id>:<number>, push:<repository id>, …");
    table.jsonb("payload").notNullable();
    table.timestamp("received_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text("status").notNullable().defaultTo("pending").comment("pending, processing, done, or dead (gave up after its attempts)");
    table.integer("attempts").notNullable().defaultTo(0);
    table.timestamp("next_attempt_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text("lease_owner").comment("the processor working on it; free when that processor's session lock is gone");
    table.text("last_error");
    table.text("outcome");
    table.timestamp("finished_at", { useTz: true });
  });
  await knex.raw("create index webhook_inbox_due on webhook_inbox (next_attempt_at, seq) where status in ('pending', 'processing')");
  await knex.raw("create index webhook_inbox_open_by_key on webhook_inbox (ordering_key, seq) where status in ('pending', 'processing')");
  await knex.raw("create index webhook_inbox_finished on webhook_inbox (finished_at) where status in ('done', 'dead')");

  await knex.schema.createTable("webhook_redelivery_checks", (table) => {
    table.text("app").primary().comment("the GitHub App (its id)");
    table.timestamp("checked_until", { useTz: true }).notNullable().comment("GitHub's deliveries up to here have been looked at");
  });

  await knex.schema.createTable("job_leases", (table) => {
    table.text("name").notNullable();
    table.text("key").notNullable();
    table.text("owner").notNullable();
    table
      .timestamp("expires_at", { useTz: true })
      .notNullable()
      .comment("renewed while the job runs; a holder that died frees it at expiry");
    table.primary(["name", "key"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("job_leases");
  await knex.schema.dropTableIfExists("webhook_redelivery_checks");
  await knex.schema.dropTableIfExists("webhook_inbox");
}
