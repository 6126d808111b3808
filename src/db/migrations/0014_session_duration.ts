/**
 * The true end of access: deleting an assignment does not end sessions already opened, which last
 * up to the permission set's session duration. Each grant keeps the session duration Identity
 * Center reported before its assignment was created (the longest seen, if it was created again),
 * and the cap of the rule that decided it on its canonical ids (`max_session_duration`), which the
 * worker checks before every create.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("grants", (table) => {
    table
      .integer("session_duration_seconds")
      .comment(
        "the permission set's SessionDuration (seconds) read before the assignment was created, the longest if created again: a session opened while assigned lasts up to this long after the deletion; null: never read (not provisioned yet, or provisioned before it was kept)",
      );
    table
      .timestamp("session_duration_read_at", { useTz: true })
      .comment("when session_duration_seconds was last read from Identity Center");
    table
      .integer("max_session_seconds")
      .comment("max_session_duration of the rule that decided the grant on its canonical ids, in seconds; null: no cap");
  });
  await knex.raw("alter table grants add constraint grants_session_duration_positive check (session_duration_seconds > 0)");
  // The pull request check reads a repository's recent readings (src/grants/session-durations.ts).
  await knex.raw(
    "create index grants_session_readings on grants (repository_id, session_duration_read_at desc) where session_duration_read_at is not null",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("drop index if exists grants_session_readings");
  await knex.raw("alter table grants drop constraint if exists grants_session_duration_positive");
  await knex.schema.alterTable("grants", (table) => {
    for (const column of ["max_session_seconds", "session_duration_read_at", "session_duration_seconds"]) table.dropColumn(column);
  });
}
