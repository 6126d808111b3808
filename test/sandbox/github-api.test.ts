/**
 * The local GitHub's API, through Octokit as the app uses it: the limits GitHub documents, the
 * activity and CODEOWNERS-errors endpoints, GraphQL tree entries and timeline items, installations
 * and what their tokens can see.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Repository } from "../../src/sandbox/github.js";
import { BOT_LOGIN, openRequest, seedAccessRepository, startFlows, type Flows } from "../support/github-flows.js";

/** The objects the GraphQL test asks for; `commit` holds one tree entry per path, under the path's alias. */
interface ObjectsAnswer {
  repository: {
    commit: Record<string, { mode: number; type: string }>;
    link: { __typename: string; text: string } | null;
    module: { __typename: string } | null;
    latin: { oid: string; text: string; byteSize: number };
    dir: { entries: { name: string; type: string; mode: number }[] };
  };
}

describe("the local GitHub's API", () => {
  let flows: Flows;
  let repo: Repository;
  let base: string;
  beforeEach(async () => {
    flows = await startFlows();
    repo = flows.github.repo;
    base = seedAccessRepository(flows.github);
  });
  afterEach(() => flows.stop());
  const where = () => ({ owner: repo.owner, repo: repo.name });

  describe("pull requests", () => {
    it("list at most 3000 files and 250 commits, while the pull request counts them all", async () => {
      const files = Object.fromEntries(Array.from({ length: 3001 }, (_, index) => [`docs/${index}.md`, `${index}\n`]));
      const wide = openRequest(repo, "alice/wide", files);
      const listed = await flows.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
        ...where(),
        pull_number: wide,
        per_page: 500,
      });
      expect(listed).toHaveLength(3000);
      expect(flows.github.callLines().filter((line) => line.includes(`/pulls/${wide}/files`))).toHaveLength(30); // per_page is capped at 100
      expect((await flows.octokit.rest.pulls.get({ ...where(), pull_number: wide })).data.changed_files).toBe(3001);

      repo.createBranch("alice/long", "main", "alice");
      for (let index = 0; index < 251; index++)
        repo.commit("alice/long", { files: { "log.md": `${index}\n` }, author: index === 0 ? null : "alice", pusher: "alice" });
      const long = repo.openPull({ head: "alice/long", author: "alice" });
      const commits = await flows.octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", {
        ...where(),
        pull_number: long,
        per_page: 100,
      });
      expect(commits).toHaveLength(250);
      expect([commits[0]!.author, commits[0]!.commit.author?.email, commits[1]!.author?.login]).toEqual([
        null,
        "someone@unlinked.example",
        "alice",
      ]);
      expect((await flows.octokit.rest.pulls.get({ ...where(), pull_number: long })).data.commits).toBe(251);
    });

    it("are listed by last update, and a review after the merge updates a merged pull request", async () => {
      const first = openRequest(repo, "alice/one", { "a.md": "a\n" });
      const second = openRequest(repo, "alice/two", { "b.md": "b\n" });
      repo.merge(first, { by: "bob" });
      repo.merge(second, { by: "bob" });
      const order = async () =>
        (await flows.octokit.rest.pulls.list({ ...where(), state: "closed", sort: "updated", direction: "desc" })).data.map(
          (pull) => pull.number,
        );
      expect(await order()).toEqual([second, first]);
      repo.review(first, "carol", "APPROVED");
      expect(await order()).toEqual([first, second]);
      const { data } = await flows.octokit.rest.pulls.listReviews({ ...where(), pull_number: first });
      expect(data.map((review) => [review.user?.login, review.state, review.commit_id])).toEqual([
        ["carol", "APPROVED", repo.pull(first).headSha],
      ]);
    });

    it("name the pull requests a commit belongs to: by merge commit, landed rebased commit, or original commit", async () => {
      const number = openRequest(repo, "alice/a", { "a.md": "a\n" });
      const original = repo.pull(number).headSha;
      const open = (await flows.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...where(), commit_sha: original })).data;
      expect(open.map((pull) => [pull.number, pull.state])).toEqual([[number, "open"]]);
      const { sha } = repo.merge(number, { method: "rebase", by: "bob" });
      for (const commit of [sha, original]) {
        const { data } = await flows.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...where(), commit_sha: commit });
        expect(data.map((pull) => [pull.number, pull.merge_commit_sha])).toEqual([[number, sha]]);
      }
      expect((await flows.octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...where(), commit_sha: base })).data).toEqual([]);
    });
  });

  describe("size limits", () => {
    it("refuses a comment over 65,536 characters and a check run text over 65,535, as GitHub does", async () => {
      const number = openRequest(repo, "alice/limits", { "docs/a.md": "a\n" });
      const create = (body: string) => flows.octokit.rest.issues.createComment({ ...where(), issue_number: number, body });
      await expect(create("x".repeat(65_537))).rejects.toMatchObject({ status: 422 });
      // Characters, not UTF-16 units: 65,536 emoji are accepted.
      expect((await create("😀".repeat(65_536))).status).toBe(201);
      const head = (await flows.octokit.rest.pulls.get({ ...where(), pull_number: number })).data.head.sha;
      const check = (text: string) =>
        flows.octokit.rest.checks.create({ ...where(), name: "limits", head_sha: head, output: { title: "t", summary: "s", text } });
      await expect(check("y".repeat(65_536))).rejects.toMatchObject({ status: 422 });
      expect((await check("y".repeat(65_535))).status).toBe(201);
    });
  });

  describe("repository activity", () => {
    it("lists every branch update newest first, filtered and paged with cursors", async () => {
      const number = openRequest(repo, "alice/a", { "a.md": "a\n" });
      const before = repo.branch("main")!;
      const { sha } = repo.merge(number, { by: "bob" });
      const all = await flows.octokit.paginate("GET /repos/{owner}/{repo}/activity", { ...where(), per_page: 2 });
      expect(all.map((entry) => [entry.activity_type, entry.ref, entry.actor?.login])).toEqual([
        ["pr_merge", "refs/heads/main", "bob"],
        ["push", "refs/heads/alice/a", "alice"],
        ["branch_creation", "refs/heads/alice/a", "alice"],
        ["branch_creation", "refs/heads/main", repo.owner],
      ]);
      for (const ref of ["main", "refs/heads/main"]) {
        const { data } = await flows.octokit.request("GET /repos/{owner}/{repo}/activity", { ...where(), ref, activity_type: "pr_merge" });
        expect(data.map((entry) => [entry.before, entry.after])).toEqual([[before, sha]]);
      }
      const oldestFirst = await flows.octokit.request("GET /repos/{owner}/{repo}/activity", {
        ...where(),
        direction: "asc",
        actor: "alice",
      });
      expect(oldestFirst.data.map((entry) => entry.activity_type)).toEqual(["branch_creation", "push"]);
      const page = await flows.octokit.request("GET /repos/{owner}/{repo}/activity", {
        ...where(),
        per_page: 1,
        after: cursor(await flows.octokit.request("GET /repos/{owner}/{repo}/activity", { ...where(), per_page: 1 }), "next", "after"),
      });
      const back = await flows.octokit.request("GET /repos/{owner}/{repo}/activity", {
        ...where(),
        per_page: 1,
        before: cursor(page, "prev", "before"),
      });
      expect([page.data[0]!.activity_type, back.data[0]!.activity_type]).toEqual(["push", "pr_merge"]);
      await expect(
        flows.octokit.request("GET /repos/{owner}/{repo}/activity", { ...where(), activity_type: "merge" as never }),
      ).rejects.toMatchObject({ status: 422 });
    });
  });

  describe("CODEOWNERS errors", () => {
    it("reports invalid lines and owners GitHub would ignore, for the file GitHub uses at the ref", async () => {
      flows.github.grantTeam("acme", "readers", repo, "read");
      repo.setPermission("reader", "read");
      repo.commit("main", {
        files: {
          ".github/CODEOWNERS":
            "# owners\n!/docs/ @bob\n/a[bc]/ @bob\n\\#x @bob\n/a\\[b\\]/ @bob\n/x/ @reader @acme/readers @acme/ghosts @nobody\n/y/ bob@example.com alice\n/access-requests/ @bob @acme/platform\n",
          CODEOWNERS: "* @nobody-at-all\n",
        },
        author: repo.owner,
      });
      repo.commit("main", { files: {}, author: "bob", committer: { name: "Bob", email: "bob@example.com", login: "bob" } });
      repo.injectedCodeownersErrors.push({
        line: 8,
        kind: "Unknown owner",
        message: "as GitHub may report it",
        commit: repo.branch("main")!,
      });
      const { data } = await flows.octokit.request("GET /repos/{owner}/{repo}/codeowners/errors", where());
      expect(data.errors.map((error) => [error.line, error.column, error.kind, error.path])).toEqual([
        [2, 1, "Invalid pattern", ".github/CODEOWNERS"],
        [3, 3, "Invalid pattern", ".github/CODEOWNERS"],
        [4, 1, "Invalid pattern", ".github/CODEOWNERS"],
        [6, 5, "Unknown owner", ".github/CODEOWNERS"],
        [6, 13, "Unknown owner", ".github/CODEOWNERS"],
        [6, 27, "Unknown owner", ".github/CODEOWNERS"],
        [6, 40, "Unknown owner", ".github/CODEOWNERS"],
        [7, 21, "Invalid owner", ".github/CODEOWNERS"],
        [8, 1, "Unknown owner", ".github/CODEOWNERS"],
      ]);
      expect(data.errors[3]!.message).toBe(
        "Unknown owner on line 6: make sure @reader exists and has write access to the repository\n\n  /x/ @reader @acme/readers @acme/ghosts @nobody\n      ^",
      );
      expect(data.errors[4]!.message).toContain(
        "make sure the team @acme/readers exists, is publicly visible, and has write access to the repository",
      );
      // At the policy commit (no problems there) nothing is reported.
      expect((await flows.octokit.request("GET /repos/{owner}/{repo}/codeowners/errors", { ...where(), ref: base })).data.errors).toEqual(
        [],
      );
    });

    it("is 404 where there is no CODEOWNERS", async () => {
      repo.commit("main", { files: { ".github/CODEOWNERS": null }, author: repo.owner });
      await expect(flows.octokit.request("GET /repos/{owner}/{repo}/codeowners/errors", { ...where(), ref: "main" })).rejects.toMatchObject(
        { status: 404 },
      );
    });
  });

  describe("GraphQL", () => {
    it("describes tree entries with their git mode, and reads links as GitHub does", async () => {
      const number = openRequest(repo, "alice/odd", {
        "access-requests/link.yaml": { symlink: "../README.md" },
        "access-requests/vendor": { submodule: "a".repeat(40) },
        "access-requests/run.sh": { executable: "#!/bin/sh\n" },
        "access-requests/latin1.yaml": Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      });
      const head = repo.pull(number).headSha;
      const entry = (path: string) => `${path.replace(/\W/g, "_")}: file(path: "${path}") { mode type oid }`;
      const paths = ["README.md", "access-requests/run.sh", "access-requests/link.yaml", "access-requests/vendor", "access-requests"];
      const result = await flows.octokit.graphql<ObjectsAnswer>(
        `query($owner: String!, $name: String!, $head: String!, $link: String!, $module: String!, $latin: String!) { repository(owner: $owner, name: $name) {
          commit: object(expression: $head) { ... on Commit { ${paths.map(entry).join(" ")} } }
          link: object(expression: $link) { __typename ... on Blob { text } }
          module: object(expression: $module) { __typename }
          latin: object(expression: $latin) { ... on Blob { oid text byteSize } }
          dir: object(expression: "${head}:access-requests") { ... on Tree { entries { name type mode } } }
        } }`,
        {
          owner: repo.owner,
          name: repo.name,
          head,
          link: `${head}:access-requests/link.yaml`,
          module: `alice/odd:access-requests/vendor`,
          latin: `${head}:access-requests/latin1.yaml`,
        },
      );
      const { commit, link, module, latin, dir } = result.repository;
      expect(paths.map((path) => commit[path.replace(/\W/g, "_")]!).map(({ mode, type }) => [mode, type])).toEqual([
        [33188, "blob"],
        [33261, "blob"],
        [40960, "blob"],
        [57344, "commit"],
        [16384, "tree"],
      ]);
      expect([link, module]).toEqual([{ __typename: "Blob", text: "../README.md" }, null]);
      expect([latin.text, latin.byteSize]).toEqual(["caf\uFFFD\n", 5]);
      expect(dir.entries.map((child) => child.name)).toEqual(["latin1.yaml", "link.yaml", "run.sh", "vendor"]);
    });

    it("gives timeline items of a pull request, and GitHub's errors for what GitHub refuses", async () => {
      repo.createBranch("release", "main");
      const number = openRequest(repo, "alice/a", { "a.md": "a\n" }, "release");
      repo.commit("release", { files: { "r.md": "r\n" }, author: "bob" });
      repo.push("release", base, { force: true, pusher: "bob" });
      repo.retarget(number, "main", "alice");
      const query = (bounds: string) =>
        `query($owner: String!, $name: String!, $number: Int!) { repository(owner: $owner, name: $name) { pullRequest(number: $number) { timelineItems(itemTypes: [BASE_REF_CHANGED_EVENT, BASE_REF_FORCE_PUSHED_EVENT]${bounds}) { totalCount nodes { __typename ... on BaseRefChangedEvent { createdAt previousRefName currentRefName } ... on BaseRefForcePushedEvent { createdAt } } } } } }`;
      const variables = { owner: repo.owner, name: repo.name, number };
      const last = await flows.octokit.graphql<{
        repository: { pullRequest: { timelineItems: { totalCount: number; nodes: Record<string, string>[] } } };
      }>(query(", last: 1"), variables);
      const changed = repo.pull(number).timeline.find((event) => event.type === "BaseRefChangedEvent")!;
      expect(last.repository.pullRequest.timelineItems).toEqual({
        totalCount: 2,
        nodes: [
          {
            __typename: "BaseRefChangedEvent",
            createdAt: changed.createdAt.toISOString().replace(".000Z", "Z"),
            previousRefName: "release",
            currentRefName: "main",
          },
        ],
      });
      await expect(flows.octokit.graphql(query(""), variables)).rejects.toMatchObject({
        errors: [{ type: "MISSING_PAGINATION_BOUNDARIES" }],
      });
      await expect(flows.octokit.graphql(query(", first: 101"), variables)).rejects.toMatchObject({
        errors: [{ type: "EXCESSIVE_PAGINATION" }],
      });
      await expect(flows.octokit.graphql(query(", last: 1"), { ...variables, number: 99 })).rejects.toMatchObject({
        errors: [{ type: "NOT_FOUND" }],
      });
    });
  });

  describe("installations", () => {
    it("see only their own repositories, whatever the spelling", async () => {
      const second = flows.github.createRepository({ owner: repo.owner, name: "second-access" });
      expect(() => flows.github.createRepository({ owner: "acme", name: "access" })).toThrow("installation 1 is on Codertocat");
      flows.github.createInstallation({ account: "other-org", id: 2 });
      flows.github.createRepository({ owner: "other-org", name: "access", installationId: 2 });
      const mine = await flows.octokit.paginate("GET /installation/repositories", { per_page: 1 });
      expect(mine.map((entry) => [entry.full_name, entry.id])).toEqual([
        [repo.fullName, repo.id],
        [second.fullName, second.id],
      ]);
      expect(
        (await flows.app.paginate("GET /app/installations", { per_page: 1 })).map((entry) => [entry.id, entry.account?.login]),
      ).toEqual([
        [1, repo.owner],
        [2, "other-org"],
      ]);
      expect(
        (await flows.octokit.rest.repos.getCollaboratorPermissionLevel({ owner: "codertocat", repo: "HELLO-WORLD", username: "bob" })).data
          .permission,
      ).toBe("write");
      await expect(flows.octokit.rest.pulls.list({ owner: "other-org", repo: "access" })).rejects.toMatchObject({ status: 404 });
      await expect(flows.octokit.graphql('query { repository(owner: "other-org", name: "access") { id } }')).rejects.toMatchObject({
        errors: [{ type: "NOT_FOUND" }],
      });
    });

    it("answer permissions from roles and active team memberships", async () => {
      repo.setPermission("maintainer", "maintain");
      repo.setPermission("triager", "triage");
      flows.github.setTeamMembership("acme", "platform", "pending-member", "pending");
      const permission = async (username: string) => {
        const { data } = await flows.octokit.rest.repos.getCollaboratorPermissionLevel({ ...where(), username });
        return [data.permission, data.role_name];
      };
      expect([
        await permission("maintainer"),
        await permission("triager"),
        await permission("carol"),
        await permission(repo.owner),
      ]).toEqual([
        ["write", "maintain"],
        ["read", "triage"],
        ["write", "write"],
        ["admin", "admin"],
      ]);
      await expect(permission("pending-member")).rejects.toMatchObject({ status: 404 });
    });
  });

  describe("comments and checks", () => {
    it("write as the app's bot, react once per kind, and keep the 50-annotations limit", async () => {
      const number = openRequest(repo, "alice/a", { "a.md": "a\n" });
      const { data: comment } = await flows.octokit.rest.issues.createComment({ ...where(), issue_number: number, body: "hello" });
      expect([comment.user?.login, comment.user?.type]).toEqual([BOT_LOGIN, "Bot"]);
      const react = () => flows.octokit.rest.reactions.createForIssueComment({ ...where(), comment_id: comment.id, content: "+1" });
      expect([(await react()).status, (await react()).status]).toEqual([201, 200]);
      await expect(flows.octokit.rest.reactions.createForIssueComment({ ...where(), comment_id: 1, content: "+1" })).rejects.toMatchObject({
        status: 404,
      });
      const annotation = { path: "a.md", start_line: 1, end_line: 1, annotation_level: "notice" as const, message: "note" };
      const output = (count: number) => ({ title: "t", summary: "s", annotations: Array.from({ length: count }, () => annotation) });
      const { data: run } = await flows.octokit.rest.checks.create({
        ...where(),
        name: "jitsudo",
        head_sha: repo.pull(number).headSha,
        output: output(50),
      });
      const { data: updated } = await flows.octokit.rest.checks.update({ ...where(), check_run_id: run.id, output: output(50) });
      expect([run.output.annotations_count, updated.output.annotations_count, updated.app?.slug]).toEqual([50, 100, "jitsudo"]);
      await expect(flows.octokit.rest.checks.update({ ...where(), check_run_id: run.id, output: output(51) })).rejects.toMatchObject({
        status: 422,
      });
    });
  });
});

function cursor(response: { headers: { link?: string } }, rel: string, name: string): string {
  const link = new RegExp(`<([^>]+)>; rel="${rel}"`).exec(response.headers.link ?? "")?.[1];
  if (!link) throw new Error(`no ${rel} link in ${response.headers.link}`);
  return new URL(link).searchParams.get(name)!;
}
