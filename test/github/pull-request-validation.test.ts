/**
 * Validation on pull requests through Probot's real webhook pipeline: signed HTTP deliveries to the
 * running server, GitHub's API intercepted at HTTP. Asserts the exact calls and bodies GitHub gets.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHECK_NAME } from "../../src/github/check-run.js";
import { STICKY_MARKER } from "../../src/github/sticky-comment.js";
import { startHarness, WEBHOOK_SECRET, type Harness } from "../support/app-harness.js";
import { APP_ID, BOT_LOGIN, FakeGitHub } from "../support/fake-github.js";
import { freshDatabase } from "../support/db.js";
import { policyYaml, READ_ONLY_RULE, requestYaml, strictAdminRule } from "../support/policy-fixtures.js";

const REPO = "/repos/Codertocat/Hello-World";
const BRANCH = "alice/access";
const short = (sha: string) => sha.slice(0, 7);

const POLICY = policyYaml({ users: { alice: "alice@example.com" }, rules: [READ_ONLY_RULE, strictAdminRule()] });
const CODEOWNERS = `# access approvals
/access-requests/ @bob @acme/platform
/access-requests/prod/ @carol
`;
const VALID = requestYaml();
const INVALID = requestYaml({ permission_set: "AdministratorAccess", duration: "4h", reason: "Restore the failed deploy" });

/** main with the policy and CODEOWNERS, and a release branch; alice may push. Returns main's tip. */
function seedBase(github: FakeGitHub): string {
  const repo = github.repo;
  for (const login of ["alice", "bob", "carol"]) repo.setPermission(login, "write");
  github.grantTeam("acme", "platform", repo, "write");
  repo.commit("main", {
    files: { ".github/jitsudo.yml": POLICY, ".github/CODEOWNERS": CODEOWNERS, "README.md": "# Access requests\n" },
    author: "Codertocat",
  });
  repo.createBranch("release", "main");
  return repo.branch("main")!;
}

/** alice commits `files` on her branch and opens a pull request (GitHub sends pull_request.opened); returns its number. */
function openPull(github: FakeGitHub, files: Record<string, string | Uint8Array>): number {
  const repo = github.repo;
  repo.createBranch(BRANCH, "main", "alice");
  repo.commit(BRANCH, { files, author: "alice" });
  return repo.openPull({ head: BRANCH, author: "alice", title: "Access for the latency alarms" });
}

/** alice pushes `files` to her open pull request (GitHub sends pull_request.synchronize); returns the new head. */
function push(github: FakeGitHub, files: Record<string, string | Uint8Array>): string {
  return github.repo.commit(BRANCH, { files, author: "alice" });
}

