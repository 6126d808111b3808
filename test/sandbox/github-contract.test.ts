/**
 * The local GitHub, checked against GitHub's own published descriptions of its API. Representative
 * flows (each merge method, a retarget, reviews before and after a merge, a second repository and
 * installation, more than 3000 files and 250 commits, symbolic links and submodules, activity
 * paging, CODEOWNERS errors, comments, check runs, reactions) run through the app's real gateway
 * and through Octokit; then every REST answer recorded is validated against the OpenAPI response
 * schema of its path, method and status, every webhook payload sent against its event schema, and
 * every GraphQL query received against GitHub's GraphQL schema.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeGitHub } from "../support/fake-github.js";
import { checkGraphqlQuery, checkRestCall, checkWebhook } from "../support/github-contract.js";
import {
  CODEOWNERS,
  exerciseGateway,
  exerciseVerdictEndpoints,
  openRequest,
  request,
  seedAccessRepository,
  startFlows,
  type Flows,
} from "../support/github-flows.js";
import type { RecordedCall, Repository } from "../../src/sandbox/github.js";
import { Octokit } from "@octokit/rest";

async function mergeMethods(flows: Flows, repo: Repository): Promise<void> {
  const merged = openRequest(repo, "alice/merge", { "access-requests/alice.yaml": request("merge commit") });
  repo.review(merged, "mallory", "CHANGES_REQUESTED");
  repo.review(merged, "bob", "APPROVED");
  repo.review(merged, "carol", "COMMENTED");
  await exerciseGateway(flows, repo, merged);
  const { sha } = repo.merge(merged, { method: "merge", by: "bob" });
  repo.review(merged, "carol", "APPROVED"); // after the merge: GitHub accepts it
  const gateway = flows.gateway(repo);
  await gateway.listReviews(merged);
  await gateway.commitParents(sha);
  await gateway.pullRequestsForCommit(sha);

  const squashed = openRequest(repo, "alice/squash", { "access-requests/alice-2.yaml": request("squash") });
  repo.commit("alice/squash", { files: { "access-requests/alice-2.yaml": request("squash, second try") }, author: "alice" });
  repo.review(squashed, "bob", "APPROVED");
  repo.merge(squashed, { method: "squash", by: "bob" });
  await exerciseGateway(flows, repo, squashed);

  // The rulebook's rebase attack: one commit edits CODEOWNERS, a later one reverts it; main moved meanwhile.
  const rebased = openRequest(repo, "alice/rebase", {
    "access-requests/alice-3.yaml": request("rebase"),
    ".github/CODEOWNERS": "* @alice\n",
  });
  repo.directPush("main", { "README.md": "# Access, busy day\n" }, "bob");
  repo.commit("alice/rebase", { files: {}, author: "alice", mergeFrom: "main" });
  repo.commit("alice/rebase", { files: { ".github/CODEOWNERS": CODEOWNERS }, author: "alice" });
  repo.review(rebased, "bob", "APPROVED");
  const base = repo.branch("main")!;
  repo.merge(rebased, { method: "rebase", by: "bob" });
  await exerciseGateway(flows, repo, rebased);
  await exerciseVerdictEndpoints(flows, repo, rebased, base);
  await gateway.closedPullRequestsSince(new Date(0), 5);
}

async function retargetAndForcePush(flows: Flows, repo: Repository): Promise<void> {
  repo.createBranch("release", "main");
  const number = openRequest(repo, "alice/release", { "access-requests/alice-4.yaml": request("retarget") }, "release");
  repo.review(number, "bob", "APPROVED");
  repo.commit("release", { files: { "RELEASE.md": "1.0\n" }, author: "bob" });
  repo.push("release", repo.pull(number).baseSha, { force: true, pusher: "bob" });
  repo.retarget(number, "main", "alice");
  await exerciseVerdictEndpoints(flows, repo, number, repo.branch("main")!);
  repo.merge(number, { method: "merge", by: "bob" });
}

async function moreRepositoriesAndInstallations(flows: Flows): Promise<void> {
  const { github } = flows;
  const second = github.createRepository({ owner: "Codertocat", name: "second-access" });
  seedAccessRepository(github, second);
  const number = openRequest(second, "alice/second", { "access-requests/alice.yaml": request("second repository") });
  await exerciseGateway(flows, second, number);
  await flows.octokit.paginate("GET /installation/repositories", { per_page: 1 });
  github.createInstallation({ account: "other-org", id: 2 });
  const third = github.createRepository({ owner: "other-org", name: "Access", installationId: 2, private: true });
  third.commit("main", { files: { "README.md": "# Other\n" }, author: "other-org" });
  await flows.app.paginate("GET /app/installations", { per_page: 1 });
  await flows.app.request("GET /app");
  // The app's webhook deliveries: one that failed to connect, one answered; listed, read and redelivered.
  github.hook.configure("http://127.0.0.1:9", "secret");
  const failed = await github.hook.send({
    name: "push",
    payload: { ref: "refs/heads/main", repository: { id: second.id }, installation: { id: 1 } },
  });
  await github.hook.send({ name: "push", payload: { ref: "refs/heads/main", repository: { id: second.id }, installation: { id: 1 } } });
  await flows.app.paginate("GET /app/hook/deliveries", { per_page: 1 });
  await flows.app.request("GET /app/hook/deliveries/{delivery_id}", { delivery_id: failed.id });
  await flows.app.request("POST /app/hook/deliveries/{delivery_id}/attempts", { delivery_id: failed.id });
  await github.hook.settled();
  // Installation 1's token cannot see installation 2's repository, however it is spelled.
  await expect(
    flows.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner: "OTHER-ORG", repo: "access", pull_number: 1 }),
  ).rejects.toMatchObject({ status: 404 });
  // Installation 2 sees its own repository, which has no CODEOWNERS: 404.
  const other = await flows.installation(2);
  await other.paginate("GET /installation/repositories", { per_page: 100 });
  // A team of its own organisation (require_owners asks whether it exists); a renamed one is 404, as is another organisation's.
  github.setTeamMembership("other-org", "oncall", "bob", "active");
  github.setTeamMembership("other-org", "oncall", "carol", "pending");
  await other.request("GET /orgs/{org}/teams/{team_slug}", { org: "other-org", team_slug: "oncall" });
  github.renameTeam("other-org", "oncall", "on-call");
  await expect(other.request("GET /orgs/{org}/teams/{team_slug}", { org: "other-org", team_slug: "oncall" })).rejects.toMatchObject({
    status: 404,
  });
  await other.request("GET /orgs/{org}/teams/{team_slug}", { org: "other-org", team_slug: "on-call" });
  // Nested teams: the parent lists its child, and counts the child's member as its own (GitHub: "Team
  // members will include the members of child teams").
  expect((await other.request("GET /orgs/{org}/teams/{team_slug}/teams", { org: "other-org", team_slug: "on-call" })).data).toEqual([]);
  github.nestTeam("other-org", "on-call-contractors", "on-call");
  github.setTeamMembership("other-org", "on-call-contractors", "dave", "active");
  const children = await other.request("GET /orgs/{org}/teams/{team_slug}/teams", { org: "other-org", team_slug: "on-call", per_page: 1 });
  expect(children.data.map((team) => team.slug)).toEqual(["on-call-contractors"]);
  const inherited = await other.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", {
    org: "other-org",
    team_slug: "on-call",
    username: "dave",
  });
  expect(inherited.data.state).toBe("active");
  const child = await other.request("GET /orgs/{org}/teams/{team_slug}", { org: "other-org", team_slug: "on-call-contractors" });
  expect(child.data.parent?.slug).toBe("on-call");
  github.nestTeam("other-org", "on-call-contractors", null);
  await expect(
    flows.octokit.request("GET /orgs/{org}/teams/{team_slug}", { org: "other-org", team_slug: "on-call" }),
  ).rejects.toMatchObject({
    status: 404,
  });
  await expect(
    other.request("GET /repos/{owner}/{repo}/codeowners/errors", { owner: "other-org", repo: "access", ref: "main" }),
  ).rejects.toMatchObject({ status: 404 });
}

async function largePullRequests(flows: Flows, repo: Repository): Promise<void> {
  const files = Object.fromEntries(
    Array.from({ length: 3001 }, (_, index) => [`docs/page-${String(index).padStart(4, "0")}.md`, `page ${index}\n`]),
  );
  const wide = openRequest(repo, "alice/wide", files);
  const gateway = flows.gateway(repo);
  await gateway.listPullRequestFiles(wide);
  await gateway.getPullRequest(wide);
  repo.createBranch("alice/long", "main", "alice");
  for (let index = 0; index < 251; index++)
    repo.commit("alice/long", { files: { "docs/log.md": `entry ${index}\n` }, author: index % 2 ? "alice" : null, pusher: "alice" });
  const long = repo.openPull({ head: "alice/long", author: "alice" });
  await gateway.listPullRequestCommits(long);
  await gateway.getPullRequest(long);
}

async function linksSubmodulesCodeownersAndMore(flows: Flows, repo: Repository): Promise<void> {
  const latin1 = Uint8Array.from([...new TextEncoder().encode('reason: "caf'), 0xe9, 0x22, 0x0a]);
  const odd = openRequest(repo, "alice/odd", {
    "access-requests/link.yaml": { symlink: "../README.md" },
    "access-requests/vendor": { submodule: "a".repeat(40) },
    "access-requests/latin1.yaml": latin1,
    "bin/run": { executable: "#!/bin/sh\n" },
  });
  await exerciseGateway(flows, repo, odd);
  await exerciseVerdictEndpoints(flows, repo, odd, repo.pull(odd).headSha);
  repo.createBranch("codeowners-lab", "main");
  repo.commit("codeowners-lab", {
    files: {
      ".github/CODEOWNERS":
        "!/docs/ @bob\n/a[bc]/ @bob\n\\#x @bob\n/access-requests/ @nobody @acme/readers @acme/platform bob@example.com\n",
    },
    author: repo.owner,
  });
  flows.github.grantTeam("acme", "readers", repo, "read");
  repo.injectedCodeownersErrors.push({ line: 4, kind: "Unknown owner", message: "injected for the test" });
  await flows.octokit.request("GET /repos/{owner}/{repo}/codeowners/errors", { owner: repo.owner, repo: repo.name, ref: "codeowners-lab" });
  const { owner, name } = repo;
  const first = await flows.octokit.request("GET /repos/{owner}/{repo}/activity", { owner, repo: name, per_page: 2 });
  const next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? "")![1]!;
  const second = await flows.octokit.request(`GET ${next}`);
  const back = /[?&]before=([^&>]+)/.exec(second.headers.link ?? "")![1]!;
  await flows.octokit.request("GET /repos/{owner}/{repo}/activity", { owner, repo: name, per_page: 2, before: decodeURIComponent(back) });
  await flows.octokit.request("GET /repos/{owner}/{repo}/activity", {
    owner,
    repo: name,
    direction: "asc",
    ref: "refs/heads/main",
    actor: "bob",
    time_period: "day",
  });
  repo.conversation.comment(odd, "carol", "Why a symlink?");
  await flows.octokit.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    owner,
    repo: name,
    issue_number: odd,
    per_page: 1,
  });
  const annotations = Array.from({ length: 51 }, () => ({
    path: "README.md",
    start_line: 1,
    end_line: 1,
    annotation_level: "notice" as const,
    message: "too many",
  }));
  await expect(
    flows.octokit.rest.checks.create({
      owner,
      repo: name,
      name: "jitsudo",
      head_sha: repo.pull(odd).headSha,
      output: { title: "t", summary: "s", annotations },
    }),
  ).rejects.toMatchObject({ status: 422 });
  const review = repo.review(odd, "bob", "APPROVED");
  repo.dismissReview(odd, review, "Codertocat");
  repo.conversation.rerequestCheckRun(repo.conversation.checkRuns.at(-1)!.id, "alice");
  repo.closePull(odd, "alice");
  repo.reopenPull(odd, "alice");
}

/**
 * What `jitsudo request --open-pr` and `jitsudo rules` do with a person's own token, through
 * @octokit/rest: who am I, the repository, its contents (a file, directories, links, a submodule,
 * one too large, one missing), a branch, a file committed and replaced, a pull request; and what a
 * person without push access, the app's installation token and a token GitHub never issued get.
 */
