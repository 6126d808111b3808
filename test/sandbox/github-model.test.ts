/**
 * The local GitHub's model behaves like GitHub: the three merge methods put the commits GitHub
 * puts on the base branch, pull requests follow their branches, reviews follow GitHub's rules, and
 * worlds GitHub cannot be in cannot be built.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { MergeConflictError, PullRequestError, ZERO_SHA, type Repository } from "../../src/sandbox/github.js";
import { FakeGitHub } from "../support/fake-github.js";
import { CODEOWNERS, openRequest, request, seedAccessRepository } from "../support/github-flows.js";

describe("the local GitHub's model", () => {
  let github: FakeGitHub;
  let repo: Repository;
  let base: string;
  beforeEach(() => {
    github = new FakeGitHub();
    repo = github.repo;
    base = seedAccessRepository(github);
  });
  const commit = (sha: string) => repo.objects.require(sha);

  describe("merging", () => {
    it("merge: a commit with parents [base tip, head], committed by GitHub, and the webhooks GitHub sends", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") });
      const head = repo.pull(number).headSha;
      const merged = repo.merge(number, { method: "merge", by: "bob" });
      const merge = commit(merged.sha);
      expect(merge.parents).toEqual([base, head]);
      expect([merge.author.login, merge.committer.login, merge.committer.name]).toEqual(["bob", "web-flow", "GitHub"]);
      expect(repo.branch("main")).toBe(merged.sha);
      expect(merged.closed).toMatchObject({
        action: "closed",
        pull_request: { merged: true, merge_commit_sha: merged.sha, merged_by: { login: "bob" }, head: { sha: head } },
      });
      expect(merged.push).toMatchObject({ ref: "refs/heads/main", before: base, after: merged.sha, head_commit: { id: merged.sha } });
      expect(
        (merged.push.commits as { id: string; added: string[]; distinct: boolean }[]).map((entry) => [
          entry.id,
          entry.added,
          entry.distinct,
        ]),
      ).toEqual([
        [head, ["access-requests/a.yaml"], false],
        [merged.sha, ["access-requests/a.yaml"], true],
      ]);
    });

    it("squash: one new commit on the base tip with the pull request's net changes, authored by its author", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("draft"), "docs/tmp.md": "x\n" });
      repo.commit("alice/a", { files: { "access-requests/a.yaml": request("final"), "docs/tmp.md": null }, author: "alice" });
      const merged = repo.merge(number, { method: "squash", by: "bob" });
      const squash = commit(merged.sha);
      expect(squash.parents).toEqual([base]);
      expect([squash.author.login, squash.committer.login]).toEqual(["alice", "web-flow"]);
      expect([...squash.tree.keys()].sort()).toEqual([".github/CODEOWNERS", ".github/jitsudo.yml", "README.md", "access-requests/a.yaml"]);
      expect(merged.landed).toEqual([merged.sha]);
    });

    it("rebase: every commit replayed as a new one, merge commits dropped, merge_commit_sha the last one, the pull request's commits unchanged", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a"), ".github/CODEOWNERS": "* @alice\n" });
      const first = repo.pull(number).headSha;
      repo.directPush("main", { "README.md": "# Access, moved on\n" }, "bob");
      const movedBase = repo.branch("main")!;
      const update = repo.commit("alice/a", { files: {}, author: "alice", mergeFrom: "main" });
      const revert = repo.commit("alice/a", { files: { ".github/CODEOWNERS": CODEOWNERS }, author: "alice" });
      const before = repo.changes(repo.pull(number)).commits.map((entry) => entry.sha);
      expect(before).toEqual([first, update, revert]);

      const merged = repo.merge(number, { method: "rebase", by: "bob" });
      expect(merged.landed).toHaveLength(2);
      const [replayedFirst, replayedRevert] = merged.landed.map(commit);
      expect(merged.sha).toBe(replayedRevert!.sha);
      // The hole this models: merge_commit_sha's first parent is the PR's own previous commit, not the base.
      expect(replayedRevert!.parents).toEqual([replayedFirst!.sha]);
      expect(replayedFirst!.parents).toEqual([movedBase]);
      expect(replayedFirst!.tree.get(".github/CODEOWNERS")).toEqual(commit(first).tree.get(".github/CODEOWNERS"));
      expect([replayedFirst!.author, replayedFirst!.committer.login]).toEqual([commit(first).author, "web-flow"]);
      expect(merged.landed).not.toContain(first);
      expect(repo.changes(repo.pull(number)).commits.map((entry) => entry.sha)).toEqual(before);
      // The authoritative record of the base: the activity entry of the merge.
      expect(repo.activity.all().at(-1)).toMatchObject({
        activityType: "pr_merge",
        before: movedBase,
        after: merged.sha,
        ref: "refs/heads/main",
        actor: "bob",
      });
      expect(merged.push).toMatchObject({ before: movedBase, after: merged.sha });
    });

    it("refuses a conflict, and takes a stated clean merge of concurrent edits only where both sides changed the file", () => {
      repo.directPush("main", { "docs/shared.md": "one\ntwo\n" }, "bob");
      const number = openRequest(repo, "alice/a", { "docs/shared.md": "one\ntwo, by alice\n" });
      repo.directPush("main", { "docs/shared.md": "one, by bob\ntwo\n" }, "bob");
      expect(repo.mergeable(repo.pull(number))).toBe(false);
      expect(() => repo.merge(number, { by: "bob" })).toThrow(MergeConflictError);
      expect(() => repo.merge(number, { by: "bob", mergedContent: { "docs/shared.md": "one\n", "README.md": "x" } })).toThrow(
        "mergedContent for README.md",
      );
      const merged = repo.merge(number, { by: "bob", mergedContent: { "docs/shared.md": "one, by bob\ntwo, by alice\n" } });
      expect(new TextDecoder().decode(repo.objects.blob(commit(merged.sha).tree.get("docs/shared.md")!.sha))).toBe(
        "one, by bob\ntwo, by alice\n",
      );
    });

    it("takes write access, and refuses drafts and closed pull requests", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") });
      expect(() => repo.merge(number, { by: "eve" })).toThrow("@eve needs write access");
      repo.createBranch("alice/draft", "main", "alice");
      repo.commit("alice/draft", { files: { "docs/wip.md": "wip\n" }, author: "alice" });
      const draft = repo.openPull({ head: "alice/draft", author: "alice", draft: true });
      expect(() => repo.merge(draft, { by: "bob" })).toThrow("Pull Request is still a draft");
      repo.closePull(number, "alice");
      expect(() => repo.merge(number, { by: "bob" })).toThrow(`#${number} is closed`);
    });
  });

  describe("pull requests", () => {
    it("follow pushes to their head branch (synchronize refreshes base.sha), not pushes to the base alone", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") });
      repo.directPush("main", { "README.md": "# moved\n" }, "bob");
      expect(repo.pull(number).baseSha).toBe(base);
      const previous = repo.pull(number).headSha;
      const head = repo.commit("alice/a", { files: { "access-requests/a.yaml": request("b") }, author: "alice" });
      expect([repo.pull(number).headSha, repo.pull(number).baseSha]).toEqual([head, repo.branch("main")]);
      expect(github.lastWebhook("pull_request.synchronize")).toMatchObject({
        before: previous,
        after: head,
        pull_request: { head: { sha: head }, base: { sha: repo.branch("main") } },
      });
    });

    it("list changed files as the three-dot diff, with renames, and their commits oldest first", () => {
      repo.directPush("main", { "access-requests/old.yaml": request("old") }, "bob");
      repo.createBranch("alice/a", "main", "alice");
      repo.directPush("main", { "docs/unrelated.md": "main moved\n" }, "bob");
      const first = repo.commit("alice/a", {
        files: { "access-requests/old.yaml": null, "access-requests/new.yaml": request("old") },
        author: "alice",
      });
      const second = repo.commit("alice/a", { files: { "README.md": "# Access\n\nMore.\n" }, author: null, pusher: "alice" });
      const number = repo.openPull({ head: "alice/a", author: "alice" });
      const changes = repo.changes(repo.pull(number));
      expect(changes.files.map((file) => [file.filename, file.status, file.previousFilename, file.additions, file.deletions])).toEqual([
        ["README.md", "modified", undefined, 2, 0],
        ["access-requests/new.yaml", "renamed", "access-requests/old.yaml", 0, 0],
      ]);
      expect(changes.commits.map((entry) => [entry.sha, entry.author.login])).toEqual([
        [first, "alice"],
        [second, null],
      ]);
    });

    it("can be retargeted, recording the change on the timeline and announcing it", () => {
      repo.createBranch("release", "main");
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") }, "release");
      repo.retarget(number, "main", "alice");
      expect(repo.pull(number).timeline).toMatchObject([
        { type: "BaseRefChangedEvent", actor: "alice", previousRefName: "release", currentRefName: "main" },
      ]);
      expect(github.lastWebhook("pull_request.edited")).toMatchObject({
        changes: { base: { ref: { from: "release" }, sha: { from: base } } },
        pull_request: { base: { ref: "main" } },
      });
    });

    it("record force pushes of their base branch", () => {
      repo.createBranch("release", "main");
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") }, "release");
      const moved = repo.commit("release", { files: { "RELEASE.md": "1\n" }, author: "bob" });
      expect(() => repo.push("release", base, { pusher: "bob" })).toThrow("not a fast-forward");
      repo.push("release", base, { force: true, pusher: "bob" });
      expect(repo.pull(number).timeline).toMatchObject([
        { type: "BaseRefForcePushedEvent", ref: "release", beforeCommit: moved, afterCommit: base },
      ]);
      expect(repo.activity.all().at(-1)).toMatchObject({ activityType: "force_push", before: moved, after: base });
    });
  });

  describe("reviews", () => {
    it("follow GitHub's rules: not by the author, on a commit of the pull request, also after the merge", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") });
      expect(() => repo.review(number, "alice", "APPROVED")).toThrow(new PullRequestError("Can not approve your own pull request"));
      expect(() => repo.review(number, "alice", "CHANGES_REQUESTED")).toThrow("Can not request changes on your own pull request");
      repo.review(number, "alice", "COMMENTED");
      expect(() => repo.review(number, "bob", "APPROVED", { commitId: base })).toThrow("is not a commit of");
      const merged = repo.merge(number, { by: "bob" });
      repo.review(number, "carol", "APPROVED");
      const reviews = repo.pull(number).reviews;
      expect(reviews.map((review) => [review.login, review.state, review.commitId])).toEqual([
        ["alice", "COMMENTED", repo.pull(number).headSha],
        ["carol", "APPROVED", repo.pull(number).headSha],
      ]);
      expect(reviews[1]!.submittedAt.getTime()).toBeGreaterThan(repo.pull(number).merged!.at.getTime());
      expect(merged.sha).toBe(repo.pull(number).merged!.commitSha);
    });

    it("can be dismissed (an approval then shows DISMISSED)", () => {
      const number = openRequest(repo, "alice/a", { "access-requests/a.yaml": request("a") });
      const id = repo.review(number, "bob", "APPROVED");
      repo.dismissReview(number, id, "Codertocat");
      repo.review(number, "carol", "DISMISSED");
      expect(repo.pull(number).reviews.map((review) => review.state)).toEqual(["DISMISSED", "DISMISSED"]);
      expect(github.lastWebhook("pull_request_review.dismissed")).toMatchObject({
        review: { state: "dismissed", user: { login: "carol" } },
      });
    });
  });

  describe("worlds GitHub cannot be in", () => {
    it("cannot be built", () => {
      expect(() => repo.commit("feature", { files: { a: "a" }, author: "alice" })).toThrow("no branch feature");
      expect(() => repo.commit("main", { files: { "README.md/x": "a" }, author: "alice" })).toThrow("README.md is a file");
      expect(() => repo.commit("main", { files: { "gone.md": null }, author: "alice" })).toThrow("no such file");
      expect(() => repo.commit("main", { files: { "a.md": "a" }, author: "eve" })).toThrow("@eve cannot push");
      repo.createBranch("alice/empty", "main", "alice");
      expect(() => repo.openPull({ head: "alice/empty", author: "alice" })).toThrow("No commits between main and alice/empty");
      expect(() => repo.deleteBranch("main")).toThrow("default branch");
      expect(() => github.clock.set("2026-11-25T08:00:00Z")).toThrow("cannot set the clock back");
    });

    it("gives every event its own, ordered time", () => {
      repo.directPush("main", { "a.md": "a" }, "bob");
      repo.directPush("main", { "b.md": "b" }, "bob");
      const times = repo.activity.all().map((entry) => entry.timestamp.getTime());
      expect(times).toEqual([...new Set(times)].sort((a, b) => a - b));
      expect(repo.activity.all()[0]).toMatchObject({ activityType: "branch_creation", before: ZERO_SHA, after: base });
    });
  });
});
