/**
 * GitHub CODEOWNERS, parsed and matched the way GitHub does it. Pure: no I/O.
 *
 * - The LAST matching line decides. A matching line with no owners un-owns the path.
 * - Patterns are gitignore patterns minus what GitHub refuses: `!` negation, `[ ]` ranges and
 *   `\#`. Such lines are invalid: GitHub skips them and lists them as errors. Other backslash
 *   escapes work (`\ ` for a space, `\[` for a literal bracket), as they do on GitHub.
 * - Case-sensitive. A leading or middle `/` anchors to the repository root; otherwise the pattern
 *   matches at any depth. `*` and `?` never cross `/`; `**` spans directories.
 * - A pattern naming a directory owns everything beneath it (`/docs`, `apps/`), EXCEPT when its
 *   last segment has a wildcard. GitHub documents that `docs/*` owns `docs/getting-started.md`
 *   but not `docs/build-app/troubleshooting.md`, although gitignore would match both. (A report
 *   tested on GitHub says the same of `/foo/b*`.)
 *
 * A skipped line can hand a path to a broader, earlier rule. So callers must fail closed
 * whenever `errors` is not empty.
 */

export type CodeownersOwner =
  | { kind: "user"; login: string }
  | { kind: "team"; org: string; slug: string }
  | { kind: "email"; email: string };

export interface CodeownersRule {
  line: number;
  pattern: string;
  owners: CodeownersOwner[];
}

export interface CodeownersError {
  line: number;
  message: string;
}

export interface Codeowners {
  path: string;
  rules: CodeownersRule[];
  errors: CodeownersError[];
}

/** GitHub's search order: it uses the first of these that exists. */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;
export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

/** "CODEOWNERS files must be under 3 MB in size"; a larger file is not loaded at all. */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

// Logins: letters, digits, hyphens, plus `_` for Enterprise Managed Users (`mona_acme`).
const USER = /^@([A-Za-z0-9][A-Za-z0-9_-]*)$/;
const TEAM = /^@([A-Za-z0-9][A-Za-z0-9_-]*)\/([A-Za-z0-9_][A-Za-z0-9_.-]*)$/;
const EMAIL = /^[^\s@\\]+@[^\s@\\]+\.[^\s@\\]+$/;
const WHITESPACE = new Set([" ", "\t", "\r", "\f", "\v"]);
const IGNORED = "GitHub ignores this line";

/** Rules carry their compiled pattern here, so clones or hand-built rules still work. */
const compiled = new WeakMap<CodeownersRule, RegExp>();

export function parseCodeowners(text: string, path: string = CODEOWNERS_LOCATIONS[0]): Codeowners {
  const result: Codeowners = { path, rules: [], errors: [] };
  // Every UTF-16 unit is at most 3 UTF-8 bytes, so most files need no count.
  const bytes = text.length * 3 < CODEOWNERS_MAX_BYTES ? 0 : utf8Length(text);
  if (bytes >= CODEOWNERS_MAX_BYTES) {
    result.errors.push({
      line: 1,
      message: `${path} is ${bytes} bytes; GitHub only loads a CODEOWNERS file under 3 MB (${CODEOWNERS_MAX_BYTES} bytes), so it ignores every line`,
    });
    return result;
  }

  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, index) => {
    const line = index + 1;
    const tokens = tokenize(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    const [pattern, ...ownerTokens] = tokens;
    if (pattern === undefined) return; // blank line or comment

    const compiledPattern = compilePattern(pattern);
    if (typeof compiledPattern === "string") {
      result.errors.push({ line, message: `"${pattern}" ${compiledPattern}` });
      return;
    }
    const owners: CodeownersOwner[] = [];
    for (const token of ownerTokens) {
      const owner = parseOwner(token);
      if (!owner) {
        result.errors.push({
          line,
          message: `owner "${token}" is not @user, @org/team or an email address; ${IGNORED}`,
        });
        return;
      }
      owners.push(owner);
    }
    const rule: CodeownersRule = { line, pattern, owners };
    compiled.set(rule, compiledPattern);
    result.rules.push(rule);
  });
  return result;
}

