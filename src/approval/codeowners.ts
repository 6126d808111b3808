/**
 * GitHub CODEOWNERS, parsed and matched the way GitHub does it. Pure: no I/O.
 *
 * The contract, from the approval rulebook (`github-approval.md`, "CODEOWNERS matching, as GitHub
 * does it") and GitHub's "About code owners" page, whose example file the tests replay:
 *
 * - The LAST matching line decides. A matching line with no owners un-owns the path.
 * - Patterns are gitignore patterns minus what GitHub refuses: `!` negation, `[ ]` ranges and
 *   `\#`. Such lines are invalid: GitHub skips them and lists them as errors. Other backslash
 *   escapes work (`\ ` for a space, `\[` for a literal bracket), as they do on GitHub.
 * - Case-sensitive. A leading or middle `/` anchors to the repository root; otherwise the pattern
 *   matches at any depth. `*` and `?` never cross `/` but match every other character, line
 *   terminators and control characters included (request file names may hold them). `**` as a
 *   whole segment spans zero or more directories; `a/**` is everything inside `a`; `a**b` is `a*b`.
 * - A trailing `/` means "a directory of this name": it owns everything beneath one.
 * - A pattern that matches a directory on the path owns the path ("if a directory is matched it
 *   applies to its full contents", a GitHub engineer when the feature shipped). Unambiguous for a
 *   literal last segment: GitHub documents `/docs`, `apps/`, `/apps/github` owning their contents.
 * - Exception, documented by GitHub: a lone `*` last segment without a trailing slash stays at
 *   its level. `docs/*` owns `docs/getting-started.md`, not `docs/build-app/troubleshooting.md`.
 * - Any other wildcard last segment that matches a directory (`access-req*`, `/foo/b*`, `dir?`,
 *   with or without a trailing slash) owns the directory's contents under the primary reading:
 *   the engineer's statement, a test on GitHub showing `dir*` owning `dir1/john/script.js`, and
 *   gitignore agree. But one report says GitHub did not apply `/foo/b*` to `foo/bar/baz.txt`, so
 *   such a match is a "wildcard-directory" match: `ownership` reports the file as ambiguous when
 *   the two readings give different owners, and callers grant nothing for it.
 *
 * Patterns and paths are both written by people who may be attackers, so nothing here builds a
 * RegExp from them, and nothing backtracks. Within a segment, `*` is resolved as the two-pointer
 * algorithm does (each block between two stars at its leftmost place, the last block at the end);
 * across segments, `**` the same way with runs of segments. A leftmost place is found naively for
 * short blocks and runs, and with a bit-parallel Shift-And search for long ones, so that near-misses
 * everywhere (`*aaaa…ab` against `aaaa…a`) cost no more than a miss. One match costs at most
 * O(pattern segments × path segments × segment cost): polynomial, never exponential; the hostile
 * benchmark (`npm run bench codeowners-hostile`) keeps it well under a millisecond at 4,096 chars.
 *
 * A skipped line can hand a path to a broader, earlier rule. So callers must fail closed
 * whenever `errors` is not empty.
 */

export type CodeownersOwner =
  { kind: "user"; login: string } | { kind: "team"; org: string; slug: string } | { kind: "email"; email: string };

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
  /** Reading stopped at a cap (rules or errors): later lines, which GitHub reads, were not. */
  truncated?: boolean;
}

/**
 * How a pattern matches a path: "direct" (the file itself, a literal directory on its path, or
 * inside a trailing `**`), "wildcard-directory" (only through a wildcard last segment matching a
 * directory on the path, which GitHub's evidence disagrees on), or "none".
 */
export type CodeownersMatch = "none" | "direct" | "wildcard-directory";

/** A compiled pattern. Matches repository-relative paths; leading slashes are ignored. */
export interface CodeownersPattern {
  readonly pattern: string;
  match(path: string): CodeownersMatch;
}

export interface CodeownersAmbiguity {
  /** The lines that match only through a wildcard last segment matching a directory. */
  lines: { line: number; pattern: string }[];
  /** Each distinct owner list the file could have, the primary reading first ([] = unowned). */
  readings: CodeownersOwner[][];
  /** One plain-text sentence for a PR comment, naming the lines to rewrite. */
  message: string;
}

export interface Ownership {
  /** The deciding line under the primary reading; absent when no line matches. */
  rule?: CodeownersRule;
  /** Its owners; [] when unowned. */
  owners: CodeownersOwner[];
  /** Set when the readings disagree on the owners: grant nothing for this file. */
  ambiguity?: CodeownersAmbiguity;
}

