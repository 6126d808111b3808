/**
 * The merge verdict, one test per rule of docs "The verdict" and per attack of "Attacks to refuse"
 * that can be judged from fetched data alone. Evidence is built with small helpers: a valid,
 * approvable merge by default, which each test breaks in exactly one way.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { judgeMerge, lookupsNeeded, teamKey, type MergeEvidence } from "../../src/approval/approval.js";
import type { FileBytes, PullCommit, PullFile, RepoPermission, Review, TeamExistence, TeamMembership } from "../../src/github/types.js";

const HEAD = "4d5e6f7" + "a".repeat(33);
const OLD_HEAD = "1a2b3c4" + "b".repeat(33);
const MERGE = "9f9f9f9" + "c".repeat(33);
const BASE = "0b0b0b0" + "d".repeat(33);
const COMMIT = "5c5c5c5" + "e".repeat(33);
const FRIEND_COMMIT = "9f8e7d6" + "f".repeat(33);
const NOW = new Date("2026-11-25T12:00:00Z");
const MERGED_AT = new Date("2026-11-25T11:59:00Z");

// Rule lines: rules[0] on line 5, rules[1] on line 8, rules[2] on line 13.
const POLICY = `users:
  alice: alice@example.com
  frank: frank@example.com
rules:
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 8h
  - permission_sets: [AdministratorAccess]
    accounts: ["123456789012"]
    max_duration: 2h
    approvals: 2
    require_ticket: true
  - permission_sets: [BreakGlass]
    accounts: ["*"]
    max_duration: 1h
    allow_other_principal: true
`;
const CODEOWNERS = `# access approvals
/access-requests/ @bob @acme/platform
/access-requests/prod/ @carol @acme/sre
/access-requests/legacy/ security@example.com
/access-requests/mixed/ @bob security@example.com
/access-requests/unowned/
`;
const READ_ONLY = `account: "123456789012"
permission_set: ReadOnlyAccess
duration: 2h
reason: "Investigate the latency alarms"
`;
const ADMIN = `account: "123456789012"
permission_set: AdministratorAccess
duration: 2h
reason: "Restore the failed deploy"
ticket: INC-4711
`;

const REQUEST = "access-requests/alice.yaml";

function bytes(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

function blobShaOf(content: string | Uint8Array): string {
  return createHash("sha1").update(bytes(content)).digest("hex");
}

/** A file as the gateway returns it, with a blob SHA that changes with the content. */
function blob(content: string | Uint8Array): FileBytes {
  return { kind: "file", bytes: bytes(content), blobSha: blobShaOf(content) };
}

const missing: FileBytes = { kind: "missing" };
const added = (path: string): PullFile => ({ path, status: "added" });

let reviewId = 0;
function review(login: string, state: Review["state"], commitId = HEAD): Review {
  reviewId++;
  return { id: reviewId, login, state, commitId, submittedAt: new Date(NOW.getTime() - 3_600_000 + reviewId * 1000).toISOString() };
}
const approve = (login: string, commitId = HEAD) => review(login, "APPROVED", commitId);

const byAlice: PullCommit = { sha: COMMIT, parents: [BASE], authorLogin: "alice", committerLogin: "alice" };

/** Request paths get the same content at the merge and at the head unless a test says otherwise. */
function evidence(requests: Record<string, string | Uint8Array>, overrides: Partial<MergeEvidence> = {}): MergeEvidence {
  const contents = new Map(Object.entries(requests).map(([path, content]) => [path, blob(content)]));
  return {
    pr: { number: 7, authorLogin: "alice", headSha: HEAD, baseRef: "main", mergeCommitSha: MERGE, mergedBy: "bob", mergedAt: MERGED_AT },
    defaultBranch: "main",
    base: { proven: true, baseSha: BASE, how: "the merge commit's first parent" },
    changedFiles: Object.keys(requests).length,
    commitCount: 1,
    files: Object.keys(requests).map(added),
    configFile: blob(POLICY),
    codeownersFiles: [blob(CODEOWNERS), missing, missing],
    atMerge: contents,
    atHead: contents,
    reviews: [],
    commits: [byAlice],
    governanceChanges: [],
    githubCodeowners: { kind: "ok", errors: [] },
    repositoryListed: true,
    teamMemberships: new Map<string, TeamMembership>([
      [teamKey("acme", "platform", "dave"), "active"],
      [teamKey("acme", "platform", "paula"), "pending"],
      [teamKey("acme", "sre", "sam"), "active"],
    ]),
    permissions: new Map<string, RepoPermission>([
      ["bob", "write"],
      ["carol", "maintain"],
      ["dave", "admin"],
      ["paula", "write"],
      ["sam", "write"],
      ["erin", "read"],
      ["frank", "write"],
      ["mallory", "write"],
      ["zed", "write"],
    ]),
    now: NOW,
    ...overrides,
  };
}

/** The one file's verdict, for single-file merges. */
function only(verdict: ReturnType<typeof judgeMerge>) {
  expect(verdict.files).toHaveLength(1);
  return verdict.files[0]!;
}