/** The rule whose owners apply (last match), or undefined when no line matches. */
export function matchingRule(codeowners: Codeowners, filePath: string): CodeownersRule | undefined {
  const path = filePath.replace(/^\/+/, "");
  const { rules } = codeowners;
  for (let index = rules.length - 1; index >= 0; index--) {
    const rule = rules[index]!;
    if (regexFor(rule).test(path)) return rule;
  }
  return undefined;
}

/** Owners of a path; [] when unowned. */
export function ownersOf(codeowners: Codeowners, filePath: string): CodeownersOwner[] {
  return matchingRule(codeowners, filePath)?.owners ?? [];
}

/** Pick the file GitHub would use from the contents found at each location (first present wins). */
export function selectCodeownersFile(
  found: Partial<Record<CodeownersLocation, string>>,
): { path: CodeownersLocation; text: string } | undefined {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = found[path];
    if (text !== undefined) return { path, text };
  }
  return undefined;
}

export function formatOwner(owner: CodeownersOwner): string {
  switch (owner.kind) {
    case "user":
      return `@${owner.login}`;
    case "team":
      return `@${owner.org}/${owner.slug}`;
    case "email":
      return owner.email;
  }
}

/** `line 4: "!docs/" uses negation …`, for listing errors to people. */
export function formatCodeownersError(error: CodeownersError): string {
  return `line ${error.line}: ${error.message}`;
}

/**
 * The RegExp GitHub's matching amounts to for one pattern (as written, escapes included),
 * matched against repo-relative paths without a leading slash. Throws on an invalid pattern.
 */
export function compileCodeownersPattern(pattern: string): RegExp {
  const result = compilePattern(pattern);
  if (typeof result === "string") throw new Error(`"${pattern}" ${result}`);
  return result;
}

function regexFor(rule: CodeownersRule): RegExp {
  let regex = compiled.get(rule);
  if (!regex) {
    regex = compileCodeownersPattern(rule.pattern);
    compiled.set(rule, regex);
  }
  return regex;
}

/**
 * Splits a line on unescaped whitespace, keeping escapes in the tokens, and drops a comment:
 * everything from a token that starts with `#` (a whole-line or an inline comment).
 */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "\\") {
      current += ch + (line[i + 1] ?? "");
      i++;
    } else if (WHITESPACE.has(ch)) {
      if (current !== "") tokens.push(current);
      current = "";
    } else {
      if (ch === "#" && current === "") break;
      current += ch;
    }
  }
  if (current !== "") tokens.push(current);
  return tokens;
}

type Atom = { kind: "char"; char: string } | { kind: "star" } | { kind: "any" } | { kind: "slash" };
type Segment = Atom[];