async function peopleWithTheirTokens(flows: Flows): Promise<void> {
  const { github } = flows;
  const repo = github.createRepository({ owner: "Codertocat", name: "people", private: true });
  seedAccessRepository(github, repo);
  repo.setPermission("dave", "read");
  repo.commit("main", {
    files: {
      "docs/big.bin": new Uint8Array(1024 * 1024 + 1),
      "docs/readme-link.md": { symlink: "../README.md" },
      "docs/dangling": { symlink: "../nowhere" },
      "vendor/lib": { submodule: "a".repeat(40) },
      ".gitmodules": '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://github.com/acme/lib.git\n',
    },
    author: repo.owner,
  });
  const owner = repo.owner;
  const name = repo.name;
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const as = (login: string) => new Octokit({ auth: github.issuePersonToken(login), log: quiet });
  const alice = as("alice");
  await alice.rest.users.getAuthenticated();
  await alice.rest.repos.get({ owner, repo: name });
  const { data: main } = await alice.rest.git.getRef({ owner, repo: name, ref: "heads/main" });
  for (const path of ["README.md", "docs", "docs/readme-link.md", "docs/dangling", "vendor/lib"])
    await alice.rest.repos.getContent({ owner, repo: name, path, ref: main.object.sha });
  await expect(alice.rest.repos.getContent({ owner, repo: name, path: "docs/big.bin" })).rejects.toMatchObject({ status: 403 });
  await expect(alice.rest.repos.getContent({ owner, repo: name, path: "nothing.md" })).rejects.toMatchObject({ status: 404 });
  await alice.rest.git.createRef({ owner, repo: name, ref: "refs/heads/alice/people", sha: main.object.sha });
  await expect(alice.rest.git.createRef({ owner, repo: name, ref: "refs/heads/alice/people", sha: main.object.sha })).rejects.toMatchObject(
    {
      status: 422,
    },
  );
  const file = { owner, repo: name, path: "access-requests/alice.yaml", branch: "alice/people" };
  const created = await alice.rest.repos.createOrUpdateFileContents({
    ...file,
    message: "Ask",
    content: Buffer.from(request("people")).toString("base64"),
  });
  const content = Buffer.from(request("people, again")).toString("base64");
  await expect(alice.rest.repos.createOrUpdateFileContents({ ...file, message: "Again", content })).rejects.toMatchObject({ status: 422 });
  await alice.rest.repos.createOrUpdateFileContents({ ...file, message: "Again", content, sha: created.data.content!.sha! });
  await alice.rest.pulls.create({ owner, repo: name, title: "Ask", head: "alice/people", base: "main", body: "Please" });
  await expect(alice.rest.pulls.create({ owner, repo: name, title: "Ask", head: "alice/people", base: "main" })).rejects.toMatchObject({
    status: 422,
  });
  // dave may read, not push; erin cannot see the private repository at all.
  const dave = as("dave");
  await dave.rest.repos.get({ owner, repo: name });
  await expect(dave.rest.git.createRef({ owner, repo: name, ref: "refs/heads/dave", sha: main.object.sha })).rejects.toMatchObject({
    status: 404,
  });
  await expect(as("erin").rest.repos.get({ owner, repo: name })).rejects.toMatchObject({ status: 404 });
  // The app's installation token is no person, and may not write contents.
  await expect(flows.octokit.request("GET /user")).rejects.toMatchObject({ status: 403 });
  await expect(
    flows.octokit.request("POST /repos/{owner}/{repo}/git/refs", { owner, repo: name, ref: "refs/heads/app", sha: main.object.sha }),
  ).rejects.toMatchObject({ status: 403 });
  await expect(new Octokit({ auth: "ghp_never_issued", log: quiet }).rest.users.getAuthenticated()).rejects.toMatchObject({ status: 401 });
}

