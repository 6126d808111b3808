#!/usr/bin/env node
/**
 * The `jitsudo` command. Each sub-command loads only what it needs, so `jitsudo validate` in a
 * pre-commit hook or CI starts in milliseconds without Probot, knex or the AWS SDK.
 */
import process, { argv, cwd, exit, stderr, stdout } from "node:process";

const USAGE = `usage: jitsudo <command>

  validate [paths…]   check access-request files (default: everything under access-requests/)
  request             write an access request, checked against the default branch's policy ('jitsudo request --help')
  rules               what you (or --login) may request, and with how many approvals
  start               server and worker in one process (embedded PostgreSQL when DATABASE_URL is unset)
  server              the GitHub App webhook server (and the HTTP API)
  worker              provision, expire and reconcile grants (needs IC_INSTANCE_ARN and AWS_REGION)
  migrate             apply database migrations
  audit export|verify export the grant events (jsonl, csv), or check their hash chains ('jitsudo audit --help')

Run 'jitsudo validate --help' for its options.`;

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case "validate": {
      if (rest.includes("--help") || rest.includes("-h")) {
        stdout.write("usage: jitsudo validate [paths…] [--config .github/jitsudo.yml] [--requester <github login>] [--format text|json]\n");
        return 0;
      }
      const { validateCommand } = await import("./cli/validate.js");
      return validateCommand(rest, {
        cwd: cwd(),
        stdout: (line) => stdout.write(`${line}\n`),
        stderr: (line) => stderr.write(`${line}\n`),
        now: () => new Date(),
      });
    }
    case "request":
    case "rules": {
      const io = {
        cwd: cwd(),
        env: process.env,
        stdout: (line: string) => stdout.write(`${line}\n`),
        stderr: (line: string) => stderr.write(`${line}\n`),
        now: () => new Date(),
      };
      if (command === "request") return (await import("./cli/request.js")).requestCommand(rest, io);
      return (await import("./cli/rules.js")).rulesCommand(rest, io);
    }
    case "start":
    case "server":
    case "worker":
    case "migrate": {
      const { runService } = await import("./cli/service.js");
      return runService(command);
    }
    case "audit": {
      const { runAudit } = await import("./cli/audit.js");
      return runAudit(rest);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      stderr.write(`jitsudo: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(argv.slice(2)).then(
  (code) => {
    // exitCode, not exit(): output still queued for a pipe must not be cut off. Services keep
    // the event loop alive themselves and resolve with -1.
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    stderr.write(`jitsudo: ${error instanceof Error ? error.message : String(error)}\n`);
    exit(1);
  },
);