/** GitHub's search order: it uses the first of these that exists. */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;
export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

/** "CODEOWNERS files must be under 3 MB in size"; a larger file is not loaded at all. */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;
/**
 * jitsudo's own bounds, far below what GitHub accepts: reading and matching a file of tens of
 * thousands of rules costs the event loop hundreds of milliseconds per pull request. A file past
 * a bound is an error (so nothing is approved), and reading stops there.
 */
export const MAX_CODEOWNERS_RULES = 1000;
export const MAX_CODEOWNERS_ERRORS = 20;

// Logins: letters, digits, hyphens, plus `_` for Enterprise Managed Users (`mona_acme`).
const USER = /^@([A-Za-z0-9][A-Za-z0-9_-]*)$/;
const TEAM = /^@([A-Za-z0-9][A-Za-z0-9_-]*)\/([A-Za-z0-9_][A-Za-z0-9_.-]*)$/;
const EMAIL = /^[^\s@\\]+@[^\s@\\]+\.[^\s@\\]+$/;
const WHITESPACE = new Set([" ", "\t", "\r", "\f", "\v"]);
const IGNORED = "GitHub ignores this line";

/** Rules carry their compiled pattern here, so clones or hand-built rules still work. */
const compiled = new WeakMap<CodeownersRule, CompiledPattern>();

/**
 * `maxRules`: where reading stops (an error, and `truncated`). Revoking reads past it: ending
 * access must follow GitHub's whole reading, since GitHub applies the last matching line.
 */
export function parseCodeowners(
  text: string,
  path: string = CODEOWNERS_LOCATIONS[0],
  { maxRules = MAX_CODEOWNERS_RULES }: { maxRules?: number } = {},
): Codeowners {
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

  const body = text.replace(/^\uFEFF/, "");
  // Line by line without splitting the whole file: reading stops as soon as a cap is reached.
  for (let start = 0, line = 1; start <= body.length; line += 1) {
    const end = body.indexOf("\n", start);
    const raw = body.slice(start, end === -1 ? body.length : end);
    start = end === -1 ? body.length + 1 : end + 1;
    if (result.errors.length >= MAX_CODEOWNERS_ERRORS) {
      result.errors.push({ line, message: `more than ${MAX_CODEOWNERS_ERRORS} invalid lines; jitsudo stops reading here` });
      result.truncated = true;
      break;
    }
    const tokens = tokenize(raw.endsWith("\r") ? raw.slice(0, -1) : raw);
    const [pattern, ...ownerTokens] = tokens;
    if (pattern === undefined) continue; // blank line or comment
    if (result.rules.length >= maxRules) {
      result.errors.push({
        line,
        message: `${path} has more than ${maxRules} rules; jitsudo reads at most ${maxRules} (an access repository needs a handful), so it cannot tell who owns what: keep other code's ownership in its own repository`,
      });
      result.truncated = true;
      break;
    }

    const compiledPattern = compilePattern(pattern);
    if (typeof compiledPattern === "string") {
      result.errors.push({ line, message: `"${pattern}" ${compiledPattern}` });
      continue;
    }
    const owners: CodeownersOwner[] = [];
    const invalid = ownerTokens.find((token) => {
      const owner = parseOwner(token);
      if (owner) owners.push(owner);
      return !owner;
    });
    if (invalid !== undefined) {
      result.errors.push({ line, message: `owner "${invalid}" is not @user, @org/team or an email address; ${IGNORED}` });
      continue;
    }
    const rule: CodeownersRule = { line, pattern, owners };
    compiled.set(rule, compiledPattern);
    result.rules.push(rule);
  }
  return result;
}

/**
 * The rule whose owners apply under the primary reading (the last matching line, a
 * wildcard-directory match included), or undefined when no line matches.
 */
export function matchingRule(codeowners: Codeowners, filePath: string): CodeownersRule | undefined {
  return decidingLines(codeowners.rules, new PathView(filePath), true)[0]?.rule;
}

/** Owners of a path under the primary reading; [] when unowned. See `ownership` for ambiguity. */
export function ownersOf(codeowners: Codeowners, filePath: string): CodeownersOwner[] {
  return matchingRule(codeowners, filePath)?.owners ?? [];
}

/**
 * The owners of a path and whether GitHub's evidence leaves them in doubt. Walking from the last
 * line up: a direct match decides; a wildcard-directory match decides under the primary reading,
 * but under the other reading the lines above it decide (recursively; none = unowned). The file is
 * ambiguous when those readings give more than one distinct set of owners.
 */