/**
 * Two narrow exceptions, where GitHub's description does not cover what GitHub does:
 * - Error answers GitHub gives but does not list for an operation (POST check-runs with more than
 *   50 annotations: the Checks API documents the limit, the OpenAPI description only the 201) are
 *   checked against GitHub's generic `basic-error` shape.
 * - GitHub's description of GET /app/installations says an installation's `account` is allOf(Simple
 * User, Enterprise): both at once, which no account is (GET /app/installations/{id} says anyOf).
 * Those entries are checked against the `installation` schema instead.
 */
function checkAnswer(call: RecordedCall) {
  const check = checkRestCall(call);
  if (call.status >= 400 && check.problems.length === 1 && check.problems[0]!.startsWith(`GitHub documents no ${call.status} answer`)) {
    return {
      ...check,
      problems: checkRestCall({ method: "GET", path: "/repos/o/r/pulls/1", status: 404, response: call.response }).problems,
    };
  }
  if (call.method === "GET" && call.path.startsWith("/app/installations?") && Array.isArray(call.response)) {
    const problems = call.response.flatMap(
      (entry) => checkRestCall({ method: "GET", path: "/app/installations/1", status: 200, response: entry }).problems,
    );
    return { call: `${call.method} ${call.path}`, problems };
  }
  return check;
}

