/**
 * The merge is the approval: merged pull requests through Probot's real webhook pipeline, GitHub
 * intercepted at HTTP, verdicts and grants in the real PostgreSQL. Every attack from the rulebook
 * that a merge can carry ends with a recorded refusal, a reason on the PR, and no grant row.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { gitBlobId, PullRequestError } from "../../src/sandbox/github.js";
import { FILE, POLICY, REPO, REQUEST, seed, seedFollowUp, short, type SeededMerge, type Setup } from "../support/merge-world.js";

describe("merged pull requests", () => {
  let db: Knex;
  let harness: Harness;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
  });
  afterEach(async () => {
    await harness.stop();
  });

  const verdicts = () => db("merge_verdicts").select("pr_number", "verdict");
  const grants = () => db("grants").select("*");
  const rejectionReasons = async () => ((await db("grant_events").where({ type: "rejected" }).first())?.details.reasons ?? []) as string[];
  const commentsOn = (number: number) => harness.github.repo.conversation.commentsOn(number);
  const comment = (number: number) => commentsOn(number)[0]?.body ?? "";

  it("records an approved merge as one grant and says so on the PR", async () => {
    const world = seed(harness.github);
    expect(await harness.deliver("pull_request", world.closed)).toBe(200);

    expect(await verdicts()).toEqual([{ pr_number: world.number, verdict: "approved" }]);
    const [grant] = await grants();
    expect({
      status: grant.status,
      tenant: grant.tenant,
      repo: grant.repo,
      file_path: grant.file_path,
      merge_commit_sha: grant.merge_commit_sha,
      requester: grant.requester,
      principal: grant.principal,
      account_ref: grant.account_ref,
      permission_set_ref: grant.permission_set_ref,
      starts_at: grant.starts_at.toISOString(),
      expires_at: grant.expires_at.toISOString(),
      approvers: grant.approvers,
    }).toEqual({
      status: "approved",
      tenant: "1",
      repo: "Codertocat/Hello-World",
      file_path: FILE,
      merge_commit_sha: world.merge,
      requester: "alice",
      principal: "alice@example.com",
      account_ref: "123456789012",
      permission_set_ref: "ReadOnlyAccess",
      starts_at: "2026-11-25T12:00:00.000Z",
      expires_at: "2026-11-25T14:00:00.000Z",
      approvers: ["bob"],
    });
    expect(comment(world.number)).toContain("### jitsudo: access approved :white_check_mark:");
    expect(comment(world.number)).toContain("| Access | 2026-11-25 12:00 UTC to 2026-11-25 14:00 UTC |");
    expect(comment(world.number)).toContain("| Approved by | @bob |");

    // No GitHub call repeated (GraphQL calls differ by their query).
    const calls = harness.github.calls.map(
      (call) => `${call.method} ${call.path} ${call.path === "/graphql" ? JSON.stringify(call.body) : ""}`,
    );
    expect(calls.length).toBe(new Set(calls).size);
  });

  it("records a redelivered merge once, without asking GitHub again", async () => {
    const world = seed(harness.github);
    await harness.deliver("pull_request", world.closed);
    harness.github.calls.length = 0;
    expect(await harness.deliver("pull_request", world.closed)).toBe(200);
    expect(harness.github.calls).toEqual([]);
    expect(await grants()).toHaveLength(1);
  });

  // Each attack: how the pull request was built, and the reason the verdict must give (computed
  // from the scenario's own commits and blobs where it names them).
  const attacks: [string, Setup, (world: SeededMerge) => string][] = [
    [
      "an approval of an older commit (more commits pushed after it)",
      { draft: REQUEST.replace("2h", "1h"), reviews: [{ login: "bob", state: "APPROVED", on: "first" }] },
      (world) => `${FILE}: @bob approved ${short(world.first)}, not the merged head ${short(world.head)}`,
    ],
    [
      "a second account that authored a commit approving",
      {
        reviews: [{ login: "mallory", state: "APPROVED" }],
        codeowners: "/access-requests/ @mallory @bob\n",
        author: "mallory",
        committer: "alice",
      },
      (world) => `${FILE}: @mallory authored a commit in this pull request (${short(world.head)})`,
    ],
    [
      "a PR that also edits CODEOWNERS",
      { alsoChanges: { ".github/CODEOWNERS": "/access-requests/ @bob @alice-friend\n" } },
      () =>
        "this pull request also changes .github/CODEOWNERS; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    ],
    [
      "a PR that also loosens .github/jitsudo.yml",
      { alsoChanges: { ".github/jitsudo.yml": POLICY.replace("8h", "24h") } },
      () =>
        "this pull request also changes .github/jitsudo.yml; changes to code owners or policy must be merged in their own pull request, so this one grants nothing",
    ],
    ["an admin merge with no approval at all", { reviews: [], mergedBy: "admin" }, () => `${FILE}: needs 1 code-owner approval, has 0`],
    [
      "a pending team member's approval",
      { reviews: [{ login: "carol", state: "APPROVED" }], codeowners: "/access-requests/ @acme/platform\n" },
      () => `${FILE}: @carol's membership of @acme/platform is pending`,
    ],
    [
      // The base branch changed the same file while the PR was open (account line in the PR, duration
      // on main); git merged both edits cleanly, so the merged file is neither side's.
      "merged content that differs from the approved head",
      {
        concurrentEdit: {
          before: REQUEST.replace("123456789012", "210987654321"),
          onBase: REQUEST.replace("123456789012", "210987654321").replace("2h", "8h"),
          merged: REQUEST.replace("2h", "8h"),
        },
      },
      (world) =>
        `${FILE}: content at the merge commit differs from the approved head (blob ${short(blobOf(REQUEST.replace("2h", "8h")))} at ${short(world.merge)}, blob ${short(blobOf(REQUEST))} at ${short(world.head)}); approvals only cover the content they approved`,
    ],
    [
      "a merge into a branch other than the default",
      { base: "release" },
      () => "this pull request was merged into release, not the default branch main; only merges into main grant or revoke access",
    ],
    [
      "a request for someone else's principal when the policy does not allow it",
      { request: `${REQUEST}principal: bob@example.com\n` },
      () =>
        `${FILE}: line 5: principal "bob@example.com" is not the author's own (alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 4) does not allow requesting for someone else, so remove principal`,
    ],
    [
      "a 1 MB request file",
      { request: `${REQUEST}# ${"x".repeat(1024 * 1024)}\n` },
      () => `${FILE}: line 1: file is 1048688 bytes, over the limit of 8192 bytes; keep only the request in it`,
    ],
    [
      "a YAML alias bomb",
      { request: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' },
      () => `${FILE}: line 2: YAML aliases (*a) are not allowed here; write the value out in full (18 aliases in this file)`,
    ],
    [
      "a request file that is not UTF-8",
      { request: new Uint8Array([...new TextEncoder().encode('account: "123456789012"\nreason: "caf'), 0xe9, 0x22, 0x0a]) },
      () => `${FILE}: line 2: file is not valid UTF-8 (byte 0xE9); save it as UTF-8`,
    ],
  ];

  it.each(attacks)("refuses %s: recorded, explained, nothing granted", async (_name, setup, reason) => {
    harness.github.setTeamMembership("acme", "platform", "carol", "pending");
    const world = seed(harness.github, setup);
    expect(await harness.deliver("pull_request", world.closed)).toBe(200);

    expect(await verdicts()).toEqual([{ pr_number: world.number, verdict: "rejected" }]);
    expect(await grants()).toEqual([]);
    const reasons = await rejectionReasons();
    expect(reasons, JSON.stringify(reasons)).toContain(reason(world));
    expect(comment(world.number)).toContain("### jitsudo: merge not approved, nothing was granted :no_entry:");
  });

  it("refuses the requester approving their own request: GitHub refuses the review, so the merge has no approval", async () => {
    // GitHub answers 422 "Can not approve your own pull request"; jitsudo's own rule against such a
    // review is unit-tested in test/approval/approval.test.ts, since GitHub never shows one.
    const world = seed(harness.github, { reviews: [], codeowners: "/access-requests/ @alice @bob\n" });
    expect(() => world.repo.review(world.number, "alice", "APPROVED")).toThrow(
      new PullRequestError("Can not approve your own pull request"),
    );
    await harness.deliver("pull_request", world.closed);
    expect(await verdicts()).toEqual([{ pr_number: world.number, verdict: "rejected" }]);
    expect(await rejectionReasons()).toContain(`${FILE}: needs 1 code-owner approval, has 0`);
    expect(await grants()).toEqual([]);
  });

  it("records nothing for a merge webhook with a bad signature", async () => {
    const world = seed(harness.github);
    expect(await harness.deliver("pull_request", world.closed, { secret: "forged" })).toBe(400);
    expect([await verdicts(), await grants(), harness.github.calls]).toEqual([[], [], []]);
  });

  it("records merges without request files as ignored, with no comment", async () => {
    const world = seed(harness.github, { request: null, alsoChanges: { "README.md": "# Access requests, see CODEOWNERS\n" } });
    await harness.deliver("pull_request", world.closed);
    expect(await verdicts()).toEqual([{ pr_number: world.number, verdict: "ignored" }]);
    expect(harness.github.callLines()).not.toContain(`POST ${REPO}/issues/${world.number}/comments`);
  });

  it("does not count a file outside access-requests/ as a request: nothing to grant, nothing recorded as a grant", async () => {
    const world = seed(harness.github, { request: null, alsoChanges: { "requests/alice.yaml": REQUEST } });
    await harness.deliver("pull_request", world.closed);
    expect([await verdicts(), await grants()]).toEqual([[{ pr_number: world.number, verdict: "ignored" }], []]);
  });

  describe("changes after a merge", () => {
    let first: SeededMerge;
    const statuses = async () =>
      (await db("grants").orderBy("created_at").select("pr_number", "status", "expires_at")).map((row) => [
        row.pr_number,
        row.status,
        row.expires_at.toISOString(),
      ]);
    beforeEach(async () => {
      first = seed(harness.github);
      await harness.deliver("pull_request", first.closed);
    });

    it("refuses a later edit that lengthens a live grant without a new approval, and leaves the live grant as it was", async () => {
      const later = seedFollowUp(harness.github, { changes: { [FILE]: REQUEST.replace("2h", "8h") }, reviews: [] });
      await harness.deliver("pull_request", later.closed);
      expect(await db("merge_verdicts").where({ pr_number: later.number }).pluck("verdict")).toEqual(["rejected"]);
      expect(await statuses()).toEqual([[first.number, "approved", "2026-11-25T14:00:00.000Z"]]);
      expect(comment(later.number)).toContain("needs 1 code-owner approval, has 0");
    });

    it("supersedes the live grant with an approved edit: the new content is a new grant", async () => {
      const later = seedFollowUp(harness.github, {
        changes: { [FILE]: REQUEST.replace("2h", "4h") },
        reviews: [{ login: "bob", state: "APPROVED" }],
      });
      await harness.deliver("pull_request", later.closed);
      expect(await statuses()).toEqual([
        [first.number, "revoked", "2026-11-25T14:00:00.000Z"],
        [later.number, "approved", "2026-11-25T16:00:00.000Z"],
      ]);
      const superseded = await db("grant_events").where({ type: "superseded" }).first();
      expect([superseded.pr_number, superseded.reason]).toEqual([first.number, `superseded by the merge of #${later.number}`]);
    });

    it("ends an active grant early when an approved PR deletes its request file", async () => {
      await db("grants").update({ status: "active" });
      const later = seedFollowUp(harness.github, { changes: { [FILE]: null }, reviews: [{ login: "bob", state: "APPROVED" }] });
      await harness.deliver("pull_request", later.closed);
      expect(await statuses()).toEqual([[first.number, "revoking", "2026-11-25T14:00:00.000Z"]]);
      const event = await db("grant_events").where({ type: "revoke_requested" }).first();
      expect([event.from_status, event.to_status, event.reason]).toEqual([
        "active",
        "revoking",
        `request file deleted by #${later.number}`,
      ]);
    });

    it("does not end a grant when the deletion was not approved by a code owner", async () => {
      await db("grants").update({ status: "active" });
      const later = seedFollowUp(harness.github, { changes: { [FILE]: null }, reviews: [] });
      await harness.deliver("pull_request", later.closed);
      expect(await statuses()).toEqual([[first.number, "active", "2026-11-25T14:00:00.000Z"]]);
      expect(await db("merge_verdicts").where({ pr_number: later.number }).pluck("verdict")).toEqual(["rejected"]);
    });
  });
});

function blobOf(text: string): string {
  return gitBlobId(new TextEncoder().encode(text));
}
