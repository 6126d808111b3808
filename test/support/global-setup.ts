/**
 * One database server for the whole run: the machine's (DATABASE_URL, as in CI) or an embedded
 * PostgreSQL started here. Every test file then gets schemas of its own under this run's prefix,
 * so runs (and files) never see each other's rows; all of them are dropped at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { createDb } from "../../src/db/knex.js";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../../src/db/embedded.js";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    schemaPrefix: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: EmbeddedPostgres | undefined;
  let dataDir: string | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    dataDir = mkdtempSync(join(tmpdir(), "jitsudo-test-pg-"));
    embedded = await startEmbeddedPostgres({ dataDir });
    url = embedded.url;
  }
  const schemaPrefix = `jt_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  project.provide("databaseUrl", url);
  project.provide("schemaPrefix", schemaPrefix);

  return async () => {
    const db = createDb({ url });
    try {
      const { rows } = await db.raw<{ rows: { nspname: string }[] }>("select nspname from pg_namespace where nspname like ?", [
        `${schemaPrefix}%`,
      ]);
      for (const { nspname } of rows) await db.raw(`drop schema "${nspname}" cascade`);
    } finally {
      await db.destroy();
      await embedded?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  };
}