/** A RegExp for the pattern, or the reason (a message fragment) it is invalid. */
function compilePattern(pattern: string): RegExp | string {
  if (pattern.startsWith("!")) return `uses negation ("!"), which CODEOWNERS does not support; ${IGNORED}`;

  const atoms: Atom[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return "ends with a lone backslash, which escapes nothing; remove it or escape what follows";
      if (next === "#") return `escapes "#" with a backslash, which CODEOWNERS does not support; ${IGNORED}`;
      if (next === "/") return `escapes "/" ("\\/"), which cannot appear in a file name; write a plain "/"`;
      atoms.push({ kind: "char", char: next });
      i++;
    } else if (ch === "[" || ch === "]") {
      return `uses a character range ("[ ]"), which CODEOWNERS does not support (escape a literal bracket as "\\[" or "\\]"); ${IGNORED}`;
    } else if (ch === "*") {
      const previous = atoms.at(-1);
      const beforePrevious = atoms.at(-2);
      if (previous?.kind === "star" && beforePrevious?.kind === "star") {
        return `has three or more consecutive "*", which is not a valid pattern; ${IGNORED}`;
      }
      atoms.push({ kind: "star" });
    } else if (ch === "?") {
      atoms.push({ kind: "any" });
    } else if (ch === "/") {
      atoms.push({ kind: "slash" });
    } else {
      atoms.push({ kind: "char", char: ch });
    }
  }

  const rooted = atoms[0]?.kind === "slash";
  if (rooted) atoms.shift();
  const directory = atoms.at(-1)?.kind === "slash";
  if (directory) atoms.pop();
  if (atoms.length === 0) return `never matches anything (use "*" for every file); ${IGNORED}`;

  const segments: Segment[] = [[]];
  for (const atom of atoms) {
    if (atom.kind === "slash") segments.push([]);
    else segments.at(-1)!.push(atom);
  }
  if (segments.some((segment) => segment.length === 0)) {
    return `has an empty path segment ("//"), which matches no file; remove the extra "/"`;
  }
  // gitignore: a slash at the start or in the middle anchors; otherwise any depth.
  const anchored = rooted || segments.length > 1;

  // `dir/` is `dir/**`: everything beneath a directory of that name.
  if (directory) segments.push([{ kind: "star" }, { kind: "star" }]);

  // Runs of plain segments between `**`s. An unanchored pattern starts with an implicit `**`.
  const pieces: Array<{ afterGlobstar: boolean; segments: Segment[] }> = [];
  let globstar = !anchored;
  for (const segment of segments) {
    if (isGlobstar(segment)) {
      globstar = true;
    } else if (globstar || pieces.length === 0) {
      pieces.push({ afterGlobstar: globstar, segments: [segment] });
      globstar = false;
    } else {
      pieces.at(-1)!.segments.push(segment);
    }
  }
  const endsWithGlobstar = globstar;

  let source = "^";
  let group = 0;
  pieces.forEach((piece, index) => {
    const body = piece.segments.map(segmentSource).join("/");
    if (index < pieces.length - 1 || endsWithGlobstar) {
      if (!piece.afterGlobstar) {
        source += `${body}/`;
      } else {
        // Taking the EARLIEST place where the piece matches is always correct (a later `**` can
        // take up any slack), so commit to it atomically (a lookahead plus a backreference). That
        // way, paths a PR author picks can't make several `**` backtrack exponentially.
        group++;
        source += `(?=((?:[^/]+/)*?${body}/))\\${group}`;
      }
      return;
    }
    if (piece.afterGlobstar) source += "(?:[^/]+/)*";
    source += body;
    // A literal last segment may name a directory, which owns its contents. A wildcard one
    // matches entries at that level only (GitHub's documented `docs/*` behaviour).
    if (!hasWildcard(piece.segments.at(-1)!)) source += "(?:/.+)?";
  });
  if (endsWithGlobstar) source += ".+";
  return new RegExp(`${source}$`, "u");
}

function isGlobstar(segment: Segment): boolean {
  return segment.length === 2 && segment[0]!.kind === "star" && segment[1]!.kind === "star";
}

function hasWildcard(segment: Segment): boolean {
  return segment.some((atom) => atom.kind === "star" || atom.kind === "any");
}

function segmentSource(segment: Segment): string {
  if (segment.length === 1 && segment[0]!.kind === "star") return "[^/]+";
  let source = "";
  segment.forEach((atom, index) => {
    if (atom.kind === "star") {
      // `a**b` is `a*b` (gitignore); one `[^/]*` per run avoids needless backtracking.
      if (segment[index - 1]?.kind !== "star") source += "[^/]*";
    } else if (atom.kind === "any") {
      source += "[^/]";
    } else if (atom.kind === "char") {
      source += atom.char.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
    }
  });
  return source;
}

function parseOwner(token: string): CodeownersOwner | undefined {
  let match = TEAM.exec(token);
  if (match) return { kind: "team", org: match[1]!, slug: match[2]! };
  match = USER.exec(token);
  if (match) return { kind: "user", login: match[1]! };
  if (EMAIL.test(token)) return { kind: "email", email: token };
  return undefined;
}

/** UTF-8 size without allocating a copy of a possibly huge string. */
function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // surrogate pair
      i++;
    } else bytes += 3;
  }
  return bytes;
}
