/**
 * One `pull_request.synchronize` carrying 50 request files through the app (Probot's webhook
 * pipeline, the real Octokit) against a zero-latency GitHub stub intercepted at HTTP. Reports the
 * handler time and the GitHub API calls one event makes.
 */
import { performance } from "node:perf_hooks";
import { FakeGitHub } from "../test/support/fake-github.js";
import { benchApp } from "./support/app.js";
import { pullRequestEvent } from "../test/support/payloads.js";
import { summarize, type BenchResult } from "./stats.js";

const FILES = 50;
const ITERATIONS = 200;
const WARMUP = 20;

export async function benchPullRequest(): Promise<BenchResult> {
  const base = "b".repeat(40);
  const head = "a".repeat(40);
  const github = new FakeGitHub();
  github.setFile(base, ".github/jitsudo.yml", "rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: [\"*\"]\n    max_duration: 8h\n");
  github.setFile(base, ".github/CODEOWNERS", "/access-requests/ @bob @acme/platform\n");
  const files = [];
  for (let index = 0; index < FILES; index++) {
    const path = `access-requests/team/request-${index}.yaml`;
    github.setFile(head, path, `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate incident ${index} in production"\n`);
    files.push({ filename: path, status: "added" });
  }
  github.addPull({ number: 7, headSha: head, baseSha: base, baseRef: "main", author: "alice", state: "open", files });
  const app = await benchApp(github);
  const payload = pullRequestEvent("synchronize", { number: 7, headSha: head, baseSha: base, author: "alice" });

  const times: number[] = [];
  let callsPerEvent = 0;
  let callList: string[] = [];
  for (let iteration = 0; iteration < WARMUP + ITERATIONS; iteration++) {
    github.calls.length = 0;
    const started = performance.now();
    await app.receive("pull_request", payload);
    const elapsed = performance.now() - started;
    if (iteration >= WARMUP) {
      times.push(elapsed);
      callsPerEvent = github.calls.length;
      callList = github.callLines();
    }
  }
  app.stop();
  return {
    name: `pull_request.synchronize with ${FILES} request files, zero-latency GitHub stub`,
    figures: {
      handler_ms: summarize(times),
      github_calls_per_event: callsPerEvent,
      github_calls: callList.join(", "),
    },
    target: "p95 < 100 ms; no per-file GitHub call",
  };
}
