/**
 * The JSON Schemas in `schemas/` (the same files editors use) compiled once with ajv, and ajv's
 * errors turned into problems a person can act on: at the exact key or value, naming the change.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { createRequire } from "node:module";
import type { FormatsPlugin } from "ajv-formats";
import { closest } from "./did-you-mean.js";
import { capped, printable, quote } from "./printable.js";
import type { Problem } from "./problem.js";
import { loadYaml, type LoadOptions, type LoadResult, type PathSegment, type YamlSource } from "./yaml-source.js";

// ajv-formats is CommonJS with `exports.default`; require() gives the plugin itself under NodeNext.
const addFormats = createRequire(import.meta.url)("ajv-formats") as FormatsPlugin;

const SCHEMA_DIR = new URL("../../schemas/", import.meta.url);

export function loadSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, SCHEMA_DIR), "utf8")) as Record<string, unknown>;
}

const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false, allowUnionTypes: true });
addFormats(ajv, ["date-time"]);

export function compileSchema(name: string): ValidateFunction {
  return ajv.compile(loadSchema(name));
}

/** What to say for a value that fails its pattern or format, per JSON pointer (`*` = any index or key). */
export type ValueHints = Record<string, (value: unknown) => string>;
/** What to write when a required key is missing. */
export type RequiredHints = Record<string, string>;

export interface SchemaMessages {
  values: ValueHints;
  required: RequiredHints;
}

/** Untrusted YAML loaded with positions, then held to a schema: a source only when both pass. */
export function loadAndValidate(
  file: string,
  bytes: Uint8Array,
  options: LoadOptions & { validate: ValidateFunction; messages: SchemaMessages },
): LoadResult {
  const loaded = loadYaml(file, bytes, options);
  if (!loaded.ok || options.validate(loaded.source.value)) return loaded;
  return { ok: false, problems: schemaProblems(loaded.source, options.validate.errors ?? [], options.messages) };
}

/**
 * At most this many problems are described per file: enough to fix a real file, and a file of
 * thousands of unknown keys costs neither seconds of CPU nor thousands of annotations.
 */
export const MAX_PROBLEMS_PER_FILE = 20;

export function schemaProblems(source: YamlSource, errors: readonly ErrorObject[], messages: SchemaMessages): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const [index, error] of errors.entries()) {
    if (problems.length === MAX_PROBLEMS_PER_FILE) {
      const last = problems.at(-1)!;
      problems.push({
        file: source.file,
        line: last.line,
        column: last.column,
        severity: "error",
        message: `… and up to ${errors.length - index} more problems in this file; fix the ones above first`,
      });
      break;
    }
    const path = pathOf(error.instancePath);
    const described = describe(error, path, source, messages);
    if (!described) continue;
    const dedupeKey = `${described.path.join("/")}|${described.part}|${error.keyword === "required" ? described.message : ""}`;
    if (seen.has(dedupeKey)) continue; // one message per place: the first is the most useful
    seen.add(dedupeKey);
    const span = source.spanOf(described.path, described.part);
    problems.push({ file: source.file, ...span, severity: "error", message: described.message });
  }
  return problems;
}

interface Described {
  path: PathSegment[];
  part: "key" | "value";
  message: string;
}

function describe(error: ErrorObject, path: PathSegment[], source: YamlSource, messages: SchemaMessages): Described | undefined {
  switch (error.keyword) {
    case "additionalProperties":
    case "required":
    case "propertyNames":
      return describeKey(error, path, messages);
    case "minItems":
    case "maxItems":
    case "uniqueItems":
      return describeList(error, path, source);
    default:
      return describeValue(error, path, source, messages);
  }
}

/** A key that is unknown, missing or not allowed. */
function describeKey(error: ErrorObject, path: PathSegment[], messages: SchemaMessages): Described {
  const name = label(path);
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = allowedKeys(error);
      const suggestion = closest(key, allowed);
      const hint = suggestion ? `did you mean "${suggestion}"?` : `allowed keys: ${allowed.join(", ")}`;
      return { path: [...path, key], part: "key", message: `unknown key ${quote(label([...path, key]))}; ${hint}` };
    }
    case "required": {
      const key = String((error.params as { missingProperty: string }).missingProperty);
      const wanted = messages.required[pattern([...path, key])];
      return {
        path,
        part: "value",
        message: `missing required key "${label([...path, key])}"${wanted ? `; add ${wanted}` : ""}`,
      };
    }
    case "propertyNames": {
      const key = String((error.params as { propertyName: string }).propertyName);
      return { path: [...path, key], part: "key", message: `${quote(key)} in "${name}" is not a GitHub login` };
    }
    default:
      return otherProblem(error, path);
  }
}

