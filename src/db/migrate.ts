import type { Knex } from "knex";
import { MIGRATIONS, type Migration } from "./migrations/index.js";

/** knex's migrator, fed from our explicit list instead of a directory scan. */
const source: Knex.MigrationSource<readonly [string, Migration]> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: ([name]) => name,
  getMigration: async ([, migration]) => migration,
};

const config: Knex.MigratorConfig = { migrationSource: source, tableName: "jitsudo_migrations" };

/** Applies what is missing and returns the names applied (knex holds a lock while it runs). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
  return applied;
}

/** True when the database lacks a migration this build knows: not ready to serve. */
export async function migrationsPending(db: Knex): Promise<boolean> {
  const [, pending] = (await db.migrate.list(config)) as [unknown[], unknown[]];
  return pending.length > 0;
}
