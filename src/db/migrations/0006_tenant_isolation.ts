/**
 * Tenants kept apart. Tenant configs are keyed by GitHub repository id (a renamed repository keeps
 * its config, a new one under the old name does not inherit it). Drift sweeps each tenant on its
 * own: its own cursor, its own sweep record, and claims on the permission sets it manages, at
 * most one tenant per permission set of an instance. And command replies, so a pull request gets
 * at most one help reply an hour.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  // Configs recorded before repository ids were kept are read again at the next push or merge
  // (drift's managed permission sets are new, so a tenant that wants them pushes a change anyway).
  await knex("tenant_configs").whereNull("repository_id").delete();
  await knex.schema.alterTable("tenant_configs", (table) => {
    table.dropPrimary();
    table.bigInteger("repository_id").notNullable().alter();
    table.primary(["repository_id"]);
  });

  await knex.schema.createTable("drift_claims", (table) => {
    table.text("instance_arn").notNullable();
    table.text("permission_set_arn").notNullable();
    table.bigInteger("repository_id").notNullable().comment("the one tenant whose drift manages this permission set on this instance");
    table.bigInteger("tenant").notNullable();
    table
      .text("declared_as")
      .notNullable()
      .comment(
        "how the owner's drift.managed_permission_sets names it (name or ARN): the claim ends when the owner's config stops naming it",
      );
    table.timestamp("claimed_at", { useTz: true }).notNullable();
    table
      .timestamp("confirmed_at", { useTz: true })
      .notNullable()
      .comment("the owner's last sweep that reached the instance through its own role and still listed the set");
    table.primary(["instance_arn", "permission_set_arn"]);
    table.index(["repository_id"], "drift_claims_by_repository");
  });

  // Cursors were per instance; a pass now belongs to one tenant. Starting passes afresh loses nothing.
  await knex("drift_cursors").delete();
  await knex.schema.alterTable("drift_cursors", (table) => {
    table.dropPrimary();
    table.bigInteger("repository_id").notNullable();
    table.primary(["instance_arn", "repository_id"]);
  });
  await knex.schema.alterTable("drift_sweeps", (table) => {
    table.bigInteger("repository_id").comment("the tenant swept; null for sweeps before tenants were swept apart");
    table.integer("removed").notNullable().defaultTo(0);
  });
  await knex.schema.alterTable("drift_findings", (table) => {
    table.bigInteger("repository_id").comment("the tenant whose managed permission set it is");
  });

  await knex.schema.alterTable("grant_events", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id; null for events recorded before it was kept");
  });
  await knex.raw("create index grant_events_by_repository_pull on grant_events (repository_id, pr_number)");

  await knex.schema.alterTable("grants", (table) => {
    table.text("failure_reason").comment("why provisioning was given up; such a grant ends failed once nothing is left assigned");
  });

  await knex.schema.createTable("command_replies", (table) => {
    table.bigInteger("repository_id").notNullable();
    table.integer("pr_number").notNullable();
    table.text("kind").notNullable().comment("help: the reply to a command jitsudo does not know");
    table.timestamp("replied_at", { useTz: true }).notNullable();
    table.primary(["repository_id", "pr_number", "kind"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("command_replies");
  await knex.schema.alterTable("grants", (table) => table.dropColumn("failure_reason"));
  await knex.raw("drop index if exists grant_events_by_repository_pull");
  await knex.schema.alterTable("grant_events", (table) => table.dropColumn("repository_id"));
  await knex.schema.alterTable("drift_findings", (table) => table.dropColumn("repository_id"));
  await knex.schema.alterTable("drift_sweeps", (table) => {
    table.dropColumn("removed");
    table.dropColumn("repository_id");
  });
  await knex("drift_cursors").delete();
  await knex.schema.alterTable("drift_cursors", (table) => {
    table.dropPrimary();
    table.dropColumn("repository_id");
    table.primary(["instance_arn"]);
  });
  await knex.schema.dropTableIfExists("drift_claims");
  await knex.schema.alterTable("tenant_configs", (table) => {
    table.dropPrimary();
    table.bigInteger("repository_id").nullable().alter();
    table.primary(["tenant", "repo"]);
  });
}
