import { describe, expect, it } from "vitest";
import type { FileBytes, PullFile } from "../../src/github/types.js";
import { reviewPullRequest, type PullRequestEvidence } from "../../src/approval/pull-request-review.js";

const enc = (text: string): FileBytes => ({ kind: "file", bytes: new TextEncoder().encode(text), blobSha: "0".repeat(40) });
const missing: FileBytes = { kind: "missing" };
const POLICY = 'rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n';
const VALID = 'account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Investigate the alarms"\n';

function evidence(files: PullFile[], overrides: Partial<PullRequestEvidence> = {}): PullRequestEvidence {
  return {
    pr: {
      number: 7,
      headSha: "a".repeat(40),
      baseSha: "b".repeat(40),
      baseRef: "main",
      authorLogin: "alice",
      state: "open",
      changedFiles: files.length,
      commitCount: 1,
    },
    defaultBranch: "main",
    files,
    configFile: enc(POLICY),
    codeownersFiles: [enc("/access-requests/ @bob\n/access-requests/prod/ @carol\n"), missing, missing],
    requestFiles: new Map(files.filter((file) => file.status !== "removed").map((file) => [file.path, enc(VALID)])),
    listedCommits: 1,
    governanceChanges: [],
    githubCodeowners: { kind: "ok", errors: [] },
    now: new Date("2026-11-25T12:00:00Z"),
    ...overrides,
  };
}

const added = (path: string): PullFile => ({ path, status: "added" });

describe("reviewPullRequest", () => {
  it("passes a valid request and lists its code owners", () => {
    const review = reviewPullRequest(evidence([added("access-requests/prod/alice.yaml")]));
    expect([review.conclusion, review.touchesRequests, review.blockers]).toEqual(["success", true, []]);
    expect(review.requests.map((request) => [request.file, request.valid, request.owners])).toEqual([
      ["access-requests/prod/alice.yaml", true, [{ kind: "user", login: "carol" }]],
    ]);
  });

  it("has nothing to say about a PR that touches no request file", () => {
    const review = reviewPullRequest(evidence([added("README.md"), added(".github/CODEOWNERS")]));
    expect([review.conclusion, review.touchesRequests, review.requests, review.blockers]).toEqual(["success", false, [], []]);
  });

  it("fails a PR that also changes CODEOWNERS or the policy", () => {
    const review = reviewPullRequest(evidence([added("access-requests/a.yaml"), { path: ".github/jitsudo.yml", status: "modified" }]));
    expect(review.conclusion).toBe("failure");
    expect(review.blockers).toEqual([
      {
        path: ".github/jitsudo.yml",
        message:
          "this pull request also changes .github/jitsudo.yml; changes to code owners or policy must be merged in their own pull request, before or after the access request",
      },
    ]);
  });

  it("fails a PR aimed at another branch than the default", () => {
    const review = reviewPullRequest(evidence([added("access-requests/a.yaml")], { defaultBranch: "trunk" }));
    expect(review.blockers.map((blocker) => blocker.message)).toEqual([
      "this pull request targets main, not the default branch trunk; only merges into trunk grant access",
    ]);
  });

  it("fails closed without a policy, or with an invalid CODEOWNERS line", () => {
    const noPolicy = reviewPullRequest(evidence([added("access-requests/a.yaml")], { configFile: missing }));
    expect(noPolicy.conclusion).toBe("failure");
    expect(noPolicy.blockers[0]!.message).toBe(
      ".github/jitsudo.yml does not exist on the base branch, so no policy allows any request; an admin must add it",
    );
    const badOwners = reviewPullRequest(
      evidence([added("access-requests/a.yaml")], { codeownersFiles: [missing, enc("* @admins\n!access-requests/ @alice\n"), missing] }),
    );
    expect(badOwners.conclusion).toBe("failure");
    expect(badOwners.blockers.map((blocker) => blocker.message)).toEqual([
      'CODEOWNERS line 2 on the base branch is invalid ("!access-requests/" uses negation ("!"), which CODEOWNERS does not support; GitHub ignores this line); no request can be approved until it is fixed',
    ]);
  });

  it("treats a renamed request file as the removal of the old path and a new request", () => {
    const review = reviewPullRequest(
      evidence([{ path: "access-requests/prod/b.yaml", status: "renamed", previousPath: "access-requests/a.yaml" }]),
    );
    expect(review.removals).toEqual([{ path: "access-requests/a.yaml", owners: [{ kind: "user", login: "bob" }] }]);
    expect(review.requests.map((request) => request.file)).toEqual(["access-requests/prod/b.yaml"]);
  });

  it("ignores, and names, files under access-requests/ that are not YAML", () => {
    const review = reviewPullRequest(
      evidence([added("access-requests/a.json"), added("access-requests/README.md"), added("access-requests/b.yaml")]),
    );
    expect(review.ignored).toEqual(["access-requests/a.json"]);
    expect(review.requests.map((request) => request.file)).toEqual(["access-requests/b.yaml"]);
  });

  it("refuses request files it could not read as regular files", () => {
    const requestFiles = new Map<string, FileBytes>([
      ["access-requests/big.yaml", { kind: "too-large", size: 1_048_576, blobSha: "c".repeat(40) }],
      ["access-requests/link.yaml", { kind: "not-a-file", entry: "symlink" }],
    ]);
    const review = reviewPullRequest(evidence([added("access-requests/big.yaml"), added("access-requests/link.yaml")], { requestFiles }));
    expect(review.requests.map((request) => request.problems.map((problem) => problem.message))).toEqual([
      ["file is 1048576 bytes, over the limit of 8192 bytes; keep only the request in it"],
      ["is not a regular file (a symlink); a request must be a plain YAML file"],
    ]);
  });

  it("blocks a request whose owners depend on how GitHub reads a wildcard, naming the line", () => {
    const review = reviewPullRequest(
      evidence([added("access-requests/alice.yaml")], { codeownersFiles: [enc("* @bob\naccess-req* @carol\n"), missing, missing] }),
    );
    expect(review.conclusion).toBe("failure");
    expect(review.blockers).toEqual([
      { path: "access-requests/alice.yaml", message: expect.stringMatching(/^\.github\/CODEOWNERS line 2 \("access-req\*"\)/) },
    ]);
  });

  it("blocks a file whose name holds a line break, showing the name escaped", () => {
    const review = reviewPullRequest(evidence([added("access-requests/a\nb.yaml")]));
    expect(review.conclusion).toBe("failure");
    expect(review.blockers.map((blocker) => [blocker.path, blocker.message.split(";")[0]])).toEqual([
      [
        undefined,
        "access-requests/a\\u000ab.yaml: the file name holds U+000A (a control, line-break, invisible or text-direction character) at position 18",
      ],
    ]);
  });

  it("blocks a pull request with more files than GitHub lists, or a commit that changed and reverted CODEOWNERS", () => {
    const big = reviewPullRequest(evidence([added("docs/a.md")], { pr: { ...evidence([]).pr, changedFiles: 3001 } }));
    expect([big.touchesRequests, big.conclusion]).toEqual([true, "failure"]);
    const reverted = reviewPullRequest(
      evidence([added("access-requests/alice.yaml")], { governanceChanges: [{ sha: "c".repeat(40), paths: [".github/CODEOWNERS"] }] }),
    );
    expect(reverted.blockers.map((blocker) => blocker.message.split(";")[0])).toEqual([
      "commit ccccccc of this pull request changes .github/CODEOWNERS",
    ]);
  });
});
