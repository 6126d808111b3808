/**
 * The database handle. One knex pool per process; `schema` isolates a deployment (or a test run)
 * inside a shared database. Timestamps are timestamptz and come back as Date; bigint columns
 * (bigserial event ids, installation ids) come back as strings so no id ever loses precision.
 */
import knexFactory, { type Knex } from "knex";

export interface DbOptions {
  url: string;
  /** A schema of its own; created on first use by `ensureSchema`. */
  schema?: string;
  pool?: { min: number; max: number; idleTimeoutMillis?: number; reapIntervalMillis?: number };
}

export function createDb({ url, schema, pool = { min: 0, max: 10 } }: DbOptions): Knex {
  return knexFactory({
    client: "pg",
    connection: url,
    pool,
    ...(schema ? { searchPath: [schema] } : {}),
    // Statements name their columns; migrations run through our own source (src/db/migrate.ts).
    acquireConnectionTimeout: 10_000,
  });
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function ensureSchema(db: Knex, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  await db.raw(`create schema if not exists "${schema}"`);
}

export async function dropSchema(db: Knex, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  await db.raw(`drop schema if exists "${schema}" cascade`);
}

/**
 * A query's result as the shape the schema gives it. knex's query builder is untyped, so this is
 * the one place a row's type is asserted rather than inferred: read it as "these columns, as
 * PostgreSQL returns them (bigint as string, timestamps as Date)".
 */
export async function rowsAs<T>(query: PromiseLike<unknown>): Promise<T> {
  return (await query) as T;
}