export function ownership(codeowners: Codeowners, filePath: string): Ownership {
  const view = new PathView(filePath);
  const chain = decidingLines(codeowners.rules, view, false);
  const primary = chain[0];
  if (!primary) return { owners: [] };

  const readings = chain.map((link) => link.rule.owners);
  if (chain.at(-1)!.match.kind === "wildcard-directory") readings.push([]); // nothing above decides
  const distinct = distinctOwnerLists(readings);
  if (distinct.length <= 1) return { rule: primary.rule, owners: primary.rule.owners };

  const ambiguous = wildcardDirectoryLines(chain, view);
  return {
    rule: primary.rule,
    owners: primary.rule.owners,
    ambiguity: {
      lines: ambiguous.map(({ rule }) => ({ line: rule.line, pattern: rule.pattern })),
      readings: distinct,
      message: ambiguityMessage(codeowners.path, ambiguous, view.path),
    },
  };
}

/**
 * Every owner some reading of CODEOWNERS gives the path: the primary reading and each ambiguous one.
 * For the safe direction (ending access early), where any owner GitHub might apply may act.
 */
export function ownersUnderAnyReading(codeowners: Codeowners, path: string): CodeownersOwner[] {
  const owned = ownership(codeowners, path);
  const all = [owned.owners, ...(owned.ambiguity?.readings ?? [])].flat();
  return [...new Map(all.map((owner) => [formatOwner(owner).toLowerCase(), owner])).values()];
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
 * One pattern (as written, escapes included), compiled to a matcher for repo-relative paths.
 * Throws on an invalid pattern, with the message `parseCodeowners` would report.
 */
export function compileCodeownersPattern(pattern: string): CodeownersPattern {
  const result = compilePattern(pattern);
  if (typeof result === "string") throw new Error(`"${pattern}" ${result}`);
  return { pattern, match: (path) => evaluate(result, new PathView(path)).kind };
}

function compiledFor(rule: CodeownersRule): CompiledPattern {
  let pattern = compiled.get(rule);
  if (!pattern) {
    const result = compilePattern(rule.pattern);
    if (typeof result === "string") throw new Error(`"${rule.pattern}" ${result}`);
    pattern = result;
    compiled.set(rule, pattern);
  }
  return pattern;
}

// ---------------------------------------------------------------------------------------------
// Which lines decide, and the ambiguity message.

interface DecidingLine {
  rule: CodeownersRule;
  match: MatchDetail;
}

/**
 * Matching lines from the last one up, stopping at the first direct match (or at the first match
 * of any kind when `firstOnly`): the primary reading's line, then the lines that decide under the
 * other reading of each wildcard-directory match.
 */
function decidingLines(rules: readonly CodeownersRule[], view: PathView, firstOnly: boolean): DecidingLine[] {
  const chain: DecidingLine[] = [];
  for (let index = rules.length - 1; index >= 0; index--) {
    const rule = rules[index]!;
    const match = evaluate(compiledFor(rule), view);
    if (match.kind === "none") continue;
    chain.push({ rule, match });
    if (firstOnly || match.kind === "direct") break;
  }
  return chain;
}

/** The chain's wildcard-directory lines, by line number, with the directory each one matched. */
function wildcardDirectoryLines(chain: readonly DecidingLine[], view: PathView): { rule: CodeownersRule; directory: string }[] {
  const lines: { rule: CodeownersRule; directory: string }[] = [];
  for (const { rule, match } of chain) {
    if (match.kind === "wildcard-directory") lines.push({ rule, directory: view.prefix(match.directory) });
  }
  return lines.sort((a, b) => a.rule.line - b.rule.line);
}

/** Owner lists compared as sets of formatted owners; the first list of each set is kept. */
function distinctOwnerLists(readings: readonly CodeownersOwner[][]): CodeownersOwner[][] {
  const seen = new Map<string, CodeownersOwner[]>();
  for (const owners of readings) {
    const key = [...new Set(owners.map(formatOwner))].sort().join("\n");
    if (!seen.has(key)) seen.set(key, owners);
  }
  return [...seen.values()];
}

function ambiguityMessage(
  codeownersPath: string,
  ambiguous: readonly { rule: CodeownersRule; directory: string }[],
  filePath: string,
): string {
  // Sorted by line, so the last entry is the primary reading's line: suggest its directory.
  const example = `for example ${displayText(suggestedPattern(ambiguous.at(-1)!.directory))}`;
  const certain = `so the owners of ${displayText(filePath)} are certain`;
  const disagree = "GitHub's documentation and reports disagree on whether that owns the files inside";
  const where = displayText(codeownersPath);
  if (ambiguous.length === 1) {
    const { rule, directory } = ambiguous[0]!;
    return (
      `${where} line ${rule.line} ("${displayText(rule.pattern)}") matches the directory ${displayText(directory)} ` +
      `through a wildcard, and ${disagree} it; rewrite it without a wildcard in its last segment (${example}), ${certain}`
    );
  }
  // A hostile file could stack thousands of such lines: name a few, count the rest.
  const listed = ambiguous
    .slice(0, MAX_LISTED_LINES)
    .map(({ rule, directory }) => `${rule.line} ("${displayText(rule.pattern)}", matching the directory ${displayText(directory)})`);
  const unlisted = ambiguous.length - listed.length;
  const last = unlisted > 0 ? `${unlisted} more` : listed.pop()!;
  return (
    `${where} lines ${listed.join(", ")} and ${last} match directories through a wildcard, ` +
    `and ${disagree} them; rewrite them without a wildcard in their last segment (${example}), ${certain}`
  );
}

const MAX_LISTED_LINES = 5;

/** `/access-requests/`: the directory, rooted and escaped so that the pattern names only it. */
function suggestedPattern(directory: string): string {
  let escaped = "";
  for (const char of directory) escaped += PATTERN_SPECIAL.has(char) || WHITESPACE.has(char) ? `\\${char}` : char;
  return `/${escaped}/`;
}

const PATTERN_SPECIAL = new Set(["\\", "*", "?", "[", "]"]);
const MAX_ECHO = 200;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

/**
 * Path or pattern text for a message: at most 200 characters, with control characters, line and
 * paragraph separators, invisible formatting and bidi controls (which could disguise a path in a
 * comment) and lone surrogates escaped JSON-style.
 */
function displayText(text: string): string {
  let shown = "";
  let count = 0;
  for (const char of text) {
    if (count++ === MAX_ECHO) return `${shown}…`;
    shown += escapeForMessage(char);
  }
  return shown;
}

function escapeForMessage(char: string): string {
  const named = NAMED_ESCAPES[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0)!;
  return mustEscape(code) ? `\\u${code.toString(16).padStart(4, "0")}` : char;
}

function mustEscape(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2069) ||
    code === 0xfeff ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

// ---------------------------------------------------------------------------------------------
// Parsing a pattern.

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

// A pattern atom is a literal code point (>= 0) or one of these.
const STAR = -1;
const ANY = -2;
const SLASH = -3;

/** The pattern's atoms, or the reason (a message fragment) it is invalid. */
function patternAtoms(pattern: string): number[] | string {
  if (pattern.startsWith("!")) return `uses negation ("!"), which CODEOWNERS does not support; ${IGNORED}`;
  const atoms: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern.codePointAt(i + 1);
      if (next === undefined) return "ends with a lone backslash, which escapes nothing; remove it or escape what follows";
      if (next === 0x23) return `escapes "#" with a backslash, which CODEOWNERS does not support; ${IGNORED}`;
      if (next === 0x2f) return `escapes "/" ("\\/"), which cannot appear in a file name; write a plain "/"`;
      atoms.push(next);
      i += next > 0xffff ? 2 : 1;
    } else if (ch === "[" || ch === "]") {
      return `uses a character range ("[ ]"), which CODEOWNERS does not support (escape a literal bracket as "\\[" or "\\]"); ${IGNORED}`;
    } else if (ch === "*") {
      if (atoms.at(-1) === STAR && atoms.at(-2) === STAR) {
        return `has three or more consecutive "*", which is not a valid pattern; ${IGNORED}`;
      }
      atoms.push(STAR);
    } else if (ch === "?" || ch === "/") {
      atoms.push(ch === "?" ? ANY : SLASH);
    } else {
      const code = pattern.codePointAt(i)!;
      atoms.push(code);
      if (code > 0xffff) i++;
    }
  }
  return atoms;
}

