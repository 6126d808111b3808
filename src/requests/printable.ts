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