describe("the local GitHub against GitHub's published descriptions", () => {
  let flows: Flows;
  beforeAll(async () => {
    flows = await startFlows();
    const repo = flows.github.repo;
    seedAccessRepository(flows.github, repo);
    await mergeMethods(flows, repo);
    await retargetAndForcePush(flows, repo);
    await moreRepositoriesAndInstallations(flows);
    await largePullRequests(flows, repo);
    await linksSubmodulesCodeownersAndMore(flows, repo);
    await peopleWithTheirTokens(flows);
  }, 120_000);
  afterAll(() => flows.stop());

  const restCalls = () => flows.github.calls.filter((call) => call.path !== flows.github.graphqlPath);
  const graphqlCalls = () => flows.github.calls.filter((call) => call.path === flows.github.graphqlPath);

  it("answers every REST call the way GitHub's OpenAPI description says", () => {
    const failures = restCalls()
      .map(checkAnswer)
      .filter((check) => check.problems.length > 0);
    expect(failures).toEqual([]);
    const routes = new Set(restCalls().map((call) => `${call.method} ${checkRestCall(call).template} ${call.status}`));
    expect(routes.size).toBeGreaterThanOrEqual(28);
  });

  it("sends webhook payloads as @octokit/webhooks-schemas describes them", () => {
    // An action that is not a string is a schema violation that `checkWebhook` reports below.
    const actionOf = ({ payload }: { payload: Record<string, unknown> }) => (typeof payload.action === "string" ? payload.action : "");
    const kinds = new Set(flows.github.webhooks.map((delivery) => `${delivery.name}.${actionOf(delivery)}`));
    expect([...kinds].sort()).toEqual([
      "check_run.rerequested",
      "issue_comment.created",
      "pull_request.closed",
      "pull_request.edited",
      "pull_request.opened",
      "pull_request.reopened",
      "pull_request.synchronize",
      "pull_request_review.dismissed",
      "pull_request_review.submitted",
      "push.",
    ]);
    const problems = flows.github.webhooks.flatMap(checkWebhook);
    expect(problems).toEqual([]);
  });

  it("receives only GraphQL queries GitHub's schema accepts, and answers them without errors", () => {
    expect(graphqlCalls().length).toBeGreaterThan(5);
    for (const call of graphqlCalls()) {
      expect(checkGraphqlQuery((call.body as { query: string }).query)).toEqual([]);
      expect([call.status, (call.response as { errors?: unknown }).errors]).toEqual([200, undefined]);
    }
  });
});

