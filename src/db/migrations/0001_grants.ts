/**
 * Grants, their append-only event log, and merge verdicts: the tables the whole product runs on.
 * Enumerations are text with CHECK constraints, so a new status is a migration, never a guess.
 */
import type { Knex } from "knex";
import { GRANT_STATUSES } from "../../grants/lifecycle.js";

const quoted = (values: readonly string[]) => values.map((value) => `'${value}'`).join(", ");

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("grants", (table) => {
    table.uuid("id").primary().defaultTo(knex.raw("gen_random_uuid()"));
    table.bigInteger("tenant").notNullable().comment("GitHub App installation id");
    table.text("repo").notNullable().comment("owner/name of the access repository");
    table.integer("pr_number").notNullable();
    table.text("file_path").notNullable();
    table.text("blob_sha").notNullable().comment("git blob of the request file that was approved");
    table.text("merge_commit_sha").notNullable();
    table.text("requester").notNullable().comment("GitHub login of the pull request author");
    table.text("principal").notNullable().comment("Identity Center user name to grant");
    table.text("principal_id").comment("Identity Store user id, once resolved");
    table.text("account_ref").notNullable().comment("account as written in the request: id or name");
    table.text("account_id").comment("12-digit account id, once resolved");
    table.text("permission_set_ref").notNullable().comment("permission set as written: name or ARN");
    table.text("permission_set_arn").comment("permission set ARN, once resolved");
    table.text("instance_arn").comment("Identity Center instance, once known");
    table.text("status").notNullable();
    table.timestamp("starts_at", { useTz: true }).notNullable();
    table.timestamp("expires_at", { useTz: true }).notNullable();
    table.integer("duration_seconds").notNullable();
    table.text("reason").notNullable();
    table.text("ticket");
    table.jsonb("approvers").notNullable().defaultTo("[]");
    table.integer("policy_rule").comment("index of the policy rule that allowed it");
    table.uuid("superseded_by").references("id").inTable("grants");
    table.text("aws_request_id").comment("in-flight Create/Delete request id: a restarted worker polls it first");
    table.integer("attempts").notNullable().defaultTo(0);
    table.timestamp("next_attempt_at", { useTz: true });
    table.text("last_error");
    table.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp("updated_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // One merge of one file yields exactly one grant, however often the webhook is delivered.
    table.unique(["tenant", "repo", "pr_number", "file_path", "merge_commit_sha"], { indexName: "grants_one_per_merged_file" });
    table.index(["status", "starts_at"], "grants_due_to_start");
    table.index(["status", "expires_at"], "grants_due_to_expire");
    table.index(["instance_arn", "account_id", "permission_set_arn", "principal_id"], "grants_by_assignment");
  });
  await knex.raw(`alter table grants add constraint grants_status_known check (status in (${quoted(GRANT_STATUSES)}))`);
  await knex.raw("alter table grants add constraint grants_window_ordered check (expires_at > starts_at)");
  await knex.raw("alter table grants add constraint grants_account_id_format check (account_id is null or account_id ~ '^[0-9]{12}$')");

  await knex.schema.createTable("grant_events", (table) => {
    table.bigIncrements("id");
    table.uuid("grant_id").references("id").inTable("grants").comment("null for a refused merge: no grant exists");
    table.bigInteger("tenant").notNullable();
    table.text("repo").notNullable();
    table.integer("pr_number");
    table.text("type").notNullable();
    table.text("from_status");
    table.text("to_status");
    table.text("actor").notNullable().comment("GitHub login, jitsudo, or aws");
    table.text("reason").notNullable();
    table.jsonb("details").notNullable().defaultTo("{}").comment("reviewers, SHAs, AWS request ids…");
    table.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(["grant_id", "id"], "grant_events_by_grant");
    table.index(["tenant", "repo", "pr_number"], "grant_events_by_pull_request");
  });
  // The audit trail is append-only in the database itself, not only by convention in the code.
  await knex.raw(`
    create function grant_events_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'grant_events is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
    end $$`);
  await knex.raw(`
    create trigger grant_events_no_update_or_delete before update or delete on grant_events
    for each row execute function grant_events_append_only()`);
  await knex.raw(`
    create trigger grant_events_no_truncate before truncate on grant_events
    for each statement execute function grant_events_append_only()`);

  await knex.schema.createTable("merge_verdicts", (table) => {
    table.bigInteger("tenant").notNullable();
    table.text("repo").notNullable();
    table.integer("pr_number").notNullable();
    table.text("merge_commit_sha").notNullable();
    table.text("verdict").notNullable();
    table.jsonb("reasons").notNullable().defaultTo("[]");
    table.timestamp("merged_at", { useTz: true });
    table.timestamp("processed_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(["tenant", "repo", "pr_number", "merge_commit_sha"]);
    table.index(["tenant", "repo", "merged_at"], "merge_verdicts_latest_merge");
  });
  await knex.raw("alter table merge_verdicts add constraint merge_verdicts_known check (verdict in ('approved', 'rejected', 'ignored'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("merge_verdicts");
  await knex.schema.dropTableIfExists("grant_events");
  await knex.raw("drop function if exists grant_events_append_only()");
  await knex.schema.dropTableIfExists("grants");
}
