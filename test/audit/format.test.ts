/**
 * The export formats (RFC 4180 CSV with the formula guard, JSON Lines), the flat event record and
 * the canonical text the chain hashes: pure, no database.
 */
import { describe, expect, it } from "vitest";
import { AUDIT_COLUMNS, auditEvent, type AuditRow } from "../../src/audit/audit-event.js";
import { csvField, csvHeader, csvRecord, exportLine, exportPreamble, jsonLine } from "../../src/audit/audit-format.js";
import { CANONICAL_SQL, canonicalText, linkHash } from "../../src/audit/canonical.js";

const row = (overrides: Partial<AuditRow> = {}): AuditRow => ({
  seq: "12",
  created_at: "2026-11-25T12:00:00.123456Z",
  tenant: "1",
  tenant_seq: "9",
  id: "41",
  type: "approved",
  grant_id: "0b7c8f5e-1111-4222-8333-444455556666",
  repo: "acme/access",
  repository_id: "424242",
  pr_number: 7,
  actor: "jitsudo",
  from_status: null,
  to_status: "approved",
  reason: "approved by @bob, @carol",
  requester: "alice",
  principal: "alice@example.com",
  principal_id: null,
  account_ref: "123456789012",
  account_id: null,
  permission_set_ref: "ReadOnlyAccess",
  permission_set_arn: null,
  instance_arn: null,
  policy_rule: 0,
  policy_sha256: "f".repeat(64),
  approvers: ["bob", "carol"],
  merge_commit_sha: "m".repeat(40),
  file_path: "access-requests/alice.yaml",
  request_reason: '=HYPERLINK("http://evil.example","click"), then "quotes"\nand a new line',
  ticket: "INC-1",
  break_glass_team: null,
  aws_request_ids: [],
  starts_at: "2026-11-25T12:00:00.000000Z",
  expires_at: "2026-11-25T14:00:00.000000Z",
  active_at: null,
  ended_at: null,
  details: { head_sha: "h".repeat(40) },
  prev_hash: "0".repeat(64),
  hash: "a".repeat(64),
  ...overrides,
});

/** A strict RFC 4180 reader, to read back what was written. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let index = 0;
  while (index < text.length) {
    if (text[index] === '"') {
      const end = /"(?!")/g;
      end.lastIndex = index + 1;
      const close = end.exec(text.replaceAll('""', "\0\0"))!.index;
      field += text.slice(index + 1, close).replaceAll('""', '"');
      index = close + 1;
    } else if (text[index] === ",") {
      record.push(field);
      field = "";
      index += 1;
    } else if (text.startsWith("\r\n", index)) {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      index += 2;
    } else {
      field += text[index];
      index += 1;
    }
  }
  expect([field, record]).toEqual(["", []]);
  return records;
}

describe("CSV (RFC 4180)", () => {
  it("quotes every field, doubling the quotes, so that no separator (`,` or a locale's `;`) splits one", () => {
    expect(csvField("plain")).toBe('"plain"');
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("one\ntwo")).toBe('"one\ntwo"');
    expect(csvField("one\rtwo")).toBe('"one\rtwo"');
    expect(csvField(null)).toBe("");
    expect(csvField(7)).toBe('"7"');
    expect(csvField(["bob", "carol"])).toBe('"[""bob"",""carol""]"');
    expect(csvField([])).toBe('"[]"');
    // Unquoted, a spreadsheet splitting on ";" made a cell of "=cmd|..." and ran it.
    expect(csvField("x;=cmd|' /C calc'!A0")).toBe(`"x;=cmd|' /C calc'!A0"`);
  });

  it("writes a value a spreadsheet would run as a formula (= + - @, tab, CR) as text, with a leading '", () => {
    expect(["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"].map(csvField)).toEqual([
      `"'=1+1"`,
      `"'+1"`,
      `"'-1"`,
      `"'@SUM(A1)"`,
      `"'\t=1"`,
      `"'\r=1"`,
    ]);
    expect(csvField('=HYPERLINK("http://evil.example","x")')).toBe(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    // Only at the start: inside a value they are harmless.
    expect(csvField("a=b-c+d@e")).toBe('"a=b-c+d@e"');
  });

  it("writes a header and one CRLF-ended record per event that read back field for field", () => {
    const event = auditEvent(row(), "https://github.com");
    const [header, record, ...rest] = parseCsv(csvHeader() + csvRecord(event));
    expect(rest).toEqual([]);
    expect(header).toEqual([...AUDIT_COLUMNS]);
    const read = Object.fromEntries(header!.map((column, index) => [column, record![index]]));
    expect(read).toMatchObject({
      seq: "12",
      pr_url: "https://github.com/acme/access/pull/7",
      reason: "approved by @bob, @carol",
      request_reason: `'=HYPERLINK("http://evil.example","click"), then "quotes"\nand a new line`,
      approvers: '["bob","carol"]',
      principal_id: "",
      details: JSON.stringify({ head_sha: "h".repeat(40) }),
    });
    expect(exportPreamble("csv") + exportLine(event, "csv")).toBe(csvHeader() + csvRecord(event));
  });
});

describe("JSON Lines", () => {
  it("writes one line per event, every value exactly as it is", () => {
    const event = auditEvent(row(), "https://github.com");
    const line = jsonLine(event);
    expect(line.endsWith("\n") && !line.slice(0, -1).includes("\n")).toBe(true);
    expect(JSON.parse(line)).toEqual(event);
    expect(exportPreamble("jsonl")).toBe("");
  });
});

describe("the audit record", () => {
  it("has every field in export order, the pull request's address beside its number", () => {
    const event = auditEvent(row(), "https://github.example.com/");
    expect(Object.keys(event)).toEqual([...AUDIT_COLUMNS]);
    expect(event.pr_url).toBe("https://github.example.com/acme/access/pull/7");
    expect(auditEvent(row({ pr_number: null }), "https://github.com").pr_url).toBeNull();
  });
});

describe("the canonical text", () => {
  const fields = (first: string | null) => [first, ...CANONICAL_SQL.slice(1).map(() => null)];

  it("prefixes each field with its length in characters (as PostgreSQL counts them) and writes null as a dash", () => {
    expect(canonicalText(fields("🔥é|1:x")).split("|-")[0]).toBe("6:🔥é|1:x");
    expect(canonicalText(fields(null))).toBe(CANONICAL_SQL.map(() => "-").join("|"));
  });

  it("tells apart what plain concatenation would not", () => {
    expect(linkHash(fields("a|b"))).not.toBe(linkHash(["a", "b", ...CANONICAL_SQL.slice(2).map(() => null)]));
    expect(linkHash(fields(""))).not.toBe(linkHash(fields(null)));
  });

  it("refuses a row with another number of fields", () => {
    expect(() => canonicalText(["1"])).toThrow(`a version 1 event has ${CANONICAL_SQL.length} fields, not 1`);
  });
});