describe("judgeMerge: approved merges", () => {
  it("approves a valid request with one code-owner approval on the merged head", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("bob")] }));
    expect(verdict.approved).toBe(true);
    expect(verdict.reasons).toEqual([]);
    const file = only(verdict);
    expect(file).toMatchObject({
      path: REQUEST,
      kind: "grant",
      approved: true,
      requiredApprovals: 1,
      approvers: ["bob"],
      blobSha: blobShaOf(READ_ONLY),
      window: { startsAt: NOW, expiresAt: new Date("2026-11-25T14:00:00Z") },
      reasons: [],
    });
    expect(file.review?.valid).toBe(true);
    expect(file.review?.decision?.principal).toBe("alice@example.com");
    // @bob is a user owner, so no team had to be asked about.
    expect(verdict.teamLookups).toEqual([]);
  });

  it("carries the tenant's AWS settings from the base config, where the grant will be provisioned", () => {
    const aws =
      "aws:\n  role_arn: arn:aws:iam::111111111111:role/jitsudo\n  region: eu-west-1\n  instance_arn: arn:aws:sso:::instance/ssoins-0123456789abcdef\n";
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("bob")], configFile: blob(aws + POLICY) }));
    expect(verdict.tenantAws).toEqual({
      roleArn: "arn:aws:iam::111111111111:role/jitsudo",
      region: "eu-west-1",
      instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
    });
  });

  it("approves a 2-approval request with a user owner and an active member of a team owner", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: ADMIN }, { reviews: [approve("bob"), approve("dave")] }));
    expect(verdict.approved).toBe(true);
    expect(only(verdict)).toMatchObject({ approved: true, requiredApprovals: 2, approvers: ["bob", "dave"], reasons: [] });
    expect(verdict.teamLookups).toEqual([teamKey("acme", "platform", "dave")]);
  });

  it("counts a later APPROVED after CHANGES_REQUESTED", () => {
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY }, { reviews: [review("bob", "CHANGES_REQUESTED", OLD_HEAD), approve("bob")] }),
    );
    expect(verdict.approved).toBe(true);
    expect(only(verdict).approvers).toEqual(["bob"]);
  });

  it("does not let a later COMMENTED (or a pending draft) cancel an approval", () => {
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("bob"), review("bob", "COMMENTED"), review("bob", "PENDING")] }),
    );
    expect(verdict.approved).toBe(true);
    expect(only(verdict).approvers).toEqual(["bob"]);
  });

  it("matches user owners case-insensitively", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("BoB")] }));
    expect(verdict.approved).toBe(true);
    expect(only(verdict).approvers).toEqual(["BoB"]);
  });

  it("approves a rename only with the owners of both the new and the old path, and revokes the old path", () => {
    const renamed: PullFile = { path: "access-requests/prod/alice.yaml", status: "renamed", previousPath: REQUEST };
    const base = { files: [renamed] };
    const requests = { "access-requests/prod/alice.yaml": READ_ONLY };

    const both = judgeMerge(evidence(requests, { ...base, reviews: [approve("bob"), approve("carol")] }));
    expect(both.approved).toBe(true);
    expect(both.files.map((file) => [file.kind, file.path, file.approved, file.approvers])).toEqual([
      ["grant", "access-requests/prod/alice.yaml", true, ["bob", "carol"]],
      ["revoke", REQUEST, true, ["bob"]],
    ]);

    const newOwnerOnly = judgeMerge(evidence(requests, { ...base, reviews: [approve("carol")] }));
    expect(newOwnerOnly.approved).toBe(false);
    expect(newOwnerOnly.files.map((file) => file.reasons)).toEqual([
      [
        "renamed from access-requests/alice.yaml, so it also needs 1 approval from the code owners of access-requests/alice.yaml; has 0",
        "@carol is not a code owner of access-requests/alice.yaml",
      ],
      ["needs 1 code-owner approval, has 0", "@carol is not a code owner of access-requests/alice.yaml"],
    ]);

    const oldOwnerOnly = judgeMerge(evidence(requests, { ...base, reviews: [approve("bob")] }));
    expect(oldOwnerOnly.approved).toBe(false);
    expect(oldOwnerOnly.files.map((file) => [file.approved, file.reasons])).toEqual([
      [false, ["needs 1 code-owner approval, has 0", "@bob is not a code owner of access-requests/prod/alice.yaml"]],
      [true, []],
    ]);
  });

  it("approves the deletion of a request file as a revoke with one code-owner approval", () => {
    const files: PullFile[] = [{ path: REQUEST, status: "removed" }];
    const verdict = judgeMerge(evidence({}, { files, reviews: [approve("bob")] }));
    expect(verdict.approved).toBe(true);
    expect(verdict.files).toEqual([
      {
        path: REQUEST,
        kind: "revoke",
        approved: true,
        requiredApprovals: 1,
        approvers: ["bob"],
        approverSets: [{ path: REQUEST, approvers: ["bob"] }],
        reasons: [],
      },
    ]);

    const unapproved = judgeMerge(evidence({}, { files }));
    expect(unapproved.approved).toBe(false);
    expect(only(unapproved).reasons).toEqual(["needs 1 code-owner approval, has 0"]);
  });
});

