/**
 * The local GitHub's own CODEOWNERS checker, behind `GET /repos/{owner}/{repo}/codeowners/errors`.
 * Deliberately independent of jitsudo's parser (src/approval): it stands for GitHub's side.
 *
 * What GitHub documents ("About code owners"): patterns follow gitignore except that `!`
 * negation, `[ ]` character ranges and `\#` escapes do not work; "If any line in your CODEOWNERS
 * file contains invalid syntax, that line will be skipped"; owners are `@user`, `@org/team` or an
 * e-mail address, and "Users and teams must have explicit write access to the repository". Owners
 * that fail that are reported as errors of kind "Unknown owner" with GitHub's wording ("make sure
 * @user exists and has write access to the repository", "make sure the team @org/team exists, is
 * publicly visible, and has write access to the repository"; quoted from `codeowners/errors`
 * answers in public issues). The kinds and wording of syntax errors are the sandbox's own: GitHub
 * does not document them.
 */

/** Where GitHub looks for the file, in order; the first one present is used. */
export const CODEOWNERS_PATHS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

export interface CodeownersError {
  line: number;
  column: number;
  kind: string;
  message: string;
  path: string;
  source: string;
  suggestion: string | null;
}

export type OwnerRef = { kind: "user"; login: string } | { kind: "team"; org: string; slug: string } | { kind: "email"; email: string };

/** Whether GitHub would accept the owner for this repository (exists, has write access). */
export type OwnerCheck = (owner: OwnerRef) => boolean;

export function checkCodeowners(path: string, text: string, ownerIsValid: OwnerCheck): CodeownersError[] {
  const errors: CodeownersError[] = [];
  text.split("\n").forEach((raw, index) => {
    const source = raw.replace(/\r$/, "");
    const trimmed = source.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const at = (column: number, kind: string, detail: string, suggestion: string | null = null) =>
      errors.push({
        line: index + 1,
        column,
        kind,
        message: `${kind} on line ${index + 1}: ${detail}\n\n  ${source}\n  ${" ".repeat(column - 1)}^`,
        path,
        source,
        suggestion,
      });
    const tokens = tokenize(source);
    const pattern = tokens[0]!;
    const patternProblem = unsupportedSyntax(pattern.text);
    if (patternProblem) {
      at(pattern.column + patternProblem.offset, "Invalid pattern", patternProblem.detail);
      return;
    }
    for (const token of tokens.slice(1)) {
      if (token.text.startsWith("#")) break;
      const owner = ownerRef(token.text);
      if (!owner) at(token.column, "Invalid owner", `${token.text} is not a user (@name), a team (@org/name) or an e-mail address`);
      else if (!ownerIsValid(owner)) at(token.column, "Unknown owner", unknownOwnerDetail(owner));
    }
  });
  return errors;
}

interface Token {
  text: string;
  /** 1-based column of the token's first character. */
  column: number;
}

/** Whitespace separates tokens, except where escaped (`docs/my\ file.md`). */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /(?:\\.|\S)+/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(line))) tokens.push({ text: match[0], column: match.index + 1 });
  return tokens;
}

/** gitignore syntax GitHub does not support in CODEOWNERS, with where it starts in the pattern. */
function unsupportedSyntax(pattern: string): { offset: number; detail: string } | undefined {
  if (pattern.startsWith("!")) return { offset: 0, detail: "negation (!) is not supported in CODEOWNERS" };
  if (pattern.startsWith("\\#")) return { offset: 0, detail: "escaping # with \\ is not supported in CODEOWNERS" };
  // An escaped bracket (`\[`) is a literal character, not a range.
  const range = pattern.search(/(?<!\\)[[\]]/);
  if (range !== -1) return { offset: range, detail: "character ranges ([ ]) are not supported in CODEOWNERS" };
  return undefined;
}

function ownerRef(token: string): OwnerRef | undefined {
  const team = /^@([A-Za-z0-9][A-Za-z0-9-]*)\/([A-Za-z0-9._-]+)$/.exec(token);
  if (team) return { kind: "team", org: team[1]!, slug: team[2]! };
  const user = /^@([A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)$/.exec(token);
  if (user) return { kind: "user", login: user[1]! };
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(token)) return { kind: "email", email: token };
  return undefined;
}

function unknownOwnerDetail(owner: OwnerRef): string {
  if (owner.kind === "team")
    return `make sure the team @${owner.org}/${owner.slug} exists, is publicly visible, and has write access to the repository`;
  if (owner.kind === "user") return `make sure @${owner.login} exists and has write access to the repository`;
  return `make sure ${owner.email} belongs to a user with write access to the repository`;
}
