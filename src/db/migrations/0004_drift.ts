/**
 * What drift reconciliation needs: each tenant's policy as last merged (which permission sets
 * jitsudo manages, and whether to remove what no grant explains), the findings it has made, a
 * record of every sweep, and where the sweep of an instance's (account, permission set) pairs is.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("tenant_configs", (table) => {
    table.bigInteger("tenant").notNullable();
    table.text("repo").notNullable();
    table.text("commit_sha").notNullable().comment("the default branch commit it was read at");
    table.text("content").notNullable().comment(".github/jitsudo.yml as merged; parsed when used");
    table.timestamp("read_at", { useTz: true }).notNullable();
    table.primary(["tenant", "repo"]);
  });

  await knex.schema.createTable("drift_findings", (table) => {
    table.text("instance_arn").notNullable();
    table.text("account_id").notNullable();
    table.text("permission_set_arn").notNullable();
    table.text("principal_type").notNullable();
    table.text("principal_id").notNullable();
    table.text("action").notNullable().comment("flagged, or removed (drift.unexpected: remove)");
    table.timestamp("first_seen_at", { useTz: true }).notNullable();
    table.timestamp("last_seen_at", { useTz: true }).notNullable();
    table.timestamp("resolved_at", { useTz: true }).comment("when a sweep no longer found it");
    table.primary(["instance_arn", "account_id", "permission_set_arn", "principal_type", "principal_id"]);
  });

  await knex.schema.createTable("drift_sweeps", (table) => {
    table.bigIncrements("id");
    table.text("instance_arn").notNullable();
    table.text("worker").notNullable();
    table.timestamp("started_at", { useTz: true }).notNullable();
    table.timestamp("finished_at", { useTz: true });
    table.integer("calls").notNullable().defaultTo(0);
    table.integer("scopes_checked").notNullable().defaultTo(0);
    table.integer("missing").notNullable().defaultTo(0);
    table.integer("unexpected").notNullable().defaultTo(0);
    table.boolean("completed_rotation").notNullable().defaultTo(false).comment("this sweep finished a pass over every pair");
    table.text("error");
    table.index(["instance_arn", "started_at"], "drift_sweeps_by_instance");
  });

  await knex.schema.createTable("drift_cursors", (table) => {
    table.text("instance_arn").primary();
    table.jsonb("pairs").notNullable().comment("[account id, permission set ARN] pairs of this pass, in order");
    table.integer("position").notNullable();
    table.timestamp("rotation_started_at", { useTz: true }).notNullable();
    table.integer("rotation_calls").notNullable().defaultTo(0);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ["drift_cursors", "drift_sweeps", "drift_findings", "tenant_configs"]) await knex.schema.dropTableIfExists(table);
}