/**
 * One pattern segment. A glob is cut at its stars into blocks that each match consecutive code
 * points: `prefix` at the start of the name, `suffix` (absent when there is no star) at its end,
 * and each of `middles` at its leftmost place in between.
 */
type SegmentMatcher =
  | { readonly kind: "globstar" } // `**`: zero or more whole segments
  | { readonly kind: "literal"; readonly key: string; readonly text: string }
  | { readonly kind: "any-name"; readonly key: string } // a lone `*`: any one non-empty segment
  | {
      readonly kind: "glob";
      readonly key: string;
      readonly prefix: Int32Array;
      readonly middles: readonly AtomBlock[];
      readonly suffix: Int32Array | undefined;
      readonly minLength: number;
    };

/** Code points (or ANY) in a row; a long block also carries what its bit-parallel search needs. */
interface AtomBlock {
  readonly atoms: Int32Array;
  /** Index of the block's last literal code point, or -1 when it is all `?`. */
  readonly anchor: number;
  readonly search?: { readonly anyMask: Uint32Array; readonly positionsOf: ReadonlyMap<number, readonly number[]> };
}

/** Segment matchers in a row; a long run also lists its distinct matchers and their positions. */
interface SegmentRun {
  readonly matchers: readonly SegmentMatcher[];
  readonly search?: readonly { readonly matcher: SegmentMatcher; readonly positions: readonly number[] }[];
}

