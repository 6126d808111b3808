/**
 * Audit events as lines of an export: JSON Lines (one object per line, lossless) or CSV for a
 * spreadsheet. Pure.
 *
 * CSV follows RFC 4180: a header row; fields separated by commas; a field holding a comma, a double
 * quote, CR or LF is quoted, its quotes doubled; records end with CRLF. Arrays and objects
 * (approvers, request ids, details) are written as JSON text; null is an empty field.
 *
 * Spreadsheet formula injection: Excel, LibreOffice and Google Sheets run a cell that starts with
 * `=`, `+`, `-` or `@` (and, in some, a tab or CR before them) as a formula, and every text field
 * here can hold what a requester wrote (a request's reason, a login, a file path). Such a value is
 * written with a leading `'`, which those programs show as text and do not evaluate (OWASP's
 * advice). This changes the value as read by a CSV parser: JSON Lines keeps every value exactly.
 */
import { AUDIT_COLUMNS, type AuditEvent } from "./audit-event.js";

export const AUDIT_FORMATS = ["jsonl", "csv"] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field: the formula guard, then RFC 4180 quoting of every field. Quoting only fields
 * with a comma was not enough: a spreadsheet whose list separator is `;` (German, French
 * locales) split `x;=cmd|...` into a cell that starts with `=`; a quoted field is one cell
 * whatever the separator.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text =
    typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function csvHeader(): string {
  return `${AUDIT_COLUMNS.join(",")}\r\n`;
}

export function csvRecord(event: AuditEvent): string {
  return `${AUDIT_COLUMNS.map((column) => csvField(event[column])).join(",")}\r\n`;
}

export function jsonLine(event: AuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** What an export starts with: CSV's header row; nothing for JSON Lines. */
export function exportPreamble(format: AuditFormat): string {
  return format === "csv" ? csvHeader() : "";
}

export function exportLine(event: AuditEvent, format: AuditFormat): string {
  return format === "csv" ? csvRecord(event) : jsonLine(event);
}
