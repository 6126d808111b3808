/**
 * One `pull_request.synchronize` carrying 50 request files through the app (Probot's webhook
 * pipeline, the real Octokit) against the zero-latency local GitHub intercepted at HTTP. Reports the
 * handler time and the GitHub API calls one event makes.
 */
import { performance } from "node:perf_hooks";
import { FakeGitHub } from "../test/support/fake-github.js";
import { benchApp } from "./support/app.js";
import { summarize, type BenchResult } from "./stats.js";

const FILES = 50;
const ITERATIONS = 200;
const WARMUP = 20;

export async function benchPullRequest(): Promise<BenchResult> {
  const github = new FakeGitHub();
  const repo = github.repo;
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  github.grantTeam("acme", "platform", repo, "write");
  repo.commit("main", {
    files: {
      ".github/jitsudo.yml": 'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n',
      ".github/CODEOWNERS": "/access-requests/ @bob @acme/platform\n",
    },
    author: "Codertocat",
  });
  repo.createBranch("alice/batch", "main", "alice");
  const files: Record<string, string> = {};
  for (let index = 0; index < FILES; index++) {
    files[`access-requests/team/request-${index}.yaml`] =
      `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate incident ${index} in production"\n`;
  }
  repo.commit("alice/batch", { files, author: "alice" });
  repo.openPull({ head: "alice/batch", author: "alice" });
  // One more push: the synchronize webhook the benchmark replays.
  repo.commit("alice/batch", { files: { "docs/notes.md": "batch of requests\n" }, author: "alice" });
  const payload = github.lastWebhook("pull_request.synchronize");
  const app = await benchApp(github);

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
  await app.stop();
  return {
    name: `pull_request.synchronize with ${FILES} request files, zero-latency local GitHub`,
    figures: {
      handler_ms: summarize(times),
      github_calls_per_event: callsPerEvent,
      github_calls: callList.join(", "),
    },
    target: "p95 < 100 ms; no per-file GitHub call",
  };
}