/**
 * Blocks and runs shorter than this are searched naively (at most this many comparisons per
 * position); longer ones bit-parallel (Shift-And), whose cost does not grow with near-misses.
 */
const BIT_PARALLEL_FROM = 8;

/**
 * What the pattern's last segment (and a trailing slash) lets it own, once the segments before
 * it have matched a prefix of the path:
 * - "inside": trailing `**`: anything strictly beneath the prefix (direct);
 * - "self-or-directory": literal last segment: the file itself or a directory on its path (direct);
 * - "self": lone `*` last segment: the file itself only (GitHub's `docs/*`);
 * - "self-or-wildcard-directory": other wildcard last segment: the file (direct) or, ambiguously,
 *   a directory on its path;
 * - "directory" / "wildcard-directory": trailing slash: a directory on the path, named by a
 *   literal (direct) or a wildcard (ambiguous) last segment.
 */
type Ending = "inside" | "self-or-directory" | "self" | "self-or-wildcard-directory" | "directory" | "wildcard-directory";

/**
 * A pattern as runs of segment matchers between `**`s: `head` must match at the root, each of
 * `middles` somewhere after it, and `tail` (absent when there is no `**`) after that.
 */
interface CompiledPattern {
  readonly head: SegmentRun;
  readonly middles: readonly SegmentRun[];
  readonly tail: SegmentRun | undefined;
  readonly ending: Ending;
  /** Segments other than `**`, each of which takes one path segment. */
  readonly minSegments: number;
}

/** The compiled pattern, or the reason (a message fragment) it is invalid. */
function compilePattern(pattern: string): CompiledPattern | string {
  const atoms = patternAtoms(pattern);
  if (typeof atoms === "string") return atoms;

  const rooted = atoms[0] === SLASH;
  if (rooted) atoms.shift();
  const directory = atoms.at(-1) === SLASH;
  if (directory) atoms.pop();
  if (atoms.length === 0) return `never matches anything (use "*" for every file); ${IGNORED}`;

  const segments: number[][] = [[]];
  for (const atom of atoms) {
    if (atom === SLASH) segments.push([]);
    else segments.at(-1)!.push(atom);
  }
  if (segments.some((segment) => segment.length === 0)) {
    return `has an empty path segment ("//"), which matches no file; remove the extra "/"`;
  }
  const matchers = segments.map(segmentMatcher);
  const ending = endingFor(matchers.at(-1)!, directory);
  // gitignore: a slash at the start or in the middle anchors; otherwise any depth, as if `**/`.
  const anchored = rooted || segments.length > 1;
  if (!anchored) matchers.unshift(GLOBSTAR);
  const collapsed = matchers.filter((matcher, index) => matcher.kind !== "globstar" || matchers[index - 1]?.kind !== "globstar");
  if (ending === "inside") collapsed.pop(); // the trailing `**` is the ending itself
  return splitAtGlobstars(collapsed, ending);
}

const GLOBSTAR: SegmentMatcher = { kind: "globstar" };

function endingFor(last: SegmentMatcher, directory: boolean): Ending {
  if (last.kind === "globstar") return "inside"; // `a/**` and `a/**/` alike: everything inside a
  const wildcard = last.kind !== "literal";
  if (directory) return wildcard ? "wildcard-directory" : "directory";
  if (last.kind === "any-name") return "self";
  return wildcard ? "self-or-wildcard-directory" : "self-or-directory";
}

