/**
 * One access repository with one merged request, as the merge and command tests need it:
 * policy and CODEOWNERS at the base, the request at the head and at the merge commit, a code
 * owner's approval of the head, and the PR's commits.
 */
import type { FakeGitHub } from "./fake-github.js";
import type { MergeScenario } from "./payloads.js";

export const BASE = "b".repeat(40);
export const HEAD = "a".repeat(40);
export const OLD_HEAD = "0".repeat(40);
export const MERGE = "e".repeat(40);
export const REPO = "/repos/Codertocat/Hello-World";
export const FILE = "access-requests/alice.yaml";

export const POLICY = `users:
  alice: alice@example.com
rules:
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 8h
`;
export const REQUEST = `account: "123456789012"
permission_set: ReadOnlyAccess
duration: 2h
reason: "Investigate the latency alarms"
`;
export const scenario: MergeScenario = { number: 7, headSha: HEAD, baseSha: BASE, author: "alice", mergeCommitSha: MERGE };

export interface Setup {
  files?: { filename: string; status: string }[];
  codeowners?: string;
  reviews?: { login: string; state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED"; commitId: string }[];
  commits?: { sha: string; author: string | null; committer: string | null }[];
  /** The request file's content at the head (and at the merge, unless atMerge says otherwise). */
  request?: string | Uint8Array;
  atMerge?: string;
  /** When GitHub says the PR was merged (default: two minutes before the tests' noon). */
  mergedAt?: string;
}

export function seed(github: FakeGitHub, setup: Setup = {}) {
  // The merge commit holds the base's policy and CODEOWNERS too, as a real merge would.
  for (const commit of [BASE, MERGE]) {
    github.setFile(commit, ".github/jitsudo.yml", POLICY);
    github.setFile(commit, ".github/CODEOWNERS", setup.codeowners ?? "/access-requests/ @bob @acme/platform\n");
  }
  github.setFile(HEAD, FILE, setup.request ?? REQUEST);
  github.setFile(MERGE, FILE, setup.atMerge ?? setup.request ?? REQUEST);
  github.parents.set(MERGE, [BASE, HEAD]);
  github.refs.set("main", MERGE);
  github.addPull({
    number: 7,
    headSha: HEAD,
    baseSha: BASE,
    baseRef: "main",
    author: "alice",
    state: "closed",
    files: setup.files ?? [{ filename: FILE, status: "added" }],
    merged: { sha: MERGE, at: setup.mergedAt ?? "2026-11-25T11:58:00Z", by: "bob" },
  });
  github.reviews.set(7, setup.reviews ?? [{ login: "bob", state: "APPROVED", commitId: HEAD }]);
  github.commits.set(7, setup.commits ?? [{ sha: HEAD, author: "alice", committer: "alice" }]);
  for (const login of ["bob", "carol", "alice", "mallory"]) github.permissions.set(login, "write");
}


export interface FollowUp {
  number: number;
  head: string;
  merge: string;
  /** Changed files: content for added or modified ones, null for deleted ones. */
  changes: Record<string, string | null>;
  reviews: Setup["reviews"];
  author?: string;
}

/**
 * A later pull request on top of the first merge: its base is the first merge commit, so the
 * policy, CODEOWNERS and the first request are all there.
 */
export function seedFollowUp(github: FakeGitHub, pull: FollowUp): MergeScenario {
  const base = MERGE;
  for (const [path, bytes] of github.trees.get(base) ?? []) {
    if (!(path in pull.changes)) for (const commit of [pull.head, pull.merge]) github.setFile(commit, path, bytes);
  }
  for (const [path, content] of Object.entries(pull.changes)) {
    if (content !== null) for (const commit of [pull.head, pull.merge]) github.setFile(commit, path, content);
  }
  github.parents.set(pull.merge, [base, pull.head]);
  const author = pull.author ?? "alice";
  github.addPull({
    number: pull.number,
    headSha: pull.head,
    baseSha: base,
    baseRef: "main",
    author,
    state: "closed",
    files: Object.entries(pull.changes).map(([filename, content]) => ({ filename, status: content === null ? "removed" : "modified" })),
    merged: { sha: pull.merge, at: "2026-11-25T12:00:00Z", by: "bob" },
  });
  github.reviews.set(pull.number, pull.reviews ?? []);
  github.commits.set(pull.number, [{ sha: pull.head, author, committer: author }]);
  return { number: pull.number, headSha: pull.head, baseSha: base, author, mergeCommitSha: pull.merge };
}
