/**
 * Characters that make a file name or a value read differently from what it is: C0 and C1 controls
 * (a `\n` in a name starts a new line in every message that repeats it), DEL, the Unicode line and
 * paragraph separators (U+2028/U+2029, line breaks to JavaScript and many viewers), bidirectional
 * overrides and isolates (which reorder what is shown: "Trojan Source"), zero-width characters and
 * the byte order mark (invisible, so two different names look the same).
 */
export const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, "gu");

/** The first unprintable character and its position, for messages. */
export function firstUnprintable(text: string): { codePoint: string; index: number } | undefined {
  const match = UNPRINTABLE.exec(text);
  return match ? { codePoint: codePointName(match[0]), index: match.index } : undefined;
}

/** The text with every unprintable character written as \uXXXX, so it reads as what it is. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE_ALL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function codePointName(char: string): string {
  return `U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** At most `max` characters (code points), with "…" where it was cut. */
export function capped(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max).join("")}…`;
}

/**
 * A value someone wrote, as it appears inside jitsudo's own messages: in double quotes, with quotes,
 * backslashes and every unprintable character escaped, and at most `max` characters long. Every
 * message that repeats a submitted value goes through here, so a value can never end the message,
 * start a new line, or run on for pages.
 */
export function quote(value: unknown, max = 80): string {
  // Numbers, booleans and structures read as themselves (JSON, which escapes what it must).
  if (typeof value !== "string") return printable(capped(JSON.stringify(value) ?? String(value), max));
  return printable(JSON.stringify(capped(value, max)));
}
