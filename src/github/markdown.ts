/**
 * Safe Markdown for text that came from a request file or a user: rendered inline as code so it
 * cannot mention people (@org/everyone), inject HTML or a fake jitsudo marker, or break a table.
 */

/** Inline code that survives any content: a fence longer than the longest backtick run inside. */
export function code(text: string): string {
  const flat = text.replace(/[\r\n]+/g, " ").replaceAll("|", "\\|");
  const longestRun = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longestRun + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** Plain text inside a Markdown table cell or list item: no HTML, no mentions, no pipes. */
export function text(value: string): string {
  return value
    .replace(/[\r\n]+/g, " ")
    .replace(/[\\`*_{}[\]()#+!|<>~]/g, (char) => `\\${char}`)
    .replace(/@/g, "@\u200b");
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
