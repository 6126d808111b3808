/**
 * An access-request file: where it may live, and how its bytes become a typed request or a list
 * of problems at exact positions. Pure: the caller supplies the bytes.
 */
import { DURATION_FORMS, parseDuration } from "../parsing/duration.js";
import { firstUnprintable, quote } from "../parsing/printable.js";
import type { Problem } from "../parsing/problem.js";
import { compileSchema, loadAndValidate, type SchemaMessages } from "../parsing/schemas.js";
import type { PathSegment, YamlSource } from "../parsing/yaml-source.js";

export interface AccessRequest {
  account: string;
  permission_set: string;
  duration: string;
  reason: string;
  ticket?: string;
  starts_at?: string;
  principal?: string;
  /** Emergency access without code-owner approval, where the rule allows it (see policy.ts). */
  break_glass?: boolean;
}

export interface ParsedRequest {
  file: string;
  request: AccessRequest;
  durationMs: number;
  /** Absent: the access starts when the merge is processed. */
  startsAt?: Date;
  source: YamlSource;
}

export type ParseResult = { ok: true; parsed: ParsedRequest } | { ok: false; problems: Problem[] };

export const REQUESTS_DIR = "access-requests/";
/**
 * Request files are a handful of lines (a reason is at most 1,000 characters); anything near this
 * is not a request. Kept small so that parsing a hostile file costs milliseconds, not seconds.
 */
export const REQUEST_FILE_MAX_BYTES = 8 * 1024;

/**
 * At most this many request files are judged in one pull request: a bound on the work one push can
 * cause. A pull request with more is refused with one message (split it).
 */
export const MAX_REQUEST_FILES_PER_PULL_REQUEST = 50;

export function tooManyRequestFiles(count: number): string | undefined {
  if (count <= MAX_REQUEST_FILES_PER_PULL_REQUEST) return undefined;
  return `this pull request adds or changes ${count} request files; jitsudo judges at most ${MAX_REQUEST_FILES_PER_PULL_REQUEST} in one pull request, so split it into smaller ones`;
}

/** Whether a repository path is an access-request file (any depth under access-requests/). */
export function isRequestFilePath(path: string): boolean {
  return path.startsWith(REQUESTS_DIR) && /\.ya?ml$/.test(path) && !path.split("/").some((part) => part === "..");
}

/** What the gateway may hand back instead of a request file's bytes. */
export type UnreadableRequest =
  | { kind: "too-large"; size: number }
  | { kind: "missing" }
  | { kind: "not-a-file"; entry: "directory" | "submodule" | "symlink" | "other" };

/** The problem of a request file that could not be read as a plain file; `missing` says where it was looked for. */
export function unreadableRequest(path: string, content: UnreadableRequest, missing: string): Problem {
  const message =
    content.kind === "too-large"
      ? `file is ${content.size} bytes, over the limit of ${REQUEST_FILE_MAX_BYTES} bytes; keep only the request in it`
      : content.kind === "not-a-file"
        ? `is not a regular file (${content.entry === "other" ? "not a plain file" : `a ${content.entry}`}); a request must be a plain YAML file`
        : missing;
  return { file: path, line: 1, column: 1, severity: "error", message };
}

/**
 * Why a request file's name cannot be a request, or undefined. A name holding a line break or
 * another invisible or reordering character reads differently in every message, comment and
 * CODEOWNERS match that repeats it, so such a file is refused rather than judged.
 */
export function requestPathProblem(path: string): string | undefined {
  const found = firstUnprintable(path);
  if (!found) return undefined;
  return `the file name holds ${found.codePoint} (a control, line-break, invisible or text-direction character) at position ${found.index + 1}; rename the file using letters, digits, "-", "_" and "."`;
}

const validateSchema = compileSchema("access-request.schema.json");

// These are identifiers or prose: `account: 012345678901` must stay 12 digits, `ticket: 4711` text.
const TEXT_FIELDS = new Set(["account", "permission_set", "duration", "reason", "ticket", "starts_at", "principal"]);
const keepsWrittenText = (path: readonly PathSegment[]) => path.length === 1 && TEXT_FIELDS.has(String(path[0]));

export const REQUEST_MESSAGES: SchemaMessages = {
  required: {
    account: 'account: "<12-digit account id or account name>"',
    permission_set: "permission_set: <permission set name, e.g. ReadOnlyAccess>",
    duration: `duration: <how long, e.g. 2h; forms: ${DURATION_FORMS}>`,
    reason: "reason: <why you need this access>",
  },
  values: {
    account: (value) =>
      /^\d+$/.test(String(value))
        ? `account ${quote(value)} has ${String(value).length} digits; an account id has exactly 12 (quote it to keep leading zeros)`
        : `account ${quote(value)} is neither a 12-digit account id nor an account name (1-50 printable characters)`,
    permission_set: (value) =>
      `permission_set ${quote(value)} is neither a permission set name (1-32 of letters, digits and +=,.@_-) nor a permission set ARN`,
    duration: (value) => {
      const parsed = parseDuration(String(value));
      return parsed.ok ? `duration ${quote(value)} is not valid` : `duration ${parsed.message}`;
    },
    reason: (value) =>
      String(value).length > 1000
        ? "reason is longer than 1000 characters; link to a ticket instead"
        : "reason is too short; write at least 10 characters saying why you need this access",
    ticket: (value) => `ticket ${quote(value)} is not a ticket reference; use letters, digits and ._#/:- (at most 64), e.g. INC-4711`,
    starts_at: (value) => `starts_at ${quote(value)} is not a valid date and time with a time zone; write it like 2026-11-26T09:00:00Z`,
    principal: (value) => `principal ${quote(value)} is not an Identity Center user name (1-128 characters, no spaces)`,
  },
};

export function parseRequestFile(file: string, bytes: Uint8Array): ParseResult {
  const loaded = loadAndValidate(file, bytes, {
    maxBytes: REQUEST_FILE_MAX_BYTES,
    emptyMessage: "file is empty; a request needs account, permission_set, duration and reason",
    keepsWrittenText,
    validate: validateSchema,
    messages: REQUEST_MESSAGES,
  });
  if (!loaded.ok) return loaded;
  const { source } = loaded;
  const request = source.value as AccessRequest;
  const problems: Problem[] = [];
  const at = (key: keyof AccessRequest, message: string) => problems.push({ file, ...source.spanOf([key]), severity: "error", message });

  // The schema checks the shape of a duration; only arithmetic can tell zero or overflow.
  const duration = parseDuration(request.duration);
  if (!duration.ok) at("duration", `duration ${duration.message}`);

  let startsAt: Date | undefined;
  if (request.starts_at !== undefined) {
    startsAt = new Date(request.starts_at);
    if (Number.isNaN(startsAt.getTime())) at("starts_at", `starts_at ${quote(request.starts_at)} is not a real date`);
  }
  if (problems.length > 0 || !duration.ok) return { ok: false, problems };
  return { ok: true, parsed: { file, request, durationMs: duration.ms, ...(startsAt ? { startsAt } : {}), source } };
}
