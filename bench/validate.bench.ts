/**
 * `jitsudo validate` over 1,000 generated request files, timed as users run it: a fresh process of
 * the built CLI (`node dist/cli.js validate`). Target: under 1 s wall on a 2-core machine.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, copyFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { summarize, type BenchResult } from "./stats.js";

const FILES = 1000;
const RUNS = 7;

export function benchValidate(): BenchResult {
  const root = mkdtempSync(join(tmpdir(), "jitsudo-bench-validate-"));
  try {
    mkdirSync(join(root, ".github"));
    copyFileSync(resolve(".github/jitsudo.yml"), join(root, ".github/jitsudo.yml"));
    for (let index = 0; index < FILES; index++) {
      const team = `team-${index % 20}`;
      mkdirSync(join(root, "access-requests", team), { recursive: true });
      const admin = index % 3 === 0;
      writeFileSync(
        join(root, "access-requests", team, `request-${index}.yaml`),
        [
          `# request ${index}`,
          `account: "123456789012"`,
          `permission_set: ${admin ? "AdministratorAccess" : "ReadOnlyAccess"}`,
          `duration: ${admin ? "1h30m" : "4h"}`,
          `reason: "Investigate incident number ${index} in production"`,
          ...(admin ? [`ticket: INC-${index}`] : []),
          "",
        ].join("\n"),
      );
    }
    const cli = resolve("dist/cli.js");
    const wall: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const started = performance.now();
      execFileSync(process.execPath, [cli, "validate"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
      if (run > 0) wall.push(performance.now() - started); // run 0 warms the file cache
    }
    return { name: `jitsudo validate, ${FILES} files (fresh process)`, figures: { wall_ms: summarize(wall) }, target: "p50 < 1000 ms" };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
