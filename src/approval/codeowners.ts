/**
 * CODEOWNERS, parsed and matched the way GitHub does (not the way .gitignore does):
 *
 * - the LAST matching line decides; a matching line with no owners un-owns the path;
 * - gitignore-style patterns, minus what GitHub refuses: `!` negation, `[ ]` ranges and `\` escapes
 *   make a line invalid (GitHub skips it and lists it as an error);
 * - case-sensitive; a leading `/` or a slash inside the pattern anchors it to the repository root,
 *   a pattern without one matches at any depth; `*` and `?` never cross `/`; `**` spans directories;
 * - a pattern that names a directory owns everything beneath it (`/docs`, `apps/`), EXCEPT one whose
 *   last segment is a wildcard: GitHub documents that `docs/*` owns `docs/getting-started.md` but not
 *   `docs/build-app/troubleshooting.md`, which is where gitignore-based matchers go wrong.
 *
 * A skipped invalid line can hand a path to a broader, earlier rule, so callers must treat any
 * error as "no approval possible" (fail closed). Pure: no I/O.
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

export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;
export type CodeownersLocation = (typeof CODEOWNERS_LOCATIONS)[number];

/** GitHub does not read a CODEOWNERS file over 3 MB. */
export const CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

const USER = /^@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))$/;
const TEAM = /^@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9_.-]+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface CompiledRule extends CodeownersRule {
  regex: RegExp;
}

const compiled = new WeakMap<Codeowners, CompiledRule[]>();

export function parseCodeowners(text: string, path: string = CODEOWNERS_LOCATIONS[0]): Codeowners {
  const result: Codeowners = { path, rules: [], errors: [] };
  if (new TextEncoder().encode(text).byteLength > CODEOWNERS_MAX_BYTES) {
    result.errors.push({ line: 1, message: "the file is over 3 MB, so GitHub ignores all of it" });
    compiled.set(result, []);
    return result;
  }
  const rules: CompiledRule[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = stripComment(raw).trim();
    if (content === "") return;
    const [pattern, ...ownerTokens] = content.split(/\s+/) as [string, ...string[]];
    const problem = patternProblem(pattern);
    if (problem) {
      result.errors.push({ line, message: `"${pattern}" ${problem}; GitHub ignores this line` });
      return;
    }
    const owners: CodeownersOwner[] = [];
    for (const token of ownerTokens) {
      const owner = parseOwner(token);
      if (!owner) {
        result.errors.push({
          line,
          message: `"${token}" is not an owner (write @user, @org/team or an email address); GitHub ignores this line`,
        });
        return;
      }
      owners.push(owner);
    }
    const rule = { line, pattern, owners, regex: patternToRegExp(pattern) };
    rules.push(rule);
    result.rules.push({ line, pattern, owners });
  });
  compiled.set(result, rules);
  return result;
}

/** The rule that decides a path's owners (the last match), or undefined when no line matches. */
export function matchingRule(codeowners: Codeowners, filePath: string): CodeownersRule | undefined {
  const rules = compiled.get(codeowners) ?? compile(codeowners);
  const path = filePath.replace(/^\/+/, "");
  for (let index = rules.length - 1; index >= 0; index--) {
    const rule = rules[index]!;
    if (rule.regex.test(path)) return { line: rule.line, pattern: rule.pattern, owners: rule.owners };
  }
  return undefined;
}

export function ownersOf(codeowners: Codeowners, filePath: string): CodeownersOwner[] {
  return matchingRule(codeowners, filePath)?.owners ?? [];
}

/** GitHub uses the first file found, in this order: .github/, the root, docs/. */
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

/** A Codeowners built by hand (tests, callers) gets compiled on first use. */
function compile(codeowners: Codeowners): CompiledRule[] {
  const rules = codeowners.rules.map((rule) => ({ ...rule, regex: patternToRegExp(rule.pattern) }));
  compiled.set(codeowners, rules);
  return rules;
}

/** `# …` starts a comment at the line start or after whitespace. */
function stripComment(line: string): string {
  const match = /(^|\s)#/.exec(line);
  return match ? line.slice(0, match.index) : line;
}

function patternProblem(pattern: string): string | undefined {
  if (pattern.startsWith("!")) return 'uses negation ("!"), which CODEOWNERS does not support';
  if (/[[\]]/.test(pattern)) return "uses a character range ([ ]), which CODEOWNERS does not support";
  if (pattern.includes("\\")) return 'uses a backslash escape (such as "\\#"), which CODEOWNERS does not support';
  if (pattern.startsWith("@") || EMAIL.test(pattern)) return "is an owner where a file pattern is expected";
  return undefined;
}

function parseOwner(token: string): CodeownersOwner | undefined {
  let match = TEAM.exec(token);
  if (match) return { kind: "team", org: match[1]!, slug: match[2]! };
  match = USER.exec(token);
  if (match) return { kind: "user", login: match[1]! };
  if (!token.startsWith("@") && EMAIL.test(token)) return { kind: "email", email: token };
  return undefined;
}

export function patternToRegExp(pattern: string): RegExp {
  const directoryOnly = pattern.endsWith("/");
  let body = pattern.replace(/\/+$/, "");
  // A slash at the start or in the middle anchors to the root; otherwise match at any depth.
  const anchored = body.startsWith("/") || body.includes("/");
  body = body.replace(/^\/+/, "");

  const segments = body.split("/");
  let source = "";
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      // `**/x` = x at any depth; `a/**/b` = zero or more directories; `a/**` = everything inside a.
      source += last ? ".*" : "(?:[^/]+/)*";
      return;
    }
    source += segment.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
    if (!last) source += "/";
  });

  const lastSegment = segments.at(-1) ?? "";
  const wildcardLeaf = /[*?]/.test(lastSegment) && lastSegment !== "**";
  let suffix: string;
  if (directoryOnly) suffix = "/.+"; // `apps/`: everything under a directory named apps
  else if (lastSegment === "**") suffix = "";
  else if (wildcardLeaf) suffix = ""; // `docs/*`: direct children only, as GitHub documents
  else suffix = "(?:/.+)?"; // `/docs` or `logs`: the path itself or everything under it

  const prefix = anchored ? "^" : "^(?:[^/]+/)*";
  return new RegExp(`${prefix}${source}${suffix}$`);
}
