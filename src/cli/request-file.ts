/**
 * The request file `jitsudo request` writes, from its flags: where it goes
 * (`access-requests/<login>/<date>-<name>.yaml`), its YAML, and how the validator's problems with
 * it read in terms of the flags that produced it. Pure: no I/O.
 *
 * The YAML is rendered by the `yaml` library, which quotes whatever would otherwise read as
 * something else (`: `, `#`, quotes, a leading `-` or `@`, `yes`, numbers), writes a reason with
 * line breaks as a literal block and escapes control characters; the file is then judged by the
 * same validator as any request, so a reason that did not survive would be refused, not written.
 */
import { Document, Scalar } from "yaml";
import { REQUESTS_DIR, type AccessRequest } from "../requests/access-request.js";
import type { Problem } from "../parsing/problem.js";

/** What the flags ask for, in the order the file lists it. */
export type RequestFields = Pick<AccessRequest, "account" | "permission_set" | "duration" | "reason" | "ticket" | "starts_at">;

/** The flag that sets each key of the file. */
export const FLAG_OF: Record<keyof RequestFields, string> = {
  account: "--account",
  permission_set: "--permission-set",
  duration: "--duration",
  reason: "--reason",
  ticket: "--ticket",
  starts_at: "--starts-at",
};

const KEYS = Object.keys(FLAG_OF) as (keyof RequestFields)[];

/** Longest `<name>` part: a file name people read in a pull request's list of files. */
const NAME_MAX = 60;

/**
 * `<ticket>-<permission set>-<account>` in lower-case letters, digits and dashes: a name that says
 * what the file asks for, and that two different requests of one day rarely share.
 */
export function defaultName(fields: Pick<RequestFields, "account" | "permission_set" | "ticket">): string {
  return slug([fields.ticket, fields.permission_set, fields.account].filter(Boolean).join("-"));
}

/** Letters and digits, every other run of characters one dash, at most NAME_MAX long; "request" when nothing is left. */
export function slug(text: string): string {
  const cut = text
    // Accents come off as marks of their own once decomposed: "Ü" is "U" then a mark.
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, NAME_MAX)
    .replace(/-+$/, "");
  return cut === "" ? "request" : cut;
}

/** `access-requests/<login>/<YYYY-MM-DD>-<name>.yaml`, the date in UTC. */
export function requestPath(login: string, date: Date, name: string): string {
  return `${REQUESTS_DIR}${login}/${date.toISOString().slice(0, 10)}-${name}.yaml`;
}

/** The branch `--open-pr` pushes: `jitsudo/<login>/<date>-<name>`, then `-2`, `-3`… when taken. */
export function branchName(path: string, attempt: number): string {
  const base = `jitsudo/${path.slice(REQUESTS_DIR.length).replace(/\.yaml$/, "")}`;
  return attempt <= 1 ? base : `${base}-${attempt}`;
}

/**
 * The file's YAML. The account is always quoted (an id keeps its leading zeros), the reason quoted
 * on one line or a literal block over several; the rest plain where YAML reads them as text.
 */
export function renderRequest(fields: RequestFields): string {
  const document = new Document({});
  for (const key of KEYS) {
    const value = fields[key];
    if (value === undefined) continue;
    const scalar = new Scalar(value);
    if (key === "account") scalar.type = Scalar.QUOTE_DOUBLE;
    if (key === "reason") scalar.type = value.includes("\n") ? Scalar.BLOCK_LITERAL : Scalar.QUOTE_DOUBLE;
    document.set(key, scalar);
  }
  // No folding: a long reason stays one line, as written.
  return document.toString({ lineWidth: 0 });
}

/** A problem with the rendered file, told as what to change on the command line. */
export interface FlagProblem {
  severity: Problem["severity"];
  /** The flag to change; undefined when the problem is the request as a whole. */
  flag?: string;
  message: string;
}

/**
 * The flag behind each problem: the key whose entry holds the problem's line (a value starts after
 * its key, so column 1 of line 1 is the request as a whole), and the message's "add ticket: …"
 * advice as the flag to pass.
 */
export function problemsAsFlags(text: string, problems: readonly Problem[]): FlagProblem[] {
  const keyLines = text
    .split("\n")
    .map((line, index) => ({ key: /^([a-z_]+):/.exec(line)?.[1] as keyof RequestFields | undefined, line: index + 1 }))
    .filter((entry): entry is { key: keyof RequestFields; line: number } => entry.key !== undefined && entry.key in FLAG_OF);
  return problems.map((problem) => {
    const whole = problem.line === 1 && problem.column === 1;
    const key = whole ? undefined : keyLines.findLast((entry) => entry.line <= problem.line)?.key;
    return { severity: problem.severity, ...(key ? { flag: FLAG_OF[key] } : {}), message: inFlagTerms(problem.message) };
  });
}

/** `add ticket: <…>` → `pass --ticket <…>`, `remove starts_at` → `leave out --starts-at`. */
export function inFlagTerms(message: string): string {
  return message
    .replace(/\badd ([a-z_]+): /g, (whole, key: string) => (key in FLAG_OF ? `pass ${FLAG_OF[key as keyof RequestFields]} ` : whole))
    .replace(/\bremove ([a-z_]+)\b/g, (whole, key: string) =>
      key in FLAG_OF ? `leave out ${FLAG_OF[key as keyof RequestFields]}` : whole,
    );
}

/** `--duration: message`, or the message alone for the request as a whole. */
export function formatFlagProblem(problem: FlagProblem): string {
  const prefix = problem.severity === "warning" ? "warning: " : "error: ";
  return `${prefix}${problem.flag ? `${problem.flag}: ` : ""}${problem.message}`;
}