function splitAtGlobstars(matchers: readonly SegmentMatcher[], ending: Ending): CompiledPattern {
  const runs: SegmentMatcher[][] = [[]];
  for (const matcher of matchers) {
    if (matcher.kind === "globstar") runs.push([]);
    else runs.at(-1)!.push(matcher);
  }
  const minSegments = runs.reduce((total, run) => total + run.length, 0);
  const [head, ...rest] = runs.map(segmentRun) as [SegmentRun, ...SegmentRun[]];
  if (rest.length === 0) return { head, middles: [], tail: undefined, ending, minSegments };
  return { head, middles: rest.slice(0, -1), tail: rest.at(-1)!, ending, minSegments };
}

function segmentRun(matchers: SegmentMatcher[]): SegmentRun {
  if (matchers.length < BIT_PARALLEL_FROM) return { matchers };
  const byKey = new Map<string, { matcher: SegmentMatcher; positions: number[] }>();
  matchers.forEach((matcher, position) => {
    const key = "key" in matcher ? matcher.key : "**";
    const entry = byKey.get(key);
    if (entry) entry.positions.push(position);
    else byKey.set(key, { matcher, positions: [position] });
  });
  return { matchers, search: [...byKey.values()] };
}

function segmentMatcher(atoms: readonly number[]): SegmentMatcher {
  if (atoms.length === 2 && atoms[0] === STAR && atoms[1] === STAR) return GLOBSTAR;
  // `a**b` is `a*b` (gitignore): a run of stars is one star.
  const collapsed = atoms.filter((atom, index) => !(atom === STAR && atoms[index - 1] === STAR));
  const key = collapsed.join(",");
  if (collapsed.length === 1 && collapsed[0] === STAR) return { kind: "any-name", key };
  if (!collapsed.some((atom) => atom === STAR || atom === ANY)) {
    return { kind: "literal", key, text: collapsed.map((code) => String.fromCodePoint(code)).join("") };
  }
  const blocks: number[][] = [[]];
  for (const atom of collapsed) {
    if (atom === STAR) blocks.push([]);
    else blocks.at(-1)!.push(atom);
  }
  const minLength = collapsed.length - (blocks.length - 1);
  const prefix = Int32Array.from(blocks[0]!);
  if (blocks.length === 1) return { kind: "glob", key, prefix, middles: [], suffix: undefined, minLength };
  const middles = blocks.slice(1, -1).map(atomBlock);
  return { kind: "glob", key, prefix, middles, suffix: Int32Array.from(blocks.at(-1)!), minLength };
}

function atomBlock(atoms: readonly number[]): AtomBlock {
  const anchor = atoms.findLastIndex((atom) => atom !== ANY);
  if (atoms.length < BIT_PARALLEL_FROM) return { atoms: Int32Array.from(atoms), anchor };
  const anyMask = new Uint32Array((atoms.length + 31) >>> 5);
  const positionsOf = new Map<number, number[]>();
  atoms.forEach((atom, position) => {
    if (atom === ANY) setBit(anyMask, position);
    else if (positionsOf.has(atom)) positionsOf.get(atom)!.push(position);
    else positionsOf.set(atom, [position]);
  });
  return { atoms: Int32Array.from(atoms), anchor, search: { anyMask, positionsOf } };
}

// ---------------------------------------------------------------------------------------------
// Matching.

type MatchDetail =
  | { readonly kind: "none" }
  | { readonly kind: "direct" }
  /** `directory`: how many leading path segments name the directory the wildcard matched. */
  | { readonly kind: "wildcard-directory"; readonly directory: number };

const NONE: MatchDetail = { kind: "none" };
const DIRECT: MatchDetail = { kind: "direct" };

/** A path split into segments once, for every line it is matched against. */
class PathView {
  readonly path: string;
  readonly segments: readonly string[];
  /** The whole path's code points, and where each segment starts in them (made on first use). */
  private codePoints: { codes: Int32Array; starts: Int32Array } | undefined;

  constructor(filePath: string) {
    let start = 0;
    while (filePath[start] === "/") start++;
    this.path = filePath.slice(start);
    this.segments = this.path.split("/");
  }

  /** The first `count` segments, as a path. */
  prefix(count: number): string {
    return this.segments.slice(0, count).join("/");
  }

  /** Whether one pattern segment matches path segment `index`. Git never has empty segments. */
  matches(matcher: SegmentMatcher, index: number): boolean {
    const text = this.segments[index]!;
    if (text.length === 0) return false;
    switch (matcher.kind) {
      case "literal":
        return text === matcher.text;
      case "any-name":
      case "globstar":
        return true;
      case "glob": {
        // A code point is one or two UTF-16 units: fewer units than needed code points can't match.
        if (text.length < matcher.minLength) return false;
        const { codes, starts } = this.codePointsOf();
        return globMatches(matcher, codes, starts[index]!, starts[index + 1]! - 1);
      }
    }
  }

