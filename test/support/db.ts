/**
 * A fresh, migrated schema for the calling test file, on this run's database server.
 * (grant_events refuses DELETE and TRUNCATE by design, so isolation comes from new schemas,
 * not from cleaning tables.)
 */
import type { Knex } from "knex";
import { afterAll, inject } from "vitest";
import { createDb, ensureSchema } from "../../src/db/knex.js";
import { migrateLatest } from "../../src/db/migrate.js";

let counter = 0;

export interface TestDatabase {
  db: Knex;
  url: string;
  schema: string;
}

export async function freshDatabase(): Promise<TestDatabase> {
  const url = inject("databaseUrl");
  const schema = `${inject("schemaPrefix")}_${process.pid}_${counter++}`;
  // Files that take a fresh schema per test keep every test's pool until the file ends: idle
  // connections close within a second, or a file of 15 such tests holds 75 of PostgreSQL's 100.
  const db = createDb({ url, schema, pool: { min: 0, max: 5, idleTimeoutMillis: 1_000, reapIntervalMillis: 250 } });
  await ensureSchema(db, schema);
  await migrateLatest(db);
  afterAll(async () => {
    await db.destroy();
  });
  return { db, url, schema };
}
