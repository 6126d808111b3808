/**
 * `jitsudo validate [paths…] [--config file] [--requester login] [--format text|json]`: the same
 * validation the pull request check runs, on local files, printed like a compiler's diagnostics.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { parseTenantConfig, TENANT_CONFIG_PATH, type TenantConfig } from "../config/tenant.js";
import { isRequestFilePath, REQUESTS_DIR } from "../requests/access-request.js";
import { byPosition, formatProblem, hasErrors, type Problem } from "../parsing/problem.js";
import { validateRequest } from "../requests/validate-request.js";

export interface CommandIo {
  cwd: string;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  now: () => Date;
}

const USAGE = `usage: jitsudo validate [paths…] [--config ${TENANT_CONFIG_PATH}] [--requester <github login>] [--format text|json]`;

/** Returns the exit code: 0 valid, 1 any error, 2 bad usage. */
export function validateCommand(argv: readonly string[], io: CommandIo): number {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { config: { type: "string" }, requester: { type: "string" }, format: { type: "string", default: "text" } },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const format = args.values.format;
  if (format !== "text" && format !== "json") {
    io.stderr(`--format must be text or json\n${USAGE}`);
    return 2;
  }

  const problems: Problem[] = [];
  const notes: string[] = [];
  const config = loadConfig(args.values.config, io.cwd, problems, notes);
  const files = collectFiles(args.positionals, io.cwd, problems);
  const results = files.map((file) => {
    const review = validateRequest(file, readFileSync(resolve(io.cwd, file)), {
      ...(config ? { config } : {}),
      ...(args.values.requester ? { requester: args.values.requester } : {}),
      now: io.now(),
    });
    return { file, valid: review.valid, problems: [...review.problems].sort(byPosition) };
  });
  const all = [...problems, ...results.flatMap((result) => result.problems)];
  const errors = all.filter((problem) => problem.severity === "error").length;

  if (format === "json") {
    io.stdout(JSON.stringify({ files: results, problems, errors, warnings: all.length - errors, notes }, null, 2));
  } else {
    for (const problem of all) io.stdout(formatProblem(problem));
    for (const note of notes) io.stderr(`note: ${note}`);
    io.stderr(`${files.length} request file${files.length === 1 ? "" : "s"} checked: ${errors} error${errors === 1 ? "" : "s"}`);
  }
  return hasErrors(all) ? 1 : 0;
}

function loadConfig(path: string | undefined, cwd: string, problems: Problem[], notes: string[]): TenantConfig | undefined {
  const configPath = path ?? TENANT_CONFIG_PATH;
  const absolute = resolve(cwd, configPath);
  if (!existsSync(absolute)) {
    if (path !== undefined) problems.push({ file: configPath, line: 1, column: 1, severity: "error", message: "config file not found" });
    else notes.push(`no ${TENANT_CONFIG_PATH} here: files were checked against the schema only, not the policy`);
    return undefined;
  }
  const parsed = parseTenantConfig(readFileSync(absolute), displayPath(absolute, cwd));
  if (parsed.ok) {
    problems.push(...parsed.warnings);
    return parsed.config;
  }
  problems.push(...parsed.problems);
  return undefined;
}

function collectFiles(paths: readonly string[], cwd: string, problems: Problem[]): string[] {
  const roots = paths.length > 0 ? paths : [REQUESTS_DIR];
  const files = new Set<string>();
  for (const root of roots) {
    const absolute = resolve(cwd, root);
    const shown = displayPath(absolute, cwd);
    if (!existsSync(absolute)) {
      problems.push({ file: shown, line: 1, column: 1, severity: "error", message: "no such file or directory" });
      continue;
    }
    const found = statSync(absolute).isDirectory() ? walk(absolute).filter((file) => /\.ya?ml$/.test(file)) : [absolute];
    for (const file of found) {
      const display = displayPath(file, cwd);
      if (isRequestFilePath(display)) files.add(display);
      else {
        problems.push({
          file: display,
          line: 1,
          column: 1,
          severity: "error",
          message: `is not a request file: requests are .yaml or .yml files under ${REQUESTS_DIR} at the repository root`,
        });
      }
    }
  }
  return [...files].sort();
}

function walk(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.isFile() ? [path] : [];
    });
}

/** Repo-relative with forward slashes: the form request paths have on GitHub. */
function displayPath(absolute: string, cwd: string): string {
  return relative(cwd, absolute).split(sep).join("/");
}