describe("judgeMerge: the pull request as a whole", () => {
  it("says there is nothing to judge when no request file is touched", () => {
    const verdict = judgeMerge(evidence({}, { files: [added("README.md")], reviews: [approve("bob")] }));
    expect(verdict).toEqual({ approved: false, files: [], reasons: ["no request files"], teamLookups: [], tenantAws: {} });
  });

  it("grants nothing for a merge into another branch than the default", () => {
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY }, { pr: { ...evidence({}).pr, baseRef: "release" }, reviews: [approve("bob")] }),
    );
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      "this pull request was merged into release, not the default branch main; only merges into main grant or revoke access",
    ]);
    // Whoever controls that branch controls its CODEOWNERS and policy: nothing there is judged.
    expect(verdict.files).toEqual([]);
  });

  it("fails closed when the tenant config is missing at the base", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { configFile: missing, reviews: [approve("bob")] }));
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      ".github/jitsudo.yml does not exist on the base branch, so no policy allows any request; an admin must add it",
    ]);
  });

  it("fails closed when the tenant config is invalid at the base, naming the line", () => {
    const invalid = POLICY.replace("max_duration: 8h", "max_duration: forever");
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { configFile: blob(invalid), reviews: [approve("bob")] }));
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      ".github/jitsudo.yml on the base branch is invalid, so nothing can be granted until an admin fixes it (problems listed below)",
      '.github/jitsudo.yml line 7: rules[0].max_duration "forever" is not a duration; write it as 30m, 2h, 1h30m, 1d or PT2H',
    ]);
  });

  it("fails closed without a CODEOWNERS file at the base", () => {
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY }, { codeownersFiles: [missing, missing, missing], reviews: [approve("bob")] }),
    );
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      "the base branch has no CODEOWNERS file (.github/CODEOWNERS, CODEOWNERS or docs/CODEOWNERS), so nobody can approve requests",
    ]);
    expect(only(verdict).reasons).toEqual(["needs 1 code-owner approval, has 0"]);
  });

  it("fails closed while CODEOWNERS at the base has any invalid line, naming it", () => {
    const broken = `${CODEOWNERS}!/access-requests/secret/ @mallory\n`;
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY }, { codeownersFiles: [blob(broken), missing, missing], reviews: [approve("bob")] }),
    );
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      '.github/CODEOWNERS line 7 on the base branch is invalid ("!/access-requests/secret/" uses negation ("!"), which CODEOWNERS does not support; GitHub ignores this line); no request can be approved until it is fixed',
    ]);
    expect(only(verdict).approved).toBe(true);
  });

  it("reads CODEOWNERS from the first location present at the base", () => {
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { codeownersFiles: [missing, blob("/access-requests/ @zed\n"), blob(CODEOWNERS)], reviews: [approve("bob")] },
      ),
    );
    expect(only(verdict).reasons).toEqual(["needs 1 code-owner approval, has 0", "@bob is not a code owner of access-requests/alice.yaml"]);
  });

  it("refuses a merge with a commit whose author GitHub could not link to an account", () => {
    const unlinked: PullCommit = { sha: FRIEND_COMMIT, parents: [COMMIT], committerLogin: "alice" };
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { commits: [byAlice, unlinked, { sha: OLD_HEAD, parents: [FRIEND_COMMIT] }], reviews: [approve("bob")] },
      ),
    );
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      "commit 9f8e7d6's author is not linked to a GitHub account, so jitsudo cannot tell whether an approver wrote it",
      "commit 1a2b3c4's author and committer are not linked to a GitHub account, so jitsudo cannot tell whether an approver wrote it",
    ]);
  });
});

describe("judgeMerge: each request file", () => {
  it("re-validates the merged content against the base policy", () => {
    const tooLong = ADMIN.replace("duration: 2h", "duration: 4h");
    const verdict = judgeMerge(evidence({ [REQUEST]: tooLong }, { reviews: [approve("bob"), approve("dave")] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual([
      'line 3: duration "4h" is longer than the 2h that rules[1] (.github/jitsudo.yml line 8) allows; ask for 2h or less',
    ]);
  });

  it("refuses content at the merge commit that is not the approved head's blob", () => {
    const merged = READ_ONLY.replace("2h", "8h");
    const atMerge = new Map([[REQUEST, blob(merged)]]);
    const atHead = new Map([[REQUEST, blob(READ_ONLY)]]);
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { atMerge, atHead, reviews: [approve("bob")] }));
    const file = only(verdict);
    expect(file.approved).toBe(false);
    const mergedSha = blobShaOf(merged);
    const headSha = blobShaOf(READ_ONLY);
    expect(file.blobSha).toBe(mergedSha);
    expect(file.reasons).toEqual([
      `content at the merge commit differs from the approved head (blob ${mergedSha.slice(0, 7)} at 9f9f9f9, blob ${headSha.slice(0, 7)} at 4d5e6f7); approvals only cover the content they approved`,
    ]);
    // The window and review describe what was merged, not what was approved.
    expect(file.window?.expiresAt).toEqual(new Date("2026-11-25T20:00:00Z"));
  });

  it("refuses a request file missing at the approved head", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { atHead: new Map(), reviews: [approve("bob")] }));
    expect(only(verdict).reasons).toEqual([
      `content at the merge commit differs from the approved head (blob ${blobShaOf(READ_ONLY).slice(0, 7)} at 9f9f9f9, no such file at 4d5e6f7); approvals only cover the content they approved`,
    ]);
  });

  it("says who approved, and who did not count, when approvals are short", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: ADMIN }, { reviews: [approve("bob"), approve("zed")] }));
    expect(only(verdict)).toMatchObject({
      approved: false,
      requiredApprovals: 2,
      approvers: ["bob"],
      reasons: ["needs 2 code-owner approvals, has 1 (@bob)", "@zed is not a code owner of access-requests/alice.yaml"],
    });
  });

  it("cancels an approval with a later CHANGES_REQUESTED or DISMISSED", () => {
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { reviews: [approve("bob"), approve("dave"), review("bob", "CHANGES_REQUESTED"), review("dave", "DISMISSED")] },
      ),
    );
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@bob requested changes after approving, which withdraws the approval",
      "@dave's latest review was dismissed, so it does not count",
    ]);
  });

  it("requires write access of every approver", () => {
    const permissions = new Map<string, RepoPermission>([
      ["erin", "read"],
      ["bob", "none"],
    ]);
    const codeowners = blob("/access-requests/ @bob @erin @carol\n");
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { permissions, codeownersFiles: [codeowners, missing, missing], reviews: [approve("erin"), approve("bob"), approve("carol")] },
      ),
    );
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@erin has read permission on the repository; approvers need write",
      "@bob has no permission on the repository; approvers need write",
      "@carol's permission on the repository is unknown; approvers need write",
    ]);
  });

  it("never counts an e-mail owner, and says so", () => {
    const legacy = judgeMerge(evidence({ "access-requests/legacy/alice.yaml": READ_ONLY }, { reviews: [approve("bob")] }));
    expect(only(legacy).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "access-requests/legacy/alice.yaml is owned only by e-mail address (security@example.com) in .github/CODEOWNERS, and GitHub does not say which account owns an address, so nobody can approve it; list owners as @user or @org/team",
    ]);
    const mixed = judgeMerge(evidence({ "access-requests/mixed/alice.yaml": ADMIN }, { reviews: [approve("bob"), approve("zed")] }));
    expect(only(mixed).reasons).toEqual([
      "needs 2 code-owner approvals, has 1 (@bob)",
      "@zed is not a code owner of access-requests/mixed/alice.yaml",
      "code owners of access-requests/mixed/alice.yaml listed by e-mail address (security@example.com) cannot approve: GitHub does not say which account owns an address; list them as @user or @org/team",
    ]);
  });

  it("cannot approve a path that CODEOWNERS leaves without owners", () => {
    const verdict = judgeMerge(evidence({ "access-requests/unowned/alice.yaml": READ_ONLY }, { reviews: [approve("bob")] }));
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "access-requests/unowned/alice.yaml has no code owners in .github/CODEOWNERS, so nobody can approve it",
    ]);
  });

  it("judges every request file, and approves only when all are approved", () => {
    const verdict = judgeMerge(
      evidence({ [REQUEST]: READ_ONLY, "access-requests/prod/alice.yaml": READ_ONLY }, { reviews: [approve("bob")] }),
    );
    expect(verdict.approved).toBe(false);
    expect(verdict.files.map((file) => [file.path, file.approved])).toEqual([
      [REQUEST, true],
      ["access-requests/prod/alice.yaml", false],
    ]);
  });
});

