/**
 * Loads untrusted YAML (request files, the tenant config) into plain values while remembering where
 * every key and value was written, so that each error can name its exact line and column.
 *
 * Hostile input is refused before it can cost anything: a size cap before decoding, strict UTF-8,
 * one document per file, and no aliases at all (an alias bomb never expands because we never
 * resolve one). We walk the YAML node tree ourselves instead of calling `toJS()` for two reasons:
 * positions, and fields that must stay text exactly as written (`account: 012345678901` is a
 * number without its leading zero to a YAML 1.2 parser).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Document, type Node, type YAMLMap } from "yaml";
import { quote } from "./printable.js";
import type { Problem } from "./problem.js";

export type PathSegment = string | number;

interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface YamlSource {
  file: string;
  value: unknown;
  /** Where the value at `path` was written; `key` points at the key instead (for unknown keys). */
  spanOf(path: readonly PathSegment[], part?: "key" | "value"): Span;
}

export interface LoadOptions {
  maxBytes: number;
  /** Said when the file holds no YAML at all. */
  emptyMessage: string;
  /** Paths whose plain (unquoted) scalars are kept as the text written, not typed. */
  keepsWrittenText?: (path: readonly PathSegment[]) => boolean;
}

type Refusal = { ok: false; problems: Problem[] };
export type LoadResult = { ok: true; source: YamlSource } | Refusal;

const MAX_DEPTH = 16;

type Position = (offset: number) => { line: number; column: number };
type Range = readonly [number, number, number] | null | undefined;

export function loadYaml(file: string, bytes: Uint8Array, options: LoadOptions): LoadResult {
  const decoded = decodeUtf8(file, bytes, options.maxBytes);
  if (!decoded.ok) return decoded;

  const parsed = parseOneDocument(file, decoded.text, options.emptyMessage);
  if (!parsed.ok) return parsed;

  const walker = new TreeWalker(file, parsed.position, options.keepsWrittenText);
  const value = walker.convert(parsed.document.contents, []);
  walker.countAliases();
  if (walker.problems.length > 0) return { ok: false, problems: walker.problems };
  return { ok: true, source: walker.source(value, parsed.document.contents?.range) };
}

function refuse(file: string, line: number, column: number, message: string): Refusal {
  return { ok: false, problems: [{ file, line, column, severity: "error", message }] };
}

/** The size cap and strict UTF-8, checked on the raw bytes before anything is decoded or parsed. */
function decodeUtf8(file: string, bytes: Uint8Array, maxBytes: number): { ok: true; text: string } | Refusal {
  if (bytes.byteLength > maxBytes) {
    return refuse(file, 1, 1, `file is ${bytes.byteLength} bytes, over the limit of ${maxBytes} bytes; keep only the request in it`);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return refuse(file, 1, 1, "file is UTF-16; save it as UTF-8");
  }
  const invalidAt = firstInvalidUtf8(bytes);
  if (invalidAt >= 0) {
    const { line, column } = bytePosition(bytes, invalidAt);
    const byte = bytes[invalidAt]!.toString(16).toUpperCase().padStart(2, "0");
    return refuse(file, line, column, `file is not valid UTF-8 (byte 0x${byte}); save it as UTF-8`);
  }
  return { ok: true, text: new TextDecoder("utf-8").decode(bytes) }; // strips a leading BOM
}

type ParsedDocument = { ok: true; document: Document.Parsed; position: Position } | Refusal;

/** Parses the text as exactly one YAML document with contents, or says why it is not one. */
function parseOneDocument(file: string, text: string, emptyMessage: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    // The library's own duplicate check compares every key with every other (quadratic: 7,000 keys
    // cost a quarter of a second of blocking CPU); `TreeWalker` finds duplicates with a set instead.
    uniqueKeys: false,
    prettyErrors: false,
    version: "1.2",
  });
  const position: Position = (offset) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  if (!Array.isArray(documents) || documents.length === 0) return refuse(file, 1, 1, emptyMessage);
  if (documents.length > 1) {
    const second = position(documents[1]!.range[0]);
    const message = `file holds ${documents.length} YAML documents; keep one (remove the "---" separators)`;
    return refuse(file, second.line, second.column, message);
  }
  const document = documents[0]!;

  const problems: Problem[] = [];
  for (const error of [...document.errors, ...document.warnings]) {
    const start = position(error.pos[0]);
    problems.push({ file, ...start, severity: "error", message: describeYamlError(error.code, error.message, text, error.pos) });
  }
  if (problems.length > 0) return { ok: false, problems };
  if (document.contents === null) return refuse(file, 1, 1, emptyMessage);
  return { ok: true, document, position };
}

/**
 * Turns the YAML node tree into plain values, recording where each key and value was written and
 * collecting every problem on the way (not only the first), so one run of validation names them all.
 */
class TreeWalker {
  readonly problems: Problem[] = [];
  private readonly keySpans = new Map<string, Span>();
  private readonly valueSpans = new Map<string, Span>();
  private aliases = 0;

  constructor(
    private readonly file: string,
    private readonly position: Position,
    private readonly keepsWrittenText: LoadOptions["keepsWrittenText"],
  ) {}

