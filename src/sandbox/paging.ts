/**
 * Paging as AWS does it, including the part clients get wrong: a page may hold fewer items than
 * MaxResults while a NextToken says more remain. With `shortPages`, every second page of a listing
 * is cut to half, so a client that stops at the first short page misses items here as it would
 * against AWS.
 *
 * A token is a cursor (the sort key of the last item returned), not an offset, so items deleted
 * between two pages do not shift the rest out of view. Tokens are bound to the query they came
 * from: reusing one with other filters is a validation error, as it is in AWS.
 */
import { AwsError, type ValidationCode } from "./errors.js";
import { PATTERNS } from "./input.js";

export interface PagingRules {
  /** Most items one page may hold, whatever MaxResults asks for. */
  pageSize: number;
  shortPages: boolean;
}

export interface PageRequest {
  maxResults: number | undefined;
  nextToken: string | undefined;
  /** Everything that selects the items (operation and filters), so a token cannot cross queries. */
  query: string;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

interface Cursor {
  /** The query the token belongs to. */
  q: string;
  /** Sort key of the last item already returned. */
  k: string;
  /** Index of the page the token leads to, which decides whether it is a short one. */
  n: number;
}

/** `items` must be sorted by `keyOf`, ascending and without duplicate keys. */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  request: PageRequest,
  rules: PagingRules,
  invalid: ValidationCode,
): Page<T> {
  const cursor = request.nextToken === undefined ? undefined : decodeCursor(request.nextToken, request.query, invalid);
  const pageIndex = cursor?.n ?? 0;
  let limit = Math.min(request.maxResults ?? rules.pageSize, rules.pageSize);
  if (rules.shortPages && pageIndex % 2 === 1) limit = Math.ceil(limit / 2);

  const start = cursor === undefined ? 0 : firstAfter(items, keyOf, cursor.k);
  const pageItems = items.slice(start, start + limit);
  const last = pageItems.at(-1);
  if (start + limit >= items.length || last === undefined) return { items: pageItems };
  return { items: pageItems, nextToken: encodeCursor({ q: request.query, k: keyOf(last), n: pageIndex + 1 }) };
}

/** Sorts by the key `paginate` resumes from (code-unit order, the same order as `>` on strings). */
export function sortByKey<T>(items: Iterable<T>, keyOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

function firstAfter<T>(items: readonly T[], keyOf: (item: T) => string, key: string): number {
  const index = items.findIndex((item) => keyOf(item) > key);
  return index === -1 ? items.length : index;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(token: string, query: string, invalid: ValidationCode): Cursor {
  const rejected = new AwsError(invalid, "Invalid NextToken: it was not issued for this request");
  if (!PATTERNS.nextToken.test(token)) throw rejected;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw rejected;
  }
  if (!isCursor(parsed) || parsed.q !== query) throw rejected;
  return parsed;
}

function isCursor(value: unknown): value is Cursor {
  if (typeof value !== "object" || value === null) return false;
  const { q, k, n } = value as Record<string, unknown>;
  return typeof q === "string" && typeof k === "string" && typeof n === "number" && Number.isSafeInteger(n) && n > 0;
}