describe("judgeMerge: attacks to refuse", () => {
  it("refuses the requester approving their own request", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("alice")] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@alice is the requester and cannot approve their own request",
    ]);
  });

  it("refuses approval through a second account that authored (or committed) a commit", () => {
    const commits: PullCommit[] = [
      byAlice,
      { sha: FRIEND_COMMIT, parents: [COMMIT], authorLogin: "Bob", committerLogin: "alice" },
      { sha: OLD_HEAD, parents: [FRIEND_COMMIT], authorLogin: "alice", committerLogin: "dave" },
    ];
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { commits, reviews: [approve("bob"), approve("dave")] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@bob authored a commit in this pull request (9f8e7d6)",
      "@dave committed a commit in this pull request (1a2b3c4)",
    ]);
  });

  it("refuses a stale approval of an older commit after more commits were pushed", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("bob", OLD_HEAD)] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual(["needs 1 code-owner approval, has 0", "@bob approved 1a2b3c4, not the merged head 4d5e6f7"]);
  });

  it("refuses a PR that edits CODEOWNERS to make the requester's friend an owner", () => {
    const files = [added(REQUEST), { path: ".github/CODEOWNERS", status: "modified" as const }];
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { files, reviews: [approve("mallory")] }));
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      "this pull request also changes .github/CODEOWNERS; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    ]);
    // Owners come from the base, where @mallory owns nothing.
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@mallory is not a code owner of access-requests/alice.yaml",
    ]);
  });

  it("refuses a PR that adds a CODEOWNERS file at another location", () => {
    const files = [added(REQUEST), added("docs/CODEOWNERS")];
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { files, reviews: [approve("bob")] }));
    expect(verdict.reasons).toEqual([
      "this pull request also changes docs/CODEOWNERS; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    ]);
  });

  it("refuses a PR that loosens .github/jitsudo.yml and requests under the loosened rule", () => {
    const files = [added(REQUEST), { path: ".github/jitsudo.yml", status: "modified" as const }];
    const eightHours = ADMIN.replace("duration: 2h", "duration: 8h");
    const verdict = judgeMerge(evidence({ [REQUEST]: eightHours }, { files, reviews: [approve("bob"), approve("dave")] }));
    expect(verdict.approved).toBe(false);
    expect(verdict.reasons).toEqual([
      "this pull request also changes .github/jitsudo.yml; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    ]);
    // Judged by the base policy, not the PR's own.
    expect(only(verdict).reasons).toEqual([
      'line 3: duration "8h" is longer than the 2h that rules[1] (.github/jitsudo.yml line 8) allows; ask for 2h or less',
    ]);
  });

  it("grants nothing when an admin merges with no qualifying approval", () => {
    const pr = { ...evidence({}).pr, mergedBy: "dave" };
    const verdict = judgeMerge(evidence({ [REQUEST]: ADMIN }, { pr }));
    expect(verdict).toMatchObject({ approved: false, reasons: [] });
    expect(only(verdict)).toMatchObject({ approved: false, approvers: [], reasons: ["needs 2 code-owner approvals, has 0"] });
  });

  it("refuses a principal other than the author's own when the policy does not allow it", () => {
    const forBob = `${READ_ONLY}principal: bob@example.com\n`;
    const verdict = judgeMerge(evidence({ [REQUEST]: forBob }, { reviews: [approve("bob")] }));
    expect(only(verdict).reasons).toEqual([
      'line 5: principal "bob@example.com" is not the author\'s own (alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 5) does not allow requesting for someone else, so remove principal',
    ]);
  });

  it("refuses an approval from the grantee when the policy allows requesting for someone else", () => {
    const forFrank = `account: "123456789012"\npermission_set: BreakGlass\nduration: 1h\nreason: "Frank is on call without a laptop"\nprincipal: Frank@Example.com\n`;
    const codeowners = blob("/access-requests/ @bob @frank\n");
    const verdict = judgeMerge(
      evidence({ [REQUEST]: forFrank }, { codeownersFiles: [codeowners, missing, missing], reviews: [approve("frank")] }),
    );
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@frank is the grantee (Frank@Example.com) and cannot approve access for themselves",
    ]);
    // On someone else's behalf, an approver counts only if mapped under users: (an unmapped login says
    // nothing about who they are in Identity Center); the worker then compares the users by id.
    const unmapped = judgeMerge(
      evidence({ [REQUEST]: forFrank }, { codeownersFiles: [codeowners, missing, missing], reviews: [approve("frank"), approve("bob")] }),
    );
    expect(only(unmapped).reasons).toContain(
      "@bob is not mapped to an Identity Center user under users: in .github/jitsudo.yml, so for a request on someone else's behalf jitsudo cannot show they are not the grantee",
    );
    const withBob = blob(POLICY.replace("  frank: frank@example.com\n", "  frank: frank@example.com\n  bob: bob@example.com\n"));
    const byBob = judgeMerge(
      evidence(
        { [REQUEST]: forFrank },
        { configFile: withBob, codeownersFiles: [codeowners, missing, missing], reviews: [approve("frank"), approve("bob")] },
      ),
    );
    expect(byBob.approved).toBe(true);
    expect(only(byBob).review?.decision?.principal).toBe("Frank@Example.com");
  });

  it("judges a later edit of a merged request file as a new request needing its own approvals", () => {
    const longer = READ_ONLY.replace("duration: 2h", "duration: 8h");
    const files: PullFile[] = [{ path: REQUEST, status: "modified" }];
    const unapproved = judgeMerge(evidence({ [REQUEST]: longer }, { files, pr: { ...evidence({}).pr, number: 8 } }));
    expect(unapproved.approved).toBe(false);
    expect(only(unapproved)).toMatchObject({ kind: "grant", reasons: ["needs 1 code-owner approval, has 0"] });

    const approved = judgeMerge(evidence({ [REQUEST]: longer }, { files, reviews: [approve("bob")] }));
    expect(approved.approved).toBe(true);
    // A new grant: its window runs from this merge, for the new duration.
    expect(only(approved).window).toEqual({ startsAt: NOW, expiresAt: new Date("2026-11-25T20:00:00Z") });
  });

  it("refuses an approval from a pending (not yet accepted) team member", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approve("paula")] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual(["needs 1 code-owner approval, has 0", "@paula's membership of @acme/platform is pending"]);
    expect(verdict.teamLookups).toEqual([teamKey("acme", "platform", "paula")]);
  });

  it("refuses a 1 MB request file, whether the gateway stopped reading it or not", () => {
    const huge = `${READ_ONLY}# ${"x".repeat(1024 * 1024)}\n`;
    const tooLarge: FileBytes = { kind: "too-large", size: 1_048_576, blobSha: "e".repeat(40) };
    const unread = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { atMerge: new Map([[REQUEST, tooLarge]]), atHead: new Map([[REQUEST, tooLarge]]), reviews: [approve("bob")] },
      ),
    );
    expect(only(unread)).toMatchObject({
      approved: false,
      blobSha: "e".repeat(40),
      reasons: ["line 1: file is 1048576 bytes, over the limit of 8192 bytes; keep only the request in it"],
    });
    expect(only(unread).window).toBeUndefined();

    const read = judgeMerge(evidence({ [REQUEST]: huge }, { reviews: [approve("bob")] }));
    expect(only(read).reasons).toEqual([
      `line 1: file is ${bytes(huge).byteLength} bytes, over the limit of 8192 bytes; keep only the request in it`,
    ]);
  });

  it("refuses a YAML alias bomb without expanding it", () => {
    const levels = Array.from({ length: 9 }, (_, level) =>
      level === 0
        ? 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'
        : `a${level}: &a${level} [${Array(9)
            .fill(`*a${level - 1}`)
            .join(", ")}]`,
    );
    const bomb = `${READ_ONLY}${levels.join("\n")}\n`;
    const verdict = judgeMerge(evidence({ [REQUEST]: bomb }, { reviews: [approve("bob")] }));
    expect(only(verdict).reasons).toEqual([
      "line 6: YAML aliases (*a0) are not allowed here; write the value out in full (72 aliases in this file)",
    ]);
  });

  it("refuses a request file that is not UTF-8", () => {
    const latin1 = Uint8Array.from([
      ...bytes('account: "123456789012"\npermission_set: ReadOnlyAccess\nduration: 2h\nreason: "Caf'),
      0xe9,
      ...bytes(' latency alarms"\n'),
    ]);
    const verdict = judgeMerge(evidence({ [REQUEST]: latin1 }, { reviews: [approve("bob")] }));
    expect(only(verdict).reasons).toEqual(["line 4: file is not valid UTF-8 (byte 0xE9); save it as UTF-8"]);
  });

  it("does not treat a file outside access-requests/ as a request", () => {
    for (const path of [
      "requests/alice.yaml",
      "docs/access-requests/alice.yaml",
      "access-requests-old/alice.yaml",
      "access-requests/README.md",
    ]) {
      const verdict = judgeMerge(evidence({ [path]: READ_ONLY }, { reviews: [approve("bob")] }));
      expect(verdict).toEqual({ approved: false, files: [], reasons: ["no request files"], teamLookups: [], tenantAws: {} });
    }
    const mixed = judgeMerge(evidence({ "requests/bob.yaml": READ_ONLY, [REQUEST]: READ_ONLY }, { reviews: [approve("bob")] }));
    expect(mixed.files.map((file) => file.path)).toEqual([REQUEST]);
  });
});

