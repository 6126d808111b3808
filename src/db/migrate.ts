import type { Knex } from "knex";
import { MIGRATIONS, type Migration } from "./migrations/index.js";

/** knex's migrator, fed from our explicit list instead of a directory scan. */
const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: () => Promise.resolve([...MIGRATIONS]),
  getMigrationName: ([name]) => name,
  getMigration: ([, migration]) => Promise.resolve(migration),
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: "jitsudo_migrations" };

/**
 * Applies what is missing and returns the names applied. Replicas starting together wait for each
 * other on an advisory lock (knex's own lock would make the second one fail), then find nothing left.
 * The lock is the schema's: migrations of another schema on the same server need not wait.
 */
export async function migrateLatest(db: Knex): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx.raw("select pg_advisory_xact_lock(hashtext('jitsudo:migrate:' || coalesce(current_schema(), '')))");
    const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
    return applied;
  });
}

/** True when the database lacks a migration this build knows: not ready to serve. */
export async function migrationsPending(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(config)) as [unknown[], unknown[]];
  return pending.length > 0;
}
