/**
 * What the provisioning and revoke workers need: where each grant is provisioned (the tenant's AWS
 * settings as approved at merge time), the AWS operation in flight and who is carrying it out,
 * and the shared per-instance rate limit that holds across replicas.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => {
    table.text("aws_role_arn").comment("role assumed to provision it; null = the deployment's credentials");
    table.text("aws_region");
    table.text("identity_store_id");
    table.text("operation").comment("create or delete while an AWS operation for this grant is in flight");
    table.timestamp("operation_started_at", { useTz: true });
    table
      .timestamp("create_requested_at", { useTz: true })
      .comment("first time a create was about to be sent: from then on the assignment may exist");
    table.text("lease_owner").comment("the worker carrying the grant's current step; free when that worker is gone");
    table.timestamp("active_at", { useTz: true }).comment("when the assignment was confirmed");
    table.timestamp("ended_at", { useTz: true }).comment("when it reached a final status");
  });
  await knex.raw("alter table grants add constraint grants_operation_known check (operation is null or operation in ('create', 'delete'))");
  // The creates in flight per instance (AWS allows 10) are counted often: keep that count cheap.
  await knex.raw("create index grants_operations_in_flight on grants (instance_arn, operation) where operation is not null");

  await knex.schema.createTable("aws_rate_limits", (table) => {
    table.text("instance_arn").primary();
    table.double("tokens").notNullable().comment("may go negative: slots reserved ahead, in order");
    table.timestamp("refilled_at", { useTz: true }).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("aws_rate_limits");
  await knex.raw("drop index if exists grants_operations_in_flight");
  await knex.raw("alter table grants drop constraint if exists grants_operation_known");
  await knex.schema.alterTable("grants", (table) => {
    for (const column of [
      "aws_role_arn",
      "aws_region",
      "identity_store_id",
      "operation",
      "operation_started_at",
      "create_requested_at",
      "lease_owner",
      "active_at",
      "ended_at",
    ])
      table.dropColumn(column);
  });
}