describe("lookupsNeeded", () => {
  it("asks exactly for what judgeMerge reads: teams of eligible non-user owners, and their permissions", () => {
    const reviews = [approve("bob"), approve("dave"), approve("paula"), approve("sam"), approve("alice"), approve("zed", OLD_HEAD)];
    const full = evidence({ [REQUEST]: ADMIN, "access-requests/prod/alice.yaml": READ_ONLY }, { reviews });
    const { teamMemberships: _teams, permissions: _permissions, ...rest } = full;
    const needed = lookupsNeeded(rest);
    // @alice (the requester) and @zed (stale) are out before any lookup; @bob is a user owner of
    // the first path but a team could still make him own the second.
    expect(needed).toEqual({
      teams: [
        { org: "acme", slug: "platform", login: "dave" },
        { org: "acme", slug: "platform", login: "paula" },
        { org: "acme", slug: "platform", login: "sam" },
        { org: "acme", slug: "sre", login: "bob" },
        { org: "acme", slug: "sre", login: "dave" },
        { org: "acme", slug: "sre", login: "paula" },
        { org: "acme", slug: "sre", login: "sam" },
      ],
      logins: ["bob", "dave", "paula", "sam"],
      existence: [],
    });
    const verdict = judgeMerge(full);
    expect(verdict.teamLookups).toEqual(needed.teams.map((team) => teamKey(team.org, team.slug, team.login)));
    expect(verdict.files.map((file) => [file.path, file.approvers])).toEqual([
      [REQUEST, ["bob", "dave"]],
      ["access-requests/prod/alice.yaml", ["sam"]],
    ]);
  });
});