describe("pull request validation", () => {
  let harness: Harness;
  let base: string;
  beforeEach(async () => {
    harness = await startHarness();
    base = seedBase(harness.github);
  });
  const repo = () => harness.github.repo;
  const checkRuns = () => repo().conversation.checkRuns;
  const comments = (number: number) => repo().conversation.commentsOn(number);
  afterEach(async () => {
    await harness.stop();
  });

  it("publishes a green check and one sticky comment for a valid request, with no per-file calls", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    const head = repo().pull(number).headSha;
    expect(await harness.deliverLatest("pull_request.opened")).toBe(200);

    expect([...harness.github.callLines()].sort()).toEqual(
      [
        "POST /app/installations/1/access_tokens",
        `GET ${REPO}/pulls/${number}/files?per_page=100`,
        // Every commit of the PR and its governance files (a change reverted later still counts).
        `GET ${REPO}/pulls/${number}/commits?per_page=100`,
        "POST /graphql",
        // The policy, CODEOWNERS and request files in one query.
        "POST /graphql",
        // GitHub's own view of CODEOWNERS at the base.
        `GET ${REPO}/codeowners/errors?ref=${repo().pull(number).baseSha}`,
        `POST ${REPO}/check-runs`,
        `GET ${REPO}/issues/${number}/comments?per_page=100`,
        "GET /app",
        `POST ${REPO}/issues/${number}/comments`,
      ].sort(),
    );
    const [run] = checkRuns();
    expect(run!.body).toEqual({
      name: CHECK_NAME,
      head_sha: head,
      status: "completed",
      conclusion: "success",
      external_id: `pr-${number}`,
      output: {
        title: "1 access request valid: waiting for code-owner approval",
        summary: "- :white_check_mark: `access-requests/alice.yaml`",
        annotations: [],
      },
    });
    expect(comments(number)).toHaveLength(1);
    expect(comments(number)[0]!.body).toBe(
      [
        STICKY_MARKER,
        "### jitsudo: access request :white_check_mark: valid, waiting for code-owner approval",
        "",
        `Checked at \`${short(head)}\` against the policy and code owners of \`main\` at \`${short(base)}\`. The merge is the approval: access is granted only if the merged content was approved by code owners at the final commit.`,
        "",
        "#### :white_check_mark: `access-requests/alice.yaml`",
        "",
        "| | |",
        "|---|---|",
        "| Requester | @alice |",
        "| Principal | `alice@example.com` |",
        "| Account | `123456789012` |",
        "| Permission set | `ReadOnlyAccess` |",
        "| Duration | 2h |",
        "| Window | from the merge until 2h later |",
        "| Reason | `Investigate the latency alarms` |",
        "| Policy | rules[0] (line 4): up to 8h, 1 approval |",
        "| Can approve | @bob, @acme/platform (1 needed) |",
      ].join("\n"),
    );
  });

  it("updates the same comment on the next push instead of writing a new one", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    await harness.deliverLatest("pull_request.opened");
    const head2 = push(harness.github, { "access-requests/alice.yaml": INVALID });
    harness.github.calls.length = 0;

    expect(await harness.deliverLatest("pull_request.synchronize")).toBe(200);

    const lines = harness.github.callLines();
    expect(lines.filter((line) => line === `POST ${REPO}/issues/${number}/comments`)).toEqual([]);
    expect(lines.filter((line) => line.startsWith(`PATCH ${REPO}/issues/comments/`))).toHaveLength(1);
    expect(comments(number)).toHaveLength(1);
    expect(comments(number)[0]!.body).toContain(":x: needs changes");
    expect(comments(number)[0]!.body).toContain('line 3, column 11: duration "4h" is longer than the 2h that rules\\[1\\]');

    const run = checkRuns()[1]!;
    expect(run.body.head_sha).toBe(head2);
    expect(run.body.conclusion).toBe("failure");
    expect((run.body.output as { annotations: unknown[] }).annotations).toEqual([
      {
        path: "access-requests/alice.yaml",
        start_line: 1,
        end_line: 1,
        start_column: 1,
        end_column: 1,
        annotation_level: "failure",
        title: "jitsudo",
        message:
          'rules[1] (.github/jitsudo.yml line 7) requires a ticket for "AdministratorAccess"; add ticket: <ticket id, e.g. INC-4711>',
      },
      {
        path: "access-requests/alice.yaml",
        start_line: 3,
        end_line: 3,
        start_column: 11,
        end_column: 13,
        annotation_level: "failure",
        title: "jitsudo",
        message: 'duration "4h" is longer than the 2h that rules[1] (.github/jitsudo.yml line 7) allows; ask for 2h or less',
      },
    ]);
  });

  it("shows at most 50 annotations, in one call, and says how many more there are", async () => {
    const files: Record<string, string> = {};
    // 40 files × 4 problems = 160 annotations: the first 50 are shown.
    for (let index = 0; index < 40; index++)
      files[`access-requests/bad-${String(index).padStart(2, "0")}.yaml`] = "acount: 1\nduration: 2h\n";
    openPull(harness.github, files);
    await harness.deliverLatest("pull_request.opened");

    const [run] = checkRuns();
    const sizes = [run!.body, ...run!.updates].map((body) => (body.output as { annotations: unknown[] }).annotations.length);
    // Each file: unknown key, and account, permission_set and reason missing.
    expect(sizes).toEqual([50]);
    expect((run!.body.output as { summary: string }).summary).toContain(
      "110 more problems are not annotated in the files; fix the ones shown first.",
    );
  });

  it("refuses a pull request with more request files than jitsudo judges at once, with one message and no file read", async () => {
    const files: Record<string, string> = {};
    for (let index = 0; index < 51; index++) files[`access-requests/many-${index}.yaml`] = VALID;
    openPull(harness.github, files);
    await harness.deliverLatest("pull_request.opened");
    const [run] = checkRuns();
    expect(run!.body).toMatchObject({ conclusion: "failure", output: { title: "1 problem to fix" } });
    expect((run!.body.output as { summary: string }).summary).toContain(
      "this pull request adds or changes 51 request files; jitsudo judges at most 50 in one pull request, so split it into smaller ones",
    );
    // Only the policy and CODEOWNERS were read, not the 51 files.
    const query = harness.github.calls
      .filter((call) => call.path === "/graphql")
      .map((call) => JSON.stringify(call.body))
      .find((body) => body.includes("file(path"));
    expect(query).not.toContain("many-");
  });

  it("reads paginated file lists", async () => {
    const files: Record<string, string> = {};
    for (let index = 0; index < 130; index++) files[`docs/page-${index}.md`] = "x";
    const number = openPull(harness.github, { ...files, "access-requests/alice.yaml": VALID });
    await harness.deliverLatest("pull_request.opened");
    expect(harness.github.callLines().filter((line) => line.includes(`/pulls/${number}/files`))).toEqual([
      `GET ${REPO}/pulls/${number}/files?per_page=100`,
      `GET ${REPO}/pulls/${number}/files?per_page=100&page=2`,
    ]);
    expect(checkRuns()[0]!.body.conclusion).toBe("success");
  });

  it("gives a PR without request files a green check and no comment", async () => {
    const number = openPull(harness.github, { "README.md": "hello" });
    await harness.deliverLatest("pull_request.opened");
    expect(checkRuns()[0]!.body).toMatchObject({
      conclusion: "success",
      output: { title: "No access requests" },
    });
    expect(harness.github.callLines()).not.toContain(`POST ${REPO}/issues/${number}/comments`);
    expect(comments(number)).toEqual([]);
  });

  it("fails a PR that changes CODEOWNERS together with a request", async () => {
    openPull(harness.github, { "access-requests/alice.yaml": VALID, ".github/CODEOWNERS": "* @alice-friend\n" });
    await harness.deliverLatest("pull_request.opened");
    const run = checkRuns()[0]!;
    expect(run.body.conclusion).toBe("failure");
    expect((run.body.output as { annotations: unknown[] }).annotations).toContainEqual({
      path: ".github/CODEOWNERS",
      start_line: 1,
      end_line: 1,
      annotation_level: "failure",
      title: "jitsudo",
      message:
        "this pull request also changes .github/CODEOWNERS; changes to code owners or policy must be merged in their own pull request, before or after the access request",
    });
  });

  it("fails a PR that changes CODEOWNERS under another case, as the merge verdict refuses it", async () => {
    // The merge verdict has always matched governance paths ignoring case; the check did not, and
    // passed a PR its merge would then refuse.
    openPull(harness.github, { "access-requests/alice.yaml": VALID, ".GitHub/CODEOWNERS": "* @alice-friend\n" });
    await harness.deliverLatest("pull_request.opened");
    const run = checkRuns()[0]!;
    expect(run.body.conclusion).toBe("failure");
    expect(JSON.stringify(run.body.output)).toContain(
      "this pull request also changes .GitHub/CODEOWNERS; changes to code owners or policy must be merged in their own pull request",
    );
  });

  it("reads non-UTF-8 files byte-exactly from the blob API and points at the bad byte", async () => {
    const latin1 = Uint8Array.from([
      ...new TextEncoder().encode('account: "123456789012"\nreason: "caf'),
      0xe9,
      ...new TextEncoder().encode('"\n'),
    ]);
    openPull(harness.github, { "access-requests/latin1.yaml": latin1 });
    await harness.deliverLatest("pull_request.opened");
    expect(harness.github.callLines().filter((line) => line.includes("/git/blobs/"))).toHaveLength(1);
    const annotations = (checkRuns()[0]!.body.output as { annotations: { start_line: number; start_column?: number; message: string }[] })
      .annotations;
    expect(annotations.map((a) => [a.start_line, a.start_column, a.message])).toEqual([
      [2, 13, "file is not valid UTF-8 (byte 0xE9); save it as UTF-8"],
    ]);
  });

  it("re-runs the check when GitHub asks (check_run.rerequested), with fresh PR data", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    await harness.deliverLatest("pull_request.opened");
    const [first] = checkRuns();
    harness.github.calls.length = 0;
    // Someone presses "Re-run" on jitsudo's check.
    const status = await harness.deliver("check_run", repo().conversation.rerequestCheckRun(first!.id, "alice"));
    expect(status).toBe(200);
    expect(harness.github.callLines()).toContain(`GET ${REPO}/pulls/${number}`);
    expect(checkRuns()).toHaveLength(2);
    expect(checkRuns()[1]!.body.head_sha).toBe(repo().pull(number).headSha);
  });

  it("ignores a rerequested check run that belongs to another app", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    // Another GitHub App reports a check of the same name; someone re-runs that one.
    const imposter = repo().conversation.createCheckRun(
      { id: 999, slug: "imposter", name: "imposter", owner: "mallory" },
      { name: CHECK_NAME, head_sha: repo().pull(number).headSha, status: "completed", conclusion: "failure" },
    );
    await harness.deliver("check_run", repo().conversation.rerequestCheckRun(imposter.id, "alice"));
    expect(checkRuns().filter((run) => run.app.id === APP_ID)).toHaveLength(0);
  });

  it("rejects a webhook with a bad signature before any GitHub call", async () => {
    openPull(harness.github, { "access-requests/alice.yaml": VALID });
    const status = await harness.deliverLatest("pull_request.opened", { secret: "wrong" });
    expect(status).toBe(400);
    expect(harness.github.calls).toEqual([]);
  });

  it("answers a GitHub failure with a red check, keeps serving, and never logs secrets", async () => {
    openPull(harness.github, { "access-requests/alice.yaml": VALID });
    harness.github.failures.push({ method: "POST", path: /^\/graphql$/, status: 502 });
    // Probot answers GitHub with the failed call's 5xx, so the delivery shows as failed in GitHub's log.
    expect(await harness.deliverLatest("pull_request.opened")).toBe(502);
    expect(checkRuns()[0]!.body).toMatchObject({
      conclusion: "failure",
      output: { title: "jitsudo could not check this pull request" },
    });

    harness.github.failures.length = 0;
    push(harness.github, { "docs/notes.md": "retry\n" });
    expect(await harness.deliverLatest("pull_request.synchronize")).toBe(200);
    expect(checkRuns()[1]!.body.conclusion).toBe("success");

    const logs = harness.logs.join("");
    expect(logs).toContain("pull request validation failed");
    expect(logs).not.toContain(WEBHOOK_SECRET);
    expect(logs).not.toContain("ghs_installation_token_secret"); // the prefix of every token the local GitHub issues
    expect(logs).not.toContain("PRIVATE KEY");
  });

  it("re-validates when the PR is retargeted to another base branch", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    repo().retarget(number, "release", "alice");
    const edited = harness.github.lastWebhook("pull_request.edited");
    expect(edited.changes).toEqual({ base: { ref: { from: "main" }, sha: { from: base } } });
    await harness.deliver("pull_request", edited);
    const run = checkRuns()[0]!;
    expect(run.body.conclusion).toBe("failure");
    expect(comments(number)[0]!.body).toContain("targets release, not the default branch main");
  });

  it("finds its sticky comment only among the bot's own comments", async () => {
    const number = openPull(harness.github, { "access-requests/alice.yaml": VALID });
    const forged = repo().conversation.comment(number, "mallory", `${STICKY_MARKER}\nforged by a user`);
    await harness.deliverLatest("pull_request.opened");
    const all = comments(number);
    expect(all.map((comment) => [comment.id, comment.user.login])).toEqual([
      [forged.id, "mallory"],
      [all[1]!.id, BOT_LOGIN],
    ]);
    expect(all[0]!.body).toBe(`${STICKY_MARKER}\nforged by a user`);
  });
});

