/**
 * The verdict on one merged pull request with 20 request files, 10 reviews and 3 team owners,
 * through the app (Probot's webhook pipeline, the real Octokit) against a zero-latency GitHub
 * stub, recorded in PostgreSQL. Reports the handler time and every GitHub call one merge makes:
 * none may repeat, and each team membership is asked once per verdict, not once per file.
 */
import { performance } from "node:perf_hooks";
import { FakeGitHub } from "../test/support/fake-github.js";
import { benchApp } from "./support/app.js";
import { pullRequestMergedEvent } from "../test/support/payloads.js";
import { benchDatabase } from "./support/database.js";
import { summarize, type BenchResult } from "./stats.js";

const FILES = 20;
const REVIEWERS = 10;
const TEAMS = ["platform", "security", "sre"];
const ITERATIONS = 60;
const WARMUP = 10;

export async function benchMergeVerdict(): Promise<BenchResult> {
  const database = await benchDatabase("merge_verdict");
  const base = "b".repeat(40);
  const head = "a".repeat(40);
  const github = new FakeGitHub();
  github.setFile(base, ".github/jitsudo.yml", 'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n    approvals: 2\n');
  github.setFile(base, ".github/CODEOWNERS", `/access-requests/ ${TEAMS.map((team) => `@acme/${team}`).join(" ")}\n`);
  const paths = Array.from({ length: FILES }, (_, index) => `access-requests/team/request-${index}.yaml`);
  for (const [index, path] of paths.entries()) {
    github.setFile(head, path, `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate incident ${index} in production"\n`);
  }
  const reviewers = Array.from({ length: REVIEWERS }, (_, index) => `reviewer-${index}`);
  for (const [index, login] of reviewers.entries()) {
    github.teamMembers.set(`acme/${TEAMS[index % TEAMS.length]}:${login}`, "active");
    github.permissions.set(login, "write");
  }
  github.reviews.set(7, reviewers.map((login) => ({ login, state: "APPROVED" as const, commitId: head })));
  github.commits.set(7, [{ sha: head, author: "alice", committer: "alice" }]);
  github.addPull({ number: 7, headSha: head, baseSha: base, baseRef: "main", author: "alice", state: "closed", files: paths.map((filename) => ({ filename, status: "added" })) });
  const app = await benchApp(github, { db: database.db });

  const times: number[] = [];
  let calls: string[] = [];
  try {
    for (let iteration = 0; iteration < WARMUP + ITERATIONS; iteration++) {
      // Each iteration is a new merge of the same pull request content: a new verdict, not a redelivery.
      const merge = iteration.toString(16).padStart(4, "0").padEnd(40, "e");
      for (const path of paths) github.setFile(merge, path, github.trees.get(head)!.get(path)!);
      github.parents.set(merge, [base, head]);
      github.calls.length = 0;
      const payload = pullRequestMergedEvent({ number: 7, headSha: head, baseSha: base, author: "alice", mergeCommitSha: merge });
      const started = performance.now();
      await app.receive("pull_request", payload);
      const elapsed = performance.now() - started;
      if (iteration >= WARMUP) times.push(elapsed);
      calls = github.callLines().filter((line) => !line.endsWith("/access_tokens"));
    }
    const granted = Number((await database.db("grants").where({ merge_commit_sha: (WARMUP + ITERATIONS - 1).toString(16).padStart(4, "0").padEnd(40, "e") }).count({ n: "*" }))[0]!.n);
    if (granted !== FILES) throw new Error(`the benchmark's merge granted ${granted} of ${FILES} files: the scenario is wrong`);
  } finally {
    app.stop();
    await database.close();
  }
  const memberships = calls.filter((line) => line.includes("/memberships/"));
  return {
    name: `merge verdict: ${FILES} request files, ${REVIEWERS} reviews, ${TEAMS.length} team owners, zero-latency GitHub stub, recorded in PostgreSQL`,
    figures: {
      handler_ms: summarize(times),
      github_calls_per_merge: calls.length,
      repeated_calls: calls.length - new Set(calls).size,
      team_membership_calls: memberships.length,
      github_calls: summarizeCalls(calls),
    },
    target: "no GitHub call repeated; team memberships asked once per verdict",
  };
}

/** `GET /orgs/acme/teams/platform/memberships/reviewer-0` ×30 → one line per route shape. */
function summarizeCalls(calls: readonly string[]): string {
  const shapes = new Map<string, number>();
  for (const call of calls) {
    const shape = call.replace(/\/memberships\/[^/?]+/, "/memberships/{login}").replace(/\/collaborators\/[^/]+/, "/collaborators/{login}").replace(/\/teams\/[^/]+/, "/teams/{team}");
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  return [...shapes].map(([shape, count]) => (count > 1 ? `${shape} ×${count}` : shape)).join(", ");
}