describe("judgeMerge: the bypasses found from outside (github-approval.md, new attacks)", () => {
  const at = (login: string, state: Review["state"], submittedAt: Date, commitId = HEAD): Review => ({
    id: ++reviewId,
    login,
    state,
    commitId,
    submittedAt: submittedAt.toISOString(),
  });
  const afterMerge = new Date(MERGED_AT.getTime() + 1000);

  it("grants nothing without a proven base, and judges nothing else", () => {
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { base: { proven: false, retry: false, reason: "no record of the merge" }, reviews: [approve("bob")] },
      ),
    );
    expect([verdict.approved, verdict.reasons, verdict.files]).toEqual([false, ["no record of the merge"], []]);
  });

  it("does not count an approval submitted after the merge", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [at("bob", "APPROVED", afterMerge)] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@bob's review (approved) was submitted after the merge, and only reviews given before a merge count",
    ]);
  });

  it("places reviews by GitHub's timeline: one in the merge's second counts only if the timeline lists it before the merge", () => {
    const approval = at("bob", "APPROVED", MERGED_AT);
    const late = at("bob", "CHANGES_REQUESTED", afterMerge);
    const timeline = (order: "before" | "after") => ({
      complete: true,
      entries:
        order === "before"
          ? [
              { kind: "review" as const, id: approval.id, at: MERGED_AT },
              { kind: "merged" as const, at: MERGED_AT },
              { kind: "review" as const, id: late.id, at: afterMerge },
            ]
          : [
              { kind: "merged" as const, at: MERGED_AT },
              { kind: "review" as const, id: approval.id, at: MERGED_AT },
              { kind: "review" as const, id: late.id, at: afterMerge },
            ],
    });
    // Before the merge in GitHub's order: it counts, and the change request after the merge does not withdraw it.
    expect(judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approval, late], timeline: timeline("before") })).approved).toBe(true);
    // After the merge in GitHub's order, although in the same second: it does not count.
    const after = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approval, late], timeline: timeline("after") }));
    expect(only(after).reasons).toContain(
      "@bob's review (approved) was submitted after the merge, and only reviews given before a merge count",
    );
    // Without the merge in the timeline, only a review a whole second earlier is surely before it.
    expect(judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approval] })).approved).toBe(false);
  });

  it("does not count a review GitHub's timeline does not list, nor a timeline too long to read whole", () => {
    const approval = approve("bob");
    const missing = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { reviews: [approval], timeline: { complete: true, entries: [{ kind: "merged", at: MERGED_AT }] } },
      ),
    );
    expect(only(missing).reasons).toContain(
      "@bob's review (approved) is not in the pull request's timeline on GitHub, so jitsudo cannot place it before the merge",
    );
    const long = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        {
          reviews: [approval],
          timeline: {
            complete: false,
            entries: [
              { kind: "review", id: approval.id, at: NOW },
              { kind: "merged", at: MERGED_AT },
            ],
          },
        },
      ),
    );
    expect(long.reasons).toEqual([
      "GitHub's timeline of this pull request is longer than jitsudo reads (1,000 reviews and events), so it cannot place every review before or after the merge",
    ]);
  });

  it("keeps a withdrawal whose commit GitHub no longer has, and never counts an approval of one", () => {
    const approval = approve("bob");
    const withdrawal = { ...review("bob", "CHANGES_REQUESTED"), commitId: null };
    expect(only(judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [approval, withdrawal] }))).reasons).toContain(
      "@bob requested changes after approving, which withdraws the approval",
    );
    const gone = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [{ ...approval, commitId: null }] }));
    expect(only(gone).reasons).toContain(`@bob approved a commit GitHub no longer has, not the merged head ${HEAD.slice(0, 7)}`);
  });

  it("does not count a review whose submission time GitHub did not give", () => {
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { reviews: [{ ...approve("bob"), submittedAt: "" }] }));
    expect(only(verdict).reasons).toContain("@bob's review has no submission time from GitHub, so it does not count");
  });

  it("does not count an approval given before the pull request's base last changed", () => {
    const retargeted = new Date(MERGED_AT.getTime() - 60_000);
    const withBaseChange = (approval: Review) => ({
      complete: true,
      entries: [
        ...(approval.submittedAt <= retargeted.toISOString()
          ? [{ kind: "review" as const, id: approval.id, at: new Date(approval.submittedAt) }]
          : []),
        { kind: "base-changed" as const, at: retargeted },
        ...(approval.submittedAt > retargeted.toISOString()
          ? [{ kind: "review" as const, id: approval.id, at: new Date(approval.submittedAt) }]
          : []),
        { kind: "merged" as const, at: MERGED_AT },
      ],
    });
    const early = at("bob", "APPROVED", retargeted);
    const before = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { timeline: withBaseChange(early), reviews: [early] }));
    expect(only(before).reasons).toEqual([
      "needs 1 code-owner approval, has 0",
      "@bob approved before the pull request's base last changed (2026-11-25T11:58:00.000Z), when it showed a different diff; approvals count only when given after the last base change",
    ]);
    const later = at("bob", "APPROVED", new Date(retargeted.getTime() + 1000));
    const after = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { timeline: withBaseChange(later), reviews: [later] }));
    expect(after.approved).toBe(true);
  });

  it("grants nothing when GitHub lists fewer files or commits than the pull request has", () => {
    const files = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { changedFiles: 3001, reviews: [approve("bob")] }));
    expect([files.approved, files.reasons]).toEqual([
      false,
      [
        "GitHub lists only 1 of this pull request's 3001 changed files, so jitsudo cannot judge the ones it cannot see; split it into smaller pull requests",
      ],
    ]);
    const commits = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { commitCount: 251, reviews: [approve("bob")] }));
    expect(commits.reasons).toEqual([
      "GitHub lists only 1 of this pull request's 251 commits, so jitsudo cannot check who wrote them all; split it into smaller pull requests",
    ]);
  });

  it("does not call a partly listed pull request without request files 'nothing to judge'", () => {
    const verdict = judgeMerge(evidence({}, { files: [added("docs/readme.md")], changedFiles: 3001 }));
    expect(verdict.reasons[0]).toMatch(/^GitHub lists only 1 of this pull request's 3001 changed files/);
  });

  it("refuses a pull request with a commit that changes CODEOWNERS or the policy, even if reverted", () => {
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { governanceChanges: [{ sha: OLD_HEAD, paths: [".github/CODEOWNERS"] }], reviews: [approve("bob")] },
      ),
    );
    expect(verdict.reasons).toEqual([
      "commit 1a2b3c4 of this pull request changes .github/CODEOWNERS; even when a later commit changes it back, a pull request that touches code owners or policy grants nothing (a rebase merge lands every commit), so put such changes in their own pull request",
    ]);
  });

  it("fails closed on the CODEOWNERS errors GitHub itself reports at the base", () => {
    const report = {
      kind: "ok" as const,
      errors: [{ line: 2, kind: "Unknown owner", message: "Unknown owner on line 2", path: ".github/CODEOWNERS" }],
    };
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { githubCodeowners: report, reviews: [approve("bob")] }));
    expect(verdict.reasons).toEqual([
      "GitHub reports .github/CODEOWNERS line 2 at the base as invalid (Unknown owner) and ignores it; no request can be approved until it is fixed",
    ]);
    const none = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { githubCodeowners: { kind: "no-file" }, reviews: [approve("bob")] }));
    expect(none.approved).toBe(false);
  });

  it("uses jitsudo's own AWS credentials only for a repository the operator listed", () => {
    const unlisted = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { repositoryListed: false, reviews: [approve("bob")] }));
    expect(unlisted.reasons).toEqual([
      ".github/jitsudo.yml names no aws.role_arn, and jitsudo's own AWS credentials serve only the repositories listed in JITSUDO_ACCESS_REPOSITORIES; set aws.role_arn to a role whose trust policy names this repository, or ask the operator to list it",
    ]);
    const withRole = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        {
          repositoryListed: false,
          configFile: blob(`aws:\n  role_arn: arn:aws:iam::111111111111:role/jitsudo\n${POLICY}`),
          reviews: [approve("bob")],
        },
      ),
    );
    expect(withRole.approved).toBe(true);
  });

  it("refuses a request file whose name holds a line break or another control character", () => {
    for (const name of ["a\nb", "a\rb", "a\u2028b", "a\u2029b", "a\u202eb", "a\u0000b"]) {
      const path = `access-requests/${name}.yaml`;
      const verdict = judgeMerge(evidence({ [path]: READ_ONLY }, { reviews: [approve("bob")] }));
      expect(verdict.approved, JSON.stringify(name)).toBe(false);
      expect(only(verdict).reasons[0]).toMatch(
        /^the file name holds U\+[0-9A-F]{4} \(a control, line-break, invisible or text-direction character\) at position 18;/,
      );
    }
  });

  it("refuses a request whose owners depend on how GitHub reads a wildcard matching a directory", () => {
    // GitHub gives access-requests/ to @acme/platform on one reading and to @bob on the other.
    const codeownersFiles = [blob("* @bob\naccess-req* @acme/platform\n"), missing, missing];
    const verdict = judgeMerge(evidence({ [REQUEST]: READ_ONLY }, { codeownersFiles, reviews: [approve("bob"), approve("dave")] }));
    expect(verdict.approved).toBe(false);
    expect(only(verdict).approvers).toEqual(["dave"]);
    expect(only(verdict).reasons).toEqual([
      expect.stringMatching(/^\.github\/CODEOWNERS line 2 \("access-req\*"\) matches the directory access-requests through a wildcard/),
    ]);
    const unambiguous = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        { codeownersFiles: [blob("* @bob\n/access-requests/ @acme/platform\n"), missing, missing], reviews: [approve("dave")] },
      ),
    );
    expect(unambiguous.approved).toBe(true);
  });
});