  private codePointsOf(): { codes: Int32Array; starts: Int32Array } {
    if (!this.codePoints) {
      const codes = new Int32Array(this.path.length);
      const starts = new Int32Array(this.segments.length + 1);
      let count = 0;
      let segment = 0;
      for (let i = 0; i < this.path.length; i++) {
        const code = this.path.codePointAt(i)!;
        codes[count++] = code;
        if (code > 0xffff) i++;
        if (code === 0x2f) starts[++segment] = count;
      }
      starts[this.segments.length] = count + 1; // as if a "/" followed the last segment
      this.codePoints = { codes: codes.subarray(0, count), starts };
    }
    return this.codePoints;
  }
}

function evaluate(pattern: CompiledPattern, view: PathView): MatchDetail {
  const count = view.segments.length;
  if (view.path === "" || pattern.minSegments > count) return NONE; // "" (or "/") names no file
  const start = afterHeadAndMiddles(pattern, view);
  if (start === undefined) return NONE;

  const { ending } = pattern;
  const ownsSelf = ending === "self" || ending === "self-or-directory" || ending === "self-or-wildcard-directory";
  if (ownsSelf && endsAtLastSegment(pattern, view, start)) return DIRECT;
  if (ending === "self") return NONE;

  const directory = shortestDirectoryMatch(pattern, view, start);
  if (directory === undefined) return NONE;
  const wildcard = ending === "self-or-wildcard-directory" || ending === "wildcard-directory";
  return wildcard ? { kind: "wildcard-directory", directory } : DIRECT;
}

/**
 * Where the path continues after the head (at the root) and each middle run (leftmost
 * occurrence), or undefined when they don't fit. Leftmost is optimal: the `**` after a run can
 * absorb any slack, so an earlier end only leaves more room for what follows.
 */
function afterHeadAndMiddles(pattern: CompiledPattern, view: PathView): number | undefined {
  const { head, middles } = pattern;
  if (!runMatchesAt(head.matchers, view, 0)) return undefined;
  let position = head.matchers.length;
  for (const run of middles) {
    const found = leftmostRun(run, view, position, view.segments.length);
    if (found < 0) return undefined;
    position = found + run.matchers.length;
  }
  return position;
}

/** Whether the rest of the pattern can end exactly at the path's last segment (the file). */
function endsAtLastSegment(pattern: CompiledPattern, view: PathView, start: number): boolean {
  const count = view.segments.length;
  if (pattern.tail === undefined) return start === count;
  const tailStart = count - pattern.tail.matchers.length;
  return tailStart >= start && runMatchesAt(pattern.tail.matchers, view, tailStart);
}

/**
 * The fewest leading segments the rest of the pattern can match while leaving at least one
 * segment beneath them (a directory on the path), or undefined. For "inside" that may be zero: the
 * root, under a pattern like `**` or `/**`.
 */
function shortestDirectoryMatch(pattern: CompiledPattern, view: PathView, start: number): number | undefined {
  const count = view.segments.length;
  if (pattern.tail === undefined) return start < count ? start : undefined;
  const found = leftmostRun(pattern.tail, view, start, count - 1);
  return found < 0 ? undefined : found + pattern.tail.matchers.length;
}

function runMatchesAt(matchers: readonly SegmentMatcher[], view: PathView, start: number): boolean {
  if (start + matchers.length > view.segments.length) return false;
  for (let offset = 0; offset < matchers.length; offset++) {
    if (!view.matches(matchers[offset]!, start + offset)) return false;
  }
  return true;
}

/** The first start at or after `from` where the run matches and ends by `end`, or -1. */
function leftmostRun(run: SegmentRun, view: PathView, from: number, end: number): number {
  const { matchers, search } = run;
  if (search === undefined) {
    for (let start = from; start + matchers.length <= end; start++) {
      if (runMatchesAt(matchers, view, start)) return start;
    }
    return -1;
  }
  // Bit-parallel: each path segment's mask says which run positions accept it; a segment text
  // seen before reuses its mask, so each distinct matcher meets each distinct text once.
  const masks = new Map<string, Uint32Array>();
  return shiftAndSearch(matchers.length, from, end, (index) => {
    const text = view.segments[index]!;
    let mask = masks.get(text);
    if (!mask) {
      mask = new Uint32Array((matchers.length + 31) >>> 5);
      for (const { matcher, positions } of search) {
        if (view.matches(matcher, index)) for (const position of positions) setBit(mask, position);
      }
      masks.set(text, mask);
    }
    return mask;
  });
}

