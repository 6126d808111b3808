/**
 * The bot's words are the bot's: every value that came from a request file, a config, a file name
 * or a person reaches a comment or a check run through one of these. Markdown and HTML both render
 * on GitHub, so a value could otherwise break out of its sentence (a newline, a fence), add HTML
 * (`<img>`), mention people (`@org/everyone`), link (`https://…`, `#123`), render an emoji
 * shortcode or an entity (`:white_check_mark:`, `&#x3C;`), or go on for pages.
 */
import { capped, printable } from "../parsing/printable.js";

/** Longest text shown from one value in a comment or check run. */
const MAX_TEXT = 1_000;
const MAX_CODE = 200;

/**
 * Inline code that survives any content: control characters written out, capped, and fenced by a
 * longer run of backticks than any inside (a code span shows its content literally: no HTML,
 * mentions, links or emoji).
 */
export function code(value: string, max = MAX_CODE): string {
  const flat = capped(printable(value), max).replaceAll("|", "\\|");
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/**
 * Plain text inside a table cell or list item: one line, capped, every Markdown character that
 * could start markup backslash-escaped (`:` too, which ends emoji shortcodes and `https://`
 * autolinks; `&`, which starts entities; `$`, which starts math), `www.` broken so it cannot autolink, and a zero-width
 * space after `@` so no mention notifies anyone.
 */
export function text(value: string, max = MAX_TEXT): string {
  return capped(printable(value), max)
    .replace(/[\\`*_{}[\]()#+!|<>~:&$]/g, (char) => `\\${char}`)
    .replace(/www\./gi, (match) => `${match.slice(0, 3)}\\.`)
    .replace(/@/g, "@\u200b");
}

/** GitHub refuses a comment body over 65,536 characters (422), and a check run summary or text over 65,535. */
export const COMMENT_LIMIT = 65_536;
export const CHECK_OUTPUT_LIMIT = 65_535;

/**
 * Markdown cut to GitHub's limit at a line break (so no code span or table row is cut in half),
 * with `note` saying so. Lengths in UTF-16 units, never fewer than GitHub's characters.
 */
export function fitted(markdown: string, limit: number, note: string): string {
  if (markdown.length <= limit) return markdown;
  const room = limit - note.length - 2;
  const cut = markdown.lastIndexOf("\n", room);
  return `${markdown.slice(0, cut > 0 ? cut : room)}\n\n${note}`;
}

export function table(rows: readonly (readonly [string, string])[]): string {
  return ["| | |", "|---|---|", ...rows.map(([key, value]) => `| ${key} | ${value} |`)].join("\n");
}

/** 2026-11-26 09:00 UTC: one unambiguous form for every time jitsudo shows. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