describe("judgeMerge: require_owners (cross-team approval)", () => {
  // rules[0] starts on line 2; its require_owners on line 6.
  const groupsPolicy = (approvals: number) => `rules:
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 8h
    approvals: ${approvals}
    require_owners: ["@acme/security", "@acme/platform"]
`;
  const WHERE = "require_owners of rules[0] (.github/jitsudo.yml line 6)";
  // Code owners of REQUEST: @bob and @acme/platform. dave is in both teams, pat only in platform,
  // sec only in security (so not a code owner), paula active in platform but invited to security.
  const memberships = (overrides: [string, TeamMembership | { unreadable: string }][] = []) =>
    new Map<string, TeamMembership | { unreadable: string }>([
      [teamKey("acme", "platform", "dave"), "active"],
      [teamKey("acme", "security", "dave"), "active"],
      [teamKey("acme", "platform", "pat"), "active"],
      [teamKey("acme", "security", "sec"), "active"],
      [teamKey("acme", "platform", "paula"), "active"],
      [teamKey("acme", "security", "paula"), "pending"],
      ...overrides,
    ]);
  const bothTeamsExist = new Map<string, TeamExistence | { unreadable: string }>([
    ["acme/security", "found"],
    ["acme/platform", "found"],
  ]);
  const judge = (
    reviewers: string[],
    options: {
      approvals?: number;
      memberships?: Map<string, TeamMembership | { unreadable: string }>;
      teams?: MergeEvidence["teams"];
    } = {},
  ) =>
    only(
      judgeMerge(
        evidence(
          { [REQUEST]: READ_ONLY },
          {
            configFile: blob(groupsPolicy(options.approvals ?? 1)),
            reviews: reviewers.map((login) => approve(login)),
            teamMemberships: options.memberships ?? memberships(),
            teams: options.teams ?? bothTeamsExist,
            permissions: new Map<string, RepoPermission>(
              ["bob", "dave", "pat", "sec", "paula"].map((login) => [login, "write"] as [string, RepoPermission]),
            ),
          },
        ),
      ),
    );

  it("lets one person in both teams stand for both, and shows who stood for each", () => {
    const file = judge(["dave"]);
    expect(file.approved).toBe(true);
    expect(file.approverSets).toEqual([
      {
        path: REQUEST,
        approvers: ["dave"],
        groups: [
          { team: "@acme/security", approvers: ["dave"] },
          { team: "@acme/platform", approvers: ["dave"] },
        ],
      },
    ]);
  });

  it("counts that person once toward approvals", () => {
    const file = judge(["dave"], { approvals: 2 });
    expect(file.approved).toBe(false);
    expect(file.reasons).toEqual(["needs 2 code-owner approvals, has 1 (@dave)"]);
    expect(judge(["dave", "bob"], { approvals: 2 }).approved).toBe(true);
  });

  it("refuses while a team has no approver among the approvals that count, naming it", () => {
    const file = judge(["pat", "bob"]);
    expect(file.approved).toBe(false);
    expect(file.reasons).toEqual([
      `needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@bob, @pat)`,
    ]);
    expect(file.approverSets[0]!.groups).toEqual([
      { team: "@acme/security", approvers: [] },
      { team: "@acme/platform", approvers: ["pat"] },
    ]);
  });

  it("does not count a pending member of a required team", () => {
    const file = judge(["paula"]);
    expect(file.reasons).toEqual([
      `needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@paula)`,
      "@paula's membership of @acme/security is pending",
    ]);
  });

  it("does not count a team member who is not a code owner of the file", () => {
    const file = judge(["sec", "pat"]);
    expect(file.approved).toBe(false);
    expect(file.reasons).toContain("@sec is not a code owner of access-requests/alice.yaml");
    expect(file.reasons).toContain(
      `needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@pat)`,
    );
  });

  it("does not count a team member who is the requester or wrote a commit", () => {
    const commits: PullCommit[] = [byAlice, { sha: FRIEND_COMMIT, parents: [COMMIT], authorLogin: "dave", committerLogin: "dave" }];
    const verdict = judgeMerge(
      evidence(
        { [REQUEST]: READ_ONLY },
        {
          configFile: blob(groupsPolicy(1)),
          reviews: [approve("dave"), approve("alice"), approve("pat")],
          commits,
          commitCount: 2,
          teamMemberships: memberships([[teamKey("acme", "security", "alice"), "active"]]),
          teams: bothTeamsExist,
          permissions: new Map<string, RepoPermission>([
            ["alice", "write"],
            ["dave", "write"],
            ["pat", "write"],
          ]),
        },
      ),
    );
    const file = only(verdict);
    expect(file.approved).toBe(false);
    expect(file.reasons).toEqual(
      expect.arrayContaining([
        `needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@pat)`,
        "@alice is the requester and cannot approve their own request",
        "@dave authored a commit in this pull request (9f8e7d6)",
      ]),
    );
  });

  it("fails closed, saying why, when a team does not exist (renamed or deleted) or cannot be read", () => {
    const gone = judge(["dave"], { teams: new Map([...bothTeamsExist, ["acme/security", "not-found"]]) });
    expect(gone.reasons).toEqual([
      `@acme/security, named in ${WHERE}, does not exist on GitHub (renamed or deleted?), so no approval can count for it; an admin must name an existing team there`,
    ]);
    const unreadableTeam = judge(["dave"], {
      teams: new Map([...bothTeamsExist, ["acme/platform", { unreadable: "GitHub answered 502" }]]),
    });
    expect(unreadableTeam.reasons).toEqual([
      `jitsudo could not read whether @acme/platform (${WHERE}) exists: GitHub answered 502; so no approval can count for it`,
    ]);
    const unreadableMember = judge(["dave"], {
      memberships: memberships([[teamKey("acme", "security", "dave"), { unreadable: "GitHub answered 502" }]]),
    });
    expect(unreadableMember.reasons).toEqual([
      `needs an approval from an active member of @acme/security (${WHERE}), and has none among the approvals that count (@dave)`,
      "jitsudo could not read whether @dave is a member of @acme/security: GitHub answered 502; so their approval does not count for it",
    ]);
  });

  it("asks for every required team's existence and every eligible reviewer's membership, whatever the answers", () => {
    const full = evidence(
      { [REQUEST]: READ_ONLY },
      { configFile: blob(groupsPolicy(1)), reviews: [approve("bob"), approve("alice"), approve("dave", OLD_HEAD), approve("pat")] },
    );
    const { teamMemberships: _teams, permissions: _permissions, ...rest } = full;
    const needed = lookupsNeeded(rest);
    expect(needed.existence).toEqual([
      { org: "acme", slug: "security" },
      { org: "acme", slug: "platform" },
    ]);
    // alice (the requester) and dave (stale) are out before any lookup.
    expect(needed.teams.filter((team) => team.slug === "security").map((team) => team.login)).toEqual(["bob", "pat"]);
  });
});
