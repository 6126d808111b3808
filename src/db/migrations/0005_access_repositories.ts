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
    table.bigInteger("requester_id").comment("GitHub user id of the requester: logins can be renamed and reused");
    table.text("policy_sha256").references("sha256").inTable("policy_snapshots").comment("the policy the merge was judged under");
    table
      .timestamp("policy_rechecked_at", { useTz: true })
      .comment("when the request was judged again on canonical ids, before the first create");
    table.jsonb("approver_sets").comment("per set of owners that had to approve (the path, and the old path of a rename): who counted");
  });
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id");
    table.text("base_sha").comment("the default branch just before the merge, as proven");
  });
  await knex.schema.alterTable("tenant_configs", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id: drift assumes the tenant role for this repository");
  });
  // A merge is recorded once per repository by id: a renamed repository does not judge it again.
  await knex.raw(
    "create unique index merge_verdicts_once_per_repository on merge_verdicts (tenant, repository_id, pr_number, merge_commit_sha) where repository_id is not null",
  );
  await knex.schema.alterTable("merge_scan_cursors", (table) => {
    table.bigInteger("repository_id").comment("GitHub repository id: the cursor follows a renamed repository");
  });
  await knex.raw(
    "create index grants_by_repository_path on grants (tenant, repository_id, file_path) where status in ('approved', 'provisioning', 'active')",
  );
  // Live grants recorded before repository ids were kept, waiting to be adopted by their repository.
  await knex.raw(
    "create index grants_without_repository_id on grants (tenant) where repository_id is null and status in ('approved', 'provisioning', 'active')",
  );
  await knex.schema.createTable("merge_lookups", (table) => {
    table.bigInteger("repository_id").notNullable();
    table.integer("pr_number").notNullable();
    table.text("merge_commit_sha").notNullable();
    table.text("key").notNullable().comment("team:<org>/<slug>:<login> or permission:<login>");
    table.text("answer").notNullable();
    table.timestamp("read_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.primary(["repository_id", "pr_number", "merge_commit_sha", "key"]);
  });
  await knex.schema.createTable("access_repository_pins", (table) => {
    table.text("full_name").primary().comment("a name listed in JITSUDO_ACCESS_REPOSITORIES, lower-cased");
    table
      .bigInteger("repository_id")
      .notNullable()
      .index()
      .comment(
        "the repository that name was first seen on: a new repository taking the name is refused (a renamed repository holds several names)",
      );
    table.timestamp("pinned_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("access_repository_pins");
  await knex.schema.dropTableIfExists("merge_lookups");
  await knex.raw("drop index if exists grants_without_repository_id");
  await knex.raw("drop index if exists grants_by_repository_path");
  await knex.schema.alterTable("merge_scan_cursors", (table) => table.dropColumn("repository_id"));
  await knex.raw("drop index if exists merge_verdicts_once_per_repository");
  await knex.schema.alterTable("tenant_configs", (table) => table.dropColumn("repository_id"));
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.dropColumn("repository_id");
    table.dropColumn("base_sha");
  });
  await knex.schema.alterTable("grants", (table) => {
    table.dropColumn("requester_id");
    table.dropColumn("approver_sets");
    table.dropColumn("policy_rechecked_at");
    table.dropColumn("policy_sha256");
    table.dropColumn("repository_id");
  });
  await knex.schema.dropTableIfExists("policy_snapshots");
}
