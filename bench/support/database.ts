/**
 * A migrated schema of its own for a benchmark, on DATABASE_URL's server or an embedded
 * PostgreSQL when it is unset (as `npm test` does). Dropped again by `close`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Knex } from "knex";
import { startEmbeddedPostgres } from "../../src/db/embedded.js";
import { createDb, dropSchema, ensureSchema } from "../../src/db/knex.js";
import { migrateLatest } from "../../src/db/migrate.js";

export interface BenchDatabase {
  db: Knex;
  url: string;
  schema: string;
  close(): Promise<void>;
}

export async function benchDatabase(name: string, pool = { min: 0, max: 10 }): Promise<BenchDatabase> {
  let url = process.env.DATABASE_URL;
  let stopEmbedded: () => Promise<void> = () => Promise.resolve();
  if (!url) {
    const dataDir = mkdtempSync(join(tmpdir(), "jitsudo-bench-pg-"));
    const embedded = await startEmbeddedPostgres({ dataDir });
    url = embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
  }
  const schema = `bench_${name.replace(/[^a-z0-9]/g, "_")}_${process.pid}`;
  const admin = createDb({ url });
  await dropSchema(admin, schema);
  await ensureSchema(admin, schema);
  await admin.destroy();
  const db = createDb({ url, schema, pool });
  await migrateLatest(db);
  return {
    db,
    url,
    schema,
    async close() {
      await db.destroy();
      const cleanup = createDb({ url });
      await dropSchema(cleanup, schema);
      await cleanup.destroy();
      await stopEmbedded();
    },
  };
}