/**
 * Glob one segment, `codes[start..end)`: `*` is any run of code points, `?` exactly one, anything
 * else itself. `/` never occurs in a segment, so both match every code point there, control
 * characters and line terminators included. This is the two-pointer algorithm written out by
 * blocks: it too ends up taking the leftmost place of each block between two stars (optimal, as
 * a later star absorbs any slack), and the block after the last star can only sit at the end.
 */
function globMatches(glob: Extract<SegmentMatcher, { kind: "glob" }>, codes: Int32Array, start: number, end: number): boolean {
  const { prefix, middles, suffix } = glob;
  if (end - start < glob.minLength) return false;
  if (suffix === undefined) return end - start === prefix.length && atomsMatchAt(prefix, codes, start);
  // minLength covers prefix and suffix, so they cannot overlap.
  if (!atomsMatchAt(prefix, codes, start) || !atomsMatchAt(suffix, codes, end - suffix.length)) return false;
  let position = start + prefix.length;
  for (const block of middles) {
    const found = leftmostBlock(block, codes, position, end - suffix.length);
    if (found < 0) return false;
    position = found + block.atoms.length;
  }
  return true;
}

function atomsMatchAt(atoms: Int32Array, codes: Int32Array, at: number): boolean {
  for (let offset = 0; offset < atoms.length; offset++) {
    const atom = atoms[offset];
    if (atom !== ANY && atom !== codes[at + offset]) return false;
  }
  return true;
}

/** The first start at or after `from` where the block matches and ends by `end`, or -1. */
function leftmostBlock(block: AtomBlock, codes: Int32Array, from: number, end: number): number {
  const { atoms, search, anchor } = block;
  if (anchor >= 0) {
    // A match needs the block's last literal at its offset: skip to where it first occurs, or
    // give up at once when it doesn't, as for `*aaaa…ab*` against `aaaa…a`. (Bounded by the
    // segment: `codes` holds the whole path.)
    const code = atoms[anchor]!;
    const last = end - atoms.length + anchor;
    let found = from + anchor;
    while (found <= last && codes[found] !== code) found++;
    if (found > last) return -1;
    from = found - anchor;
  }
  if (search === undefined) {
    for (let start = from; start + atoms.length <= end; start++) {
      if (atomsMatchAt(atoms, codes, start)) return start;
    }
    return -1;
  }
  const masks = new Map<number, Uint32Array>();
  let lastCode = -1;
  let lastMask = search.anyMask;
  return shiftAndSearch(atoms.length, from, end, (index) => {
    const code = codes[index]!;
    if (code === lastCode) return lastMask; // names repeat characters; skip the map then
    let mask = masks.get(code);
    if (!mask) {
      const positions = search.positionsOf.get(code) ?? [];
      mask = positions.length === 0 ? search.anyMask : search.anyMask.slice();
      for (const position of positions) setBit(mask, position);
      masks.set(code, mask);
    }
    lastCode = code;
    lastMask = mask;
    return mask;
  });
}

/**
 * Shift-And: the leftmost start of a `length`-long pattern within `[from, end)`, or -1, where
 * `maskAt(index)` has bit i set when pattern position i accepts element `index`. Bit i of the
 * state is set when the pattern's first i+1 positions match the elements ending at `index`, so
 * near-misses cost nothing extra: O((end - from) × length / 32) whatever the input. Words above
 * the highest non-zero one stay zero, so only the words partial matches reach are updated.
 */
function shiftAndSearch(length: number, from: number, end: number, maskAt: (index: number) => Uint32Array): number {
  const lastWord = (length - 1) >>> 5;
  const lastBit = 1 << ((length - 1) & 31);
  const state = new Uint32Array(lastWord + 1);
  let top = 0; // state[word] is 0 for every word > top
  for (let index = from; index < end; index++) {
    const mask = maskAt(index);
    const reach = Math.min(top + 1, lastWord); // the carry out of `top` can reach one word more
    let carry = 1; // a match may start at every element
    for (let word = 0; word <= reach; word++) {
      const value = state[word]!;
      state[word] = ((value << 1) | carry) & mask[word]!;
      carry = value >>> 31;
    }
    top = reach;
    while (top > 0 && state[top] === 0) top--;
    if (state[lastWord]! & lastBit) return index - length + 1;
  }
  return -1;
}

function setBit(bits: Uint32Array, position: number): void {
  bits[position >>> 5]! |= 1 << (position & 31);
}

// ---------------------------------------------------------------------------------------------
// Owners and sizes.

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
