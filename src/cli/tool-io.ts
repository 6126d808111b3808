/**
 * What `jitsudo request` and `jitsudo rules` need from the process around them, passed in so that
 * tests run them in-process: the working directory, the environment (GITHUB_TOKEN, GHE_HOST,
 * PATH for git and gh), output, the clock, and running git or gh there.
 */
import { spawnSync } from "node:child_process";
import { delimiter, join } from "node:path";
import { existsSync } from "node:fs";
import type { CommandIo } from "./validate.js";

export interface ToolIo extends CommandIo {
  env: Readonly<Record<string, string | undefined>>;
}

/** A command's exit code; its message says what to change. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ProgramResult {
  ok: boolean;
  stdout: Buffer;
  /** Kept for our own messages about git; never printed for gh (it may hold account details). */
  stderr: string;
}

/** Runs `program` in `cwd` (default: the working directory) with the given environment; never a shell. */
export function runProgram(io: ToolIo, program: string, args: readonly string[], cwd = io.cwd): ProgramResult {
  const result = spawnSync(program, args, { cwd, env: { ...io.env }, maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "pipe"] });
  return {
    ok: result.error === undefined && result.status === 0,
    stdout: result.stdout ?? Buffer.alloc(0),
    stderr: result.stderr?.toString("utf8").trim() ?? "",
  };
}

/** Whether `program` is an executable file in one of PATH's directories. */
export function onPath(io: ToolIo, program: string): boolean {
  return (io.env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .some((directory) => existsSync(join(directory, program)));
}

/** `git <args>` in `cwd`, its output as trimmed text; undefined when git fails (not a clone, no such ref). */
export function git(io: ToolIo, args: readonly string[], cwd = io.cwd): string | undefined {
  const result = runProgram(io, "git", args, cwd);
  return result.ok ? result.stdout.toString("utf8").trim() : undefined;
}
