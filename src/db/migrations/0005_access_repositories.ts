/**
 * Which repository a grant came from, by GitHub's numeric id (it survives renames and names can be
 * reused): the tenant role's ExternalId names it, so AWS itself refuses a role session for any other
 * repository. And the policy each merge was judged under, kept once per distinct content, so the
 * worker can judge the request again on canonical ids (account id, permission set name) before it
 * creates anything.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("policy_snapshots", (table) => {
    table.text("sha256").primary().comment("SHA-256 of the content: identical policies are stored once");
    table.text("content").notNullable().comment(".github/jitsudo.yml at the base of a judged merge");
    table.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.alterTable("grants", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id; null for grants approved before it was recorded");
    table.text("policy_sha256").references("sha256").inTable("policy_snapshots").comment("the policy the merge was judged under");
    table.timestamp("policy_rechecked_at", { useTz: true }).comment("when the request was judged again on canonical ids, before the first create");
  });
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id");
    table.text("base_sha").comment("the default branch just before the merge, as proven");
  });
  await knex.schema.alterTable("tenant_configs", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id: drift assumes the tenant role for this repository");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("tenant_configs", (table) => table.dropColumn("repository_id"));
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.dropColumn("repository_id");
    table.dropColumn("base_sha");
  });
  await knex.schema.alterTable("grants", (table) => {
    table.dropColumn("policy_rechecked_at");
    table.dropColumn("policy_sha256");
    table.dropColumn("repository_id");
  });
  await knex.schema.dropTableIfExists("policy_snapshots");
}
