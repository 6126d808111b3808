/**
 * The comment a merge owes its pull request, kept until GitHub has it: a verdict is recorded
 * before its comment is sent (GitHub paces comments seconds apart), and a refused merge has no
 * grant whose later report would write it, so a comment lost to a crash is sent again from here.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.text("comment_body").comment("the verdict comment for the PR, rendered when the merge was judged");
    table.timestamp("comment_sent_at", { useTz: true }).comment("when GitHub accepted the verdict comment; null while it is owed");
  });
  await knex.raw(
    "create index merge_verdicts_comments_owed on merge_verdicts (processed_at) where comment_body is not null and comment_sent_at is null",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists merge_verdicts_comments_owed");
  await knex.schema.alterTable("merge_verdicts", (table) => {
    table.dropColumn("comment_sent_at");
    table.dropColumn("comment_body");
  });
}