/** A list that is empty, too long or repeats an entry. */
function describeList(error: ErrorObject, path: PathSegment[], source: YamlSource): Described {
  const name = label(path);
  switch (error.keyword) {
    case "minItems":
      return { path, part: "value", message: `"${name}" must list at least one entry` };
    case "maxItems": {
      const limit = (error.params as { limit: number }).limit;
      return { path, part: "value", message: `"${name}" lists more than ${limit} entries` };
    }
    case "uniqueItems": {
      const { i, j } = error.params as { i: number; j: number };
      const later = Math.max(i, j);
      return {
        path: [...path, later],
        part: "value",
        message: `"${name}" lists ${quote(valueAt(source.value, [...path, later]))} twice; remove one`,
      };
    }
    default:
      return otherProblem(error, path);
  }
}

/** A value of the wrong type, shape, length or range. */
function describeValue(error: ErrorObject, path: PathSegment[], source: YamlSource, messages: SchemaMessages): Described {
  const name = label(path);
  const value = valueAt(source.value, path);
  switch (error.keyword) {
    case "type": {
      const expected = String((error.params as { type: string }).type);
      if (path.length === 0) {
        return { path, part: "value", message: `expected a mapping of keys (account: …), found ${kindOf(value)}` };
      }
      return { path, part: "value", message: `"${name}" must be ${article(expected)}, not ${kindOf(value)}` };
    }
    case "pattern":
    case "format": {
      const hint = hintFor(messages.values, path);
      return { path, part: "value", message: hint ? hint(value) : `"${name}" is not valid: ${quote(value)}` };
    }
    case "minLength":
    case "maxLength": {
      const hint = hintFor(messages.values, path);
      const limit = (error.params as { limit: number }).limit;
      const fallback =
        error.keyword === "minLength"
          ? `"${name}" is too short; write at least ${limit} characters`
          : `"${name}" is too long; keep it under ${limit} characters`;
      return { path, part: "value", message: hint ? hint(value) : fallback };
    }
    case "enum": {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
      return { path, part: "value", message: `"${name}" must be one of ${allowed.join(", ")}, not ${quote(value)}` };
    }
    case "minimum":
    case "maximum": {
      const limit = (error.params as { limit: number }).limit;
      const side = error.keyword === "minimum" ? "at least" : "at most";
      return { path, part: "value", message: `"${name}" must be ${side} ${limit}, not ${quote(value)}` };
    }
    case "not":
      // The only "not" in the schemas: drift manages named permission sets, never "any".
      return { path, part: "value", message: `"${name}" cannot be "*": list each permission set drift should manage by name or ARN` };
    default:
      return otherProblem(error, path);
  }
}

/** A keyword no message above is written for: Ajv's own words. */
function otherProblem(error: ErrorObject, path: PathSegment[]): Described {
  return { path, part: "value", message: `"${label(path)}" ${error.message ?? "is not valid"}` };
}

function pathOf(instancePath: string): PathSegment[] {
  if (instancePath === "") return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

/** `rules[2].max_duration`: how people point at a place in a YAML file. Keys someone wrote are shown escaped and cut short. */
export function label(path: readonly PathSegment[]): string {
  return path.reduce<string>((out, segment) => {
    if (typeof segment === "number") return `${out}[${segment}]`;
    const key = printable(capped(segment, 60));
    return out ? `${out}.${key}` : key;
  }, "");
}

/** The hint key for a path: list indices become `*` (`rules.*.max_duration`). */
function pattern(path: readonly PathSegment[]): string {
  return path.map((segment) => (typeof segment === "number" ? "*" : segment)).join(".");
}

/** A hint for the exact path, or for any key of its parent mapping (`users.*`). */
function hintFor(hints: ValueHints, path: readonly PathSegment[]): ((value: unknown) => string) | undefined {
  return hints[pattern(path)] ?? (path.length > 0 ? hints[`${pattern(path.slice(0, -1))}.*`] : undefined);
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[segment as string];
  }
  return current;
}

function allowedKeys(error: ErrorObject): string[] {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return properties ? Object.keys(properties) : [];
}

export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "nothing (an empty value)";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number") return `a number (${value})`;
  if (typeof value === "boolean") return `a boolean (${value})`;
  return `text (${quote(value)})`;
}

function article(type: string): string {
  const words: Record<string, string> = {
    string: "text",
    object: "a mapping of keys",
    array: "a list",
    integer: "a whole number",
    number: "a number",
    boolean: "true or false",
  };
  return type
    .split(",")
    .map((t) => words[t] ?? t)
    .join(" or ");
}
