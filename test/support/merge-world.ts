/**
 * One access repository with one merged request, as the merge and command tests need it, built
 * the way it happens on GitHub: the policy and CODEOWNERS committed to main, a branch, the request
 * committed and a pull request opened, a code owner's review, the merge. Every SHA is computed by
 * the local GitHub and exported, and the webhooks are the ones GitHub would send.
 */
import type { FakeGitHub } from "./fake-github.js";
import type { FileSpec, MergeMethod, PersonSpec, Repository, ReviewState } from "../../src/sandbox/github.js";
import { policyYaml, requestYaml } from "./policy-fixtures.js";

export const REPO = "/repos/Codertocat/Hello-World";
export const FILE = "access-requests/alice.yaml";
export const BRANCH = "alice/access";
export const CODEOWNERS = "/access-requests/ @bob @acme/platform\n";

export const POLICY = policyYaml({ users: { alice: "alice@example.com" } });
export const REQUEST = requestYaml();

export interface ReviewSetup {
  login: string;
  state: ReviewState;
  /** The commit reviewed: the pull request's first commit, or its head when merged (default). */
  on?: "first" | "head";
}

export interface Setup {
  codeowners?: string;
  /** `.github/jitsudo.yml` at the base (default POLICY). */
  policy?: string;
  /** The request file's content at the head; null: the pull request adds no request file. */
  request?: string | Uint8Array | null;
  /** Content of the request in a first commit, before the commit that makes it `request`. */
  draft?: string;
  /** Other files the request's commit changes (null deletes). */
  alsoChanges?: Record<string, FileSpec>;
  /** Who wrote and committed the request's commit (default alice, who pushes it). */
  author?: PersonSpec;
  committer?: PersonSpec;
  reviews?: ReviewSetup[];
  /** The branch the pull request targets (default main). */
  base?: string;
  /**
   * The request file also edited on the base branch while the pull request was open: it was
   * `before` when the branch was made, bob pushed `onBase` to the base branch, and the merge's
   * clean three-way merge of the two edits gave `merged`.
   */
  concurrentEdit?: { before: string; onBase: string; merged: string };
  method?: MergeMethod;
  mergedBy?: string;
  /** When GitHub says the PR was merged (default: two minutes before the tests' noon). */
  mergedAt?: string;
}

export interface SeededMerge {
  repo: Repository;
  number: number;
  /** main before the pull request's branch was made. */
  base: string;
  /** The pull request's first and last commits. */
  first: string;
  head: string;
  /** merge_commit_sha. */
  merge: string;
  /** The webhooks GitHub sent for the merge. */
  closed: Record<string, unknown>;
  push: Record<string, unknown>;
}

/** The first 7 characters, as jitsudo's messages show commits and blobs. */
export const short = (sha: string) => sha.slice(0, 7);

export function seed(github: FakeGitHub, setup: Setup = {}): SeededMerge {
  const repo = github.repo;
  for (const login of ["bob", "carol", "alice", "mallory"]) repo.setPermission(login, "write");
  repo.setPermission("admin", "admin");
  github.grantTeam("acme", "platform", repo, "write");
  repo.commit("main", {
    files: {
      ".github/jitsudo.yml": setup.policy ?? POLICY,
      ".github/CODEOWNERS": setup.codeowners ?? CODEOWNERS,
      "README.md": "# Access requests\n",
      ...(setup.concurrentEdit ? { [FILE]: setup.concurrentEdit.before } : {}),
    },
    author: "Codertocat",
    message: "Access policy and code owners",
  });
  const base = setup.base ?? "main";
  if (base !== "main") repo.createBranch(base, "main");
  const baseSha = repo.branch(base)!;
  repo.createBranch(BRANCH, base, "alice");
  const request = setup.request === undefined ? REQUEST : setup.request;
  const commitRequest = (content: string | Uint8Array | null, extra: Record<string, FileSpec>) =>
    repo.commit(BRANCH, {
      files: { ...(content === null ? {} : { [FILE]: content }), ...extra },
      author: setup.author ?? "alice",
      ...(setup.committer !== undefined ? { committer: setup.committer } : {}),
      pusher: "alice",
    });
  const first = commitRequest(setup.draft ?? request, setup.alsoChanges ?? {});
  const number = repo.openPull({ head: BRANCH, base, author: "alice", title: "Access for the latency alarms" });
  const reviews = setup.reviews ?? [{ login: "bob", state: "APPROVED" }];
  for (const review of reviews.filter((candidate) => candidate.on === "first")) repo.review(number, review.login, review.state);
  if (setup.draft !== undefined) commitRequest(request, {});
  for (const review of reviews.filter((candidate) => candidate.on !== "first")) repo.review(number, review.login, review.state);
  if (setup.concurrentEdit) repo.directPush(base, { [FILE]: setup.concurrentEdit.onBase }, "bob");
  github.clock.set(setup.mergedAt ?? "2026-11-25T11:58:00Z");
  const merged = repo.merge(number, {
    method: setup.method ?? "merge",
    by: setup.mergedBy ?? "bob",
    ...(setup.concurrentEdit ? { mergedContent: { [FILE]: setup.concurrentEdit.merged } } : {}),
  });
  return {
    repo,
    number,
    base: baseSha,
    first,
    head: repo.pull(number).headSha,
    merge: merged.sha,
    closed: merged.closed,
    push: merged.push,
  };
}

export interface FollowUp {
  /** Changed files: content for added or modified ones, null for deleted ones. */
  changes: Record<string, string | null>;
  reviews: { login: string; state: ReviewState }[];
  author?: string;
  mergedAt?: string;
}

/** A later pull request on top of the first merge: policy, CODEOWNERS and the first request are all there. */
export function seedFollowUp(github: FakeGitHub, pull: FollowUp): SeededMerge {
  const repo = github.repo;
  const author = pull.author ?? "alice";
  const base = repo.branch("main")!;
  const branch = `${author}/follow-up-${repo.pulls.size + 1}`;
  repo.createBranch(branch, "main", author);
  const head = repo.commit(branch, { files: pull.changes, author });
  const number = repo.openPull({ head: branch, author, title: "Change my access" });
  for (const review of pull.reviews) repo.review(number, review.login, review.state);
  github.clock.set(pull.mergedAt ?? "2026-11-25T12:00:00Z");
  const merged = repo.merge(number, { by: "bob" });
  return { repo, number, base, first: head, head, merge: merged.sha, closed: merged.closed, push: merged.push };
}