describe("replicas", () => {
  it("serialise work on one pull request, so two events at once still leave one sticky comment", async () => {
    const { db } = await freshDatabase();
    const github = new FakeGitHub();
    github.latencyMs = 15;
    const [first, second] = await Promise.all([startHarness({ github, db }), startHarness({ github, db })]);
    try {
      seedBase(github);
      const number = openPull(github, { "access-requests/alice.yaml": VALID });
      const opened = github.lastWebhook("pull_request.opened");
      push(github, { "docs/notes.md": "a second commit\n" });
      const statuses = await Promise.all([first.deliver("pull_request", opened), second.deliverLatest("pull_request.synchronize")]);
      expect(statuses).toEqual([200, 200]);
      // Each replica's settle covers what it can take; the other may still hold the PR's later delivery.
      while ((await db("webhook_inbox").whereIn("status", ["pending", "processing"])).length > 0) {
        await Promise.all([first.settle(), second.settle()]);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(github.repo.conversation.checkRuns).toHaveLength(2);
      expect(github.repo.conversation.commentsOn(number)).toHaveLength(1);
    } finally {
      await first.stop();
      await second.stop();
    }
  });
});

describe("the server", () => {
  it("answers /healthz while it serves webhooks", async () => {
    const harness = await startHarness();
    try {
      const response = await fetch(`${harness.url}/healthz`, { headers: { connection: "close" } });
      expect([response.status, await response.json()]).toEqual([200, { status: "ok" }]);
    } finally {
      await harness.stop();
    }
  });
});

describe("GitHub Enterprise Server", () => {
  it("talks to GHE_HOST's REST and GraphQL endpoints", async () => {
    const github = FakeGitHub.enterprise("ghe.example.com");
    const harness = await startHarness({ github, env: { GHE_HOST: "ghe.example.com" } });
    try {
      seedBase(github);
      openPull(github, { "access-requests/alice.yaml": VALID });
      expect(await harness.deliverLatest("pull_request.opened")).toBe(200);
      expect(github.callLines()).toContain("POST /api/graphql");
      expect(github.repo.conversation.checkRuns[0]!.body.conclusion).toBe("success");
    } finally {
      await harness.stop();
    }
  });
});
