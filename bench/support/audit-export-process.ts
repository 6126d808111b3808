/**
 * One `jitsudo audit export … --output <file>` in a process of its own, as an operator runs it,
 * watched from inside: every 20 ms its resident set size (process.memoryUsage().rss) and how much
 * of the file is written; every 2 s, with --expose-gc, the live heap after a full collection.
 * Prints one JSON line for bench/audit-export.bench.ts. Reads DATABASE_URL and DATABASE_SCHEMA.
 */
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { auditCommand } from "../../src/cli/audit.js";

const [format = "jsonl", path = "events.jsonl"] = process.argv.slice(2);
const collect = (globalThis as { gc?: () => void }).gc;
const samples: { bytes: number; rss: number }[] = [];
let liveHeapMax = 0;
let ticks = 0;

const sample = () => {
  let bytes = 0;
  try {
    bytes = statSync(path).size;
  } catch {
    // Not created yet.
  }
  samples.push({ bytes, rss: process.memoryUsage().rss });
};
const live = () => {
  collect?.();
  liveHeapMax = Math.max(liveHeapMax, process.memoryUsage().heapUsed);
};

sample();
const timer = setInterval(() => {
  sample();
  if (++ticks % 100 === 0) live();
}, 20);
const started = performance.now();
const code = await auditCommand(["export", "--since", "1970-01-01", "--format", format, "--output", path], {
  env: process.env,
  stdout: process.stdout,
  stderr: (line) => process.stderr.write(`${line}\n`),
});
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
sample();
live();
process.stdout.write(`${JSON.stringify({ code, seconds, samples, liveHeapMax })}\n`);
