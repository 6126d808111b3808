/**
 * `jitsudo audit export` from a real database: the window [--since, --until), the tenant, JSON
 * Lines and CSV to stdout or a file; and the arguments and environment it refuses, with the reason.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAuditOptions, parseMoment } from "../../src/cli/audit-options.js";
import { runAudit, writeEvent } from "../support/audit.js";
import { freshDatabase } from "../support/db.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const run = runAudit;

describe("jitsudo audit export", () => {
  it("writes the events of [--since, --until) as JSON Lines, one tenant's with --tenant", async () => {
    const { db, url, schema } = await freshDatabase();
    const env = { DATABASE_URL: url, DATABASE_SCHEMA: schema, GHE_HOST: "github.example.com" };
    await writeEvent(db, { reason: "October", createdAt: new Date("2026-10-31T23:59:59.999Z") });
    const first = await writeEvent(db, { reason: "first of November", createdAt: new Date("2026-11-01T00:00:00Z") });
    const other = await writeEvent(db, { tenant: 2, reason: "other tenant", createdAt: new Date("2026-11-15T08:00:00Z") });
    await writeEvent(db, { reason: "December", createdAt: new Date("2026-12-01T00:00:00Z") });

    const november = await run(["export", "--since", "2026-11-01", "--until", "2026-12-01"], env);
    expect([november.code, november.stderr]).toEqual([0, ["exported 2 events as jsonl to stdout"]]);
    const lines = november.stdout.split("\n");
    expect(lines.at(-1)).toBe("");
    const events = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((event) => [event.id, event.reason, event.created_at, event.pr_url])).toEqual([
      [first, "first of November", "2026-11-01T00:00:00.000000Z", "https://github.example.com/acme/access/pull/7"],
      [other, "other tenant", "2026-11-15T08:00:00.000000Z", "https://github.example.com/acme/access/pull/7"],
    ]);
    expect(events[0]).toMatchObject({ tenant: "1", tenant_seq: "2", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const tenant2 = await run(["export", "--since", "2026-01-01", "--tenant", "2"], env);
    expect(
      tenant2.stdout
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { id: string }).id),
    ).toEqual([other]);
  });

  it("writes CSV to --output: a header, RFC 4180 quoting, formulas defused", async () => {
    const { db, url, schema } = await freshDatabase();
    await writeEvent(db, {
      reason: '=HYPERLINK("http://evil.example","x"), then a\nnew line',
      createdAt: new Date("2026-11-02T00:00:00Z"),
    });
    const dir = mkdtempSync(join(tmpdir(), "jitsudo-audit-"));
    dirs.push(dir);
    const file = join(dir, "q4.csv");
    const result = await run(["export", "--since", "2026-11-01", "--format", "csv", "--output", file], {
      DATABASE_URL: url,
      DATABASE_SCHEMA: schema,
    });
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "", [`exported 1 event as csv to ${file}`]]);
    const text = readFileSync(file, "utf8");
    const [header] = text.split("\r\n");
    expect(header).toMatch(/^seq,created_at,tenant,tenant_seq,id,type,grant_id,repo,repository_id,pr_number,pr_url,actor,/);
    expect(text).toContain(`,"'=HYPERLINK(""http://evil.example"",""x""), then a\nnew line",`);
    expect(text.endsWith("\r\n")).toBe(true);
  });

  it("exports nothing but the header when nothing was written in the window", async () => {
    const { url, schema } = await freshDatabase();
    const result = await run(["export", "--since", "2026-11-01", "--format", "csv"], { DATABASE_URL: url, DATABASE_SCHEMA: schema });
    expect([result.code, result.stdout.split("\r\n").length, result.stderr]).toEqual([0, 2, ["exported 0 events as csv to stdout"]]);
  });

  it("needs DATABASE_URL, and says so", async () => {
    const result = await run(["export", "--since", "2026-11-01"], {});
    expect([result.code, result.stderr]).toEqual([
      2,
      ["jitsudo audit reads jitsudo's database: set DATABASE_URL (postgres://…) and, if jitsudo uses one, DATABASE_SCHEMA"],
    ]);
  });

  it("says where the audit trail is missing, and that it cannot reach the database, without repeating the URL", async () => {
    const { url } = await freshDatabase();
    const elsewhere = await run(["verify"], { DATABASE_URL: url, DATABASE_SCHEMA: "no_jitsudo_here" });
    expect([elsewhere.code, elsewhere.stderr]).toEqual([
      2,
      [
        "no audit trail here (no grant_event_chain table): point DATABASE_URL and DATABASE_SCHEMA at jitsudo's database, or run `jitsudo migrate` there",
      ],
    ]);
    const down = await run(["verify"], { DATABASE_URL: "postgres://auditor:s3cret@127.0.0.1:1/jitsudo" });
    expect(down.code).toBe(2);
    expect(down.stderr[0]).toMatch(/^jitsudo audit could not read the database DATABASE_URL names: .*; check DATABASE_URL$/);
    expect(down.stderr[0]).not.toContain("s3cret");
  });

  it("prints its usage for help, exit 0", async () => {
    const result = await run(["--help"], {});
    expect([result.code, result.stdout]).toEqual([0, expect.stringMatching(/^usage: jitsudo audit export --since <date>/)]);
  });
});

describe("jitsudo audit's arguments", () => {
  const error = (args: string[]) => {
    const parsed = parseAuditOptions(args);
    return "error" in parsed ? parsed.error : undefined;
  };

  it("reads an export's window, format, tenant and file", () => {
    expect(
      parseAuditOptions([
        "export",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-02T09:30:00+02:00",
        "--format",
        "csv",
        "--tenant",
        "42",
        "-o",
        "q.csv",
      ]),
    ).toEqual({
      command: "export",
      since: new Date("2026-11-01T00:00:00Z"),
      until: new Date("2026-11-02T07:30:00Z"),
      format: "csv",
      tenant: "42",
      output: "q.csv",
    });
    expect(parseAuditOptions(["export", "--since", "2026-11-01"])).toEqual({
      command: "export",
      since: new Date("2026-11-01T00:00:00Z"),
      format: "jsonl",
    });
    expect(parseAuditOptions(["verify"])).toEqual({ command: "verify" });
  });

  it("refuses what it cannot read, naming what to write instead", () => {
    expect(error(["export"])).toBe("--since is required: the first day to export, like 2026-11-01");
    expect(error(["export", "--since", "2026-02-30"])).toBe(
      '--since "2026-02-30" must be a date like 2026-11-01 (midnight UTC) or a time like 2026-11-01T09:30:00Z',
    );
    expect(error(["export", "--since", "yesterday"])).toMatch(/^--since "yesterday" must be a date like 2026-11-01/);
    expect(error(["export", "--since", "2026-11-01T10:00:00"])).toMatch(/must be a date like 2026-11-01 \(midnight UTC\) or a time like/);
    expect(error(["export", "--since", "2026-11-02", "--until", "2026-11-01"])).toBe(
      "--until (2026-11-01T00:00:00.000Z) must be after --since (2026-11-02T00:00:00.000Z)",
    );
    expect(error(["export", "--since", "2026-11-01", "--format", "xlsx"])).toBe('--format must be jsonl or csv, not "xlsx"');
    expect(error(["export", "--since", "2026-11-01", "--bogus"])).toMatch(/Unknown option '--bogus'/);
    expect(error(["verify", "--since", "2026-11-01"])).toMatch(/Unknown option '--since'/);
    expect(error(["purge"])).toBe('unknown audit command "purge"; use export or verify');
  });

  it("reads a moment as a UTC day or a time with its zone", () => {
    expect(parseMoment("--since", "2026-11-01")).toEqual(new Date("2026-11-01T00:00:00Z"));
    expect(parseMoment("--since", "2026-11-01T09:30:00.123456Z")).toEqual(new Date("2026-11-01T09:30:00.123Z"));
    expect(parseMoment("--until", "2026-13-01")).toHaveProperty("error");
  });
});