  convert(node: unknown, path: PathSegment[]): unknown {
    const nodeRange = (node as Node | null)?.range;
    this.valueSpans.set(pointer(path), this.spanOfRange(nodeRange));
    if (path.length > MAX_DEPTH) {
      this.fail(node as Node, `nesting is deeper than ${MAX_DEPTH} levels; request files are flat`);
      return null;
    }
    if (isAlias(node)) {
      // One message for the first alias is enough: an alias bomb has thousands of them.
      if (this.aliases++ === 0) this.fail(node, `YAML aliases (*${node.source}) are not allowed here; write the value out in full`);
      return null;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.tag !== undefined) {
        this.fail(node, `YAML tags (${node.tag.replace("tag:yaml.org,2002:", "!!")}) are not allowed here; remove the tag`);
        return null;
      }
    }
    if (isMap(node)) return this.convertMap(node, path);
    if (isSeq(node)) return node.items.map((item, index) => this.convert(item, [...path, index]));
    if (isScalar(node)) {
      if (this.keepsWrittenText?.(path) && node.type === Scalar.PLAIN && node.value !== null) {
        return scalarText(node);
      }
      return node.value;
    }
    this.fail(node as Node, "unsupported YAML node");
    return null;
  }

  private convertMap(node: YAMLMap, path: PathSegment[]): Record<string, unknown> {
    const object = Object.create(null) as Record<string, unknown>;
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) {
        this.fail((pair.key as Node) ?? node, "keys must be plain names like account or duration");
        continue;
      }
      const key = scalarText(pair.key);
      if (seen.has(key)) {
        this.fail(pair.key, `duplicate key ${quote(key)}; each key may appear only once`);
        continue;
      }
      seen.add(key);
      this.keySpans.set(pointer([...path, key]), this.spanOfRange(pair.key.range));
      object[key] = pair.value === null ? null : this.convert(pair.value, [...path, key]);
      if (pair.value === null) this.valueSpans.set(pointer([...path, key]), this.spanOfRange(pair.key.range));
    }
    return { ...object };
  }

  /** Adds the total to the one alias message, once the whole tree has been walked. */
  countAliases(): void {
    if (this.aliases > 1) {
      const first = this.problems.find((problem) => problem.message.startsWith("YAML aliases"));
      if (first) first.message += ` (${this.aliases} aliases in this file)`;
    }
  }

  source(value: unknown, rootRange: Range): YamlSource {
    const { file, keySpans, valueSpans } = this;
    const spanOfRange = (range: Range) => this.spanOfRange(range);
    return {
      file,
      value,
      spanOf(path, part = "value") {
        const key = pointer(path);
        const found = (part === "key" ? keySpans.get(key) : undefined) ?? valueSpans.get(key);
        if (found) return found;
        // A path that is not in the file (a missing key) is reported at its nearest parent.
        return path.length > 0 ? this.spanOf(path.slice(0, -1), "value") : spanOfRange(rootRange);
      },
    };
  }

  private spanOfRange(range: Range): Span {
    if (!range) return { line: 1, column: 1, endLine: 1, endColumn: 1 };
    const start = this.position(range[0]);
    const end = this.position(Math.max(range[0], range[1]));
    // A value over several lines (a mapping, a list) is pointed at where it starts: an editor
    // jumps there, and GitHub only takes columns on single-line annotations.
    if (end.line !== start.line) return { ...start, endLine: start.line, endColumn: start.column };
    return { ...start, endLine: end.line, endColumn: end.column };
  }

  private fail(node: Node | null | undefined, message: string): void {
    this.problems.push({ file: this.file, ...this.spanOfRange(node?.range), severity: "error", message });
  }
}

/** A scalar as the person typed it: `012` stays `012`, `yes` stays `yes`. */
function scalarText(node: Scalar): string {
  const written = (node as Scalar & { source?: string }).source;
  if (node.type === Scalar.PLAIN && typeof written === "string") return written;
  return String(node.value);
}

export function pointer(path: readonly PathSegment[]): string {
  return path.map((segment) => `/${String(segment).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

function describeYamlError(code: string, message: string, text: string, pos: [number, number]): string {
  const firstLine = message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
  switch (code) {
    case "DUPLICATE_KEY": {
      const key = /^[^:\n]*/.exec(text.slice(pos[0]))?.[0]?.trim() ?? "";
      return `duplicate key ${quote(key)}; each key may appear only once`;
    }
    case "RESOURCE_EXHAUSTION":
      return "YAML is nested too deeply; request files are flat";
    case "TAG_RESOLVE_FAILED":
      return `YAML tags are not allowed here; remove the tag (${firstLine.replace(/^Unresolved tag: /, "")})`;
    default:
      return `YAML syntax error: ${firstLine}`;
  }
}

/** Index of the first byte that breaks UTF-8 (overlongs and surrogates included), or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    let extra: number;
    let min: number;
    if (lead < 0x80) {
      index += 1;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) [extra, min] = [1, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [extra, min] = [2, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [extra, min] = [3, 0x10000];
    else return index;
    if (index + extra >= bytes.length) return index; // truncated sequence at the end
    let codePoint = lead & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[index + k]!;
      if ((next & 0xc0) !== 0x80) return index;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return index;
    index += extra + 1;
  }
  return -1;
}

function bytePosition(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let index = 0; index < offset; index++) {
    if (bytes[index] === 0x0a) {
      line += 1;
      lineStart = index + 1;
    }
  }
  // Columns count characters, so decode the valid prefix of the line.
  const column = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
  return { line, column };
}
