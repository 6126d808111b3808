/**
 * The verdict on one merged pull request with 20 request files, 10 reviews and 3 team owners,
 * through the app (Probot's webhook pipeline, the real Octokit) against the zero-latency local
 * GitHub, recorded in PostgreSQL. Reports the handler time and every GitHub call one merge makes:
 * none may repeat, and each team membership is asked once per verdict, not once per file.
 */
import { performance } from "node:perf_hooks";
import { FakeGitHub } from "../test/support/fake-github.js";
import { benchApp } from "./support/app.js";
import { benchDatabase } from "./support/database.js";
import { summarize, type BenchResult } from "./stats.js";

const FILES = 20;
const REVIEWERS = 10;
const TEAMS = ["platform", "security", "sre"];
const ITERATIONS = 60;
const WARMUP = 10;

export async function benchMergeVerdict(): Promise<BenchResult> {
  const database = await benchDatabase("merge_verdict");
  const github = new FakeGitHub();
  const repo = github.repo;
  const reviewers = Array.from({ length: REVIEWERS }, (_, index) => `reviewer-${index}`);
  repo.setPermission("alice", "write");
  for (const [index, login] of reviewers.entries()) {
    github.setTeamMembership("acme", TEAMS[index % TEAMS.length]!, login, "active");
    repo.setPermission(login, "write");
  }
  for (const team of TEAMS) github.grantTeam("acme", team, repo, "write");
  repo.commit("main", {
    files: {
      ".github/jitsudo.yml": 'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n    approvals: 2\n',
      ".github/CODEOWNERS": `/access-requests/ ${TEAMS.map((team) => `@acme/${team}`).join(" ")}\n`,
    },
    author: "Codertocat",
  });
  const app = await benchApp(github, { db: database.db });

  /** One pull request adding FILES request files, approved by every reviewer and merged; returns the merge webhook. */
  const mergedPullRequest = (iteration: number) => {
    const branch = `alice/batch-${iteration}`;
    repo.createBranch(branch, "main", "alice");
    const files = Object.fromEntries(
      Array.from({ length: FILES }, (_, index) => [
        `access-requests/team/request-${iteration}-${index}.yaml`,
        `account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate incident ${index} in production"\n`,
      ]),
    );
    repo.commit(branch, { files, author: "alice" });
    const number = repo.openPull({ head: branch, author: "alice" });
    for (const login of reviewers) repo.review(number, login, "APPROVED");
    return repo.merge(number, { by: reviewers[0]! });
  };

  const times: number[] = [];
  let calls: string[] = [];
  /** The same calls with GraphQL queries told apart by their body: a repeat is the same request twice. */
  let requests: string[] = [];
  let lastMerge = "";
  try {
    for (let iteration = 0; iteration < WARMUP + ITERATIONS; iteration++) {
      // Each iteration is a new merged pull request of the same shape: a new verdict, not a redelivery.
      const merged = mergedPullRequest(iteration);
      lastMerge = merged.sha;
      github.calls.length = 0;
      const started = performance.now();
      await app.receive("pull_request", merged.closed);
      const elapsed = performance.now() - started;
      if (iteration >= WARMUP) times.push(elapsed);
      calls = github.callLines().filter((line) => !line.endsWith("/access_tokens"));
      requests = github.calls
        .filter((call) => !call.path.endsWith("/access_tokens"))
        .map((call) => `${call.method} ${call.path} ${call.path.endsWith("graphql") ? JSON.stringify(call.body) : ""}`);
    }
    const granted = Number((await database.db("grants").where({ merge_commit_sha: lastMerge }).count({ n: "*" }))[0]!.n);
    if (granted !== FILES) throw new Error(`the benchmark's merge granted ${granted} of ${FILES} files: the scenario is wrong`);
  } finally {
    await app.stop();
    await database.close();
  }
  const memberships = calls.filter((line) => line.includes("/memberships/"));
  return {
    name: `merge verdict: ${FILES} request files, ${REVIEWERS} reviews, ${TEAMS.length} team owners, zero-latency local GitHub, recorded in PostgreSQL`,
    figures: {
      handler_ms: summarize(times),
      github_calls_per_merge: calls.length,
      repeated_calls: requests.length - new Set(requests).size,
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
    const shape = call
      .replace(/\/memberships\/[^/?]+/, "/memberships/{login}")
      .replace(/\/collaborators\/[^/]+/, "/collaborators/{login}")
      .replace(/\/teams\/[^/]+/, "/teams/{team}");
    shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
  }
  return [...shapes].map(([shape, count]) => (count > 1 ? `${shape} ×${count}` : shape)).join(", ");
}