describe("the contract checks", () => {
  it("fail when an answer, a payload or a query leaves GitHub's description", async () => {
    const flows = await startFlows(new FakeGitHub());
    try {
      const repo = flows.github.repo;
      seedAccessRepository(flows.github, repo);
      const number = openRequest(repo, "alice/broken", { "access-requests/alice.yaml": request("broken") });
      await flows.gateway(repo).getPullRequest(number);
      const call = flows.github.calls.at(-1)!;
      expect(checkRestCall(call).problems).toEqual([]);
      const { merged: _dropped, ...withoutMerged } = call.response as Record<string, unknown>;
      expect(checkRestCall({ ...call, response: withoutMerged }).problems).toContain(
        '/ must have required property \'merged\' {"missingProperty":"merged"}',
      );

      const opened = flows.github.webhooks.find((delivery) => delivery.payload.action === "opened")!;
      expect(checkWebhook(opened)).toEqual([]);
      const pull = { ...(opened.payload.pull_request as Record<string, unknown>), head: undefined };
      expect(checkWebhook({ ...opened, payload: { ...opened.payload, pull_request: pull } }).length).toBeGreaterThan(0);

      const wrong =
        'query { repository(owner: "Codertocat", name: "Hello-World") { object(expression: "main") { ... on Commit { fileMode } } } }';
      expect(checkGraphqlQuery(wrong)).toEqual(['Cannot query field "fileMode" on type "Commit". Did you mean "file"?']);
      // And the local GitHub answers such a query as GitHub does: 200 with errors, no data.
      await expect(flows.octokit.graphql(wrong)).rejects.toMatchObject({
        errors: [{ message: 'Cannot query field "fileMode" on type "Commit". Did you mean "file"?' }],
      });
      expect(flows.github.calls.at(-1)!.status).toBe(200);
    } finally {
      flows.stop();
    }
  });
});
