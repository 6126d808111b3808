/**
 * The merge is the approval: merged pull requests through Probot's real webhook pipeline, GitHub
 * intercepted at HTTP, verdicts and grants in the real PostgreSQL. Every attack from the rulebook
 * that a merge can carry ends with a recorded refusal, a reason on the PR, and no grant row.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { BASE, FILE, HEAD, MERGE, OLD_HEAD, REPO, REQUEST, scenario, seed, seedFollowUp, type Setup } from "../support/merge-world.js";
import { pullRequestMergedEvent, type MergeScenario } from "../support/payloads.js";

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
  const comment = () => harness.github.comments.get(7)?.[0]?.body ?? "";

  it("records an approved merge as one grant and says so on the PR", async () => {
    seed(harness.github);
    expect(await harness.deliver("pull_request", pullRequestMergedEvent(scenario))).toBe(200);

    expect(await verdicts()).toEqual([{ pr_number: 7, verdict: "approved" }]);
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
      merge_commit_sha: MERGE,
      requester: "alice",
      principal: "alice@example.com",
      account_ref: "123456789012",
      permission_set_ref: "ReadOnlyAccess",
      starts_at: "2026-11-25T12:00:00.000Z",
      expires_at: "2026-11-25T14:00:00.000Z",
      approvers: ["bob"],
    });
    expect(comment()).toContain("### jitsudo: access approved :white_check_mark:");
    expect(comment()).toContain("| Access | 2026-11-25 12:00 UTC to 2026-11-25 14:00 UTC |");
    expect(comment()).toContain("| Approved by | @bob |");

    const lines = harness.github.callLines();
    expect(lines.length).toBe(new Set(lines).size); // no GitHub call repeated
  });

  it("records a redelivered merge once, without asking GitHub again", async () => {
    seed(harness.github);
    await harness.deliver("pull_request", pullRequestMergedEvent(scenario));
    harness.github.calls.length = 0;
    expect(await harness.deliver("pull_request", pullRequestMergedEvent(scenario))).toBe(200);
    expect(harness.github.calls).toEqual([]);
    expect(await grants()).toHaveLength(1);
  });

  const attacks: [string, Setup, MergeScenario, string][] = [
    [
      "an approval of an older commit (more commits pushed after it)",
      { reviews: [{ login: "bob", state: "APPROVED", commitId: OLD_HEAD }] },
      scenario,
      `${FILE}: @bob approved 0000000, not the merged head aaaaaaa`,
    ],
    ["the requester approving their own request", { reviews: [{ login: "alice", state: "APPROVED", commitId: HEAD }], codeowners: "/access-requests/ @alice @bob\n" }, scenario, `${FILE}: @alice is the requester and cannot approve their own request`],
    [
      "a second account that authored a commit approving",
      { reviews: [{ login: "mallory", state: "APPROVED", commitId: HEAD }], codeowners: "/access-requests/ @mallory @bob\n", commits: [{ sha: HEAD, author: "mallory", committer: "alice" }] },
      scenario,
      `${FILE}: @mallory authored a commit in this pull request (aaaaaaa)`,
    ],
    ["a PR that also edits CODEOWNERS", { files: [{ filename: FILE, status: "added" }, { filename: ".github/CODEOWNERS", status: "modified" }] }, scenario, "this pull request also changes .github/CODEOWNERS; changes to code owners or policy must be merged in their own pull request, so this one grants nothing"],
    ["a PR that also loosens .github/jitsudo.yml", { files: [{ filename: FILE, status: "added" }, { filename: ".github/jitsudo.yml", status: "modified" }] }, scenario, "this pull request also changes .github/jitsudo.yml; changes to code owners or policy must be merged in their own pull request, so this one grants nothing"],
    ["an admin merge with no approval at all", { reviews: [] }, { ...scenario, mergedBy: "admin" }, `${FILE}: needs 1 code-owner approval, has 0`],
    ["a pending team member's approval", { reviews: [{ login: "carol", state: "APPROVED", commitId: HEAD }], codeowners: "/access-requests/ @acme/platform\n" }, scenario, `${FILE}: @carol's membership of @acme/platform is pending`],
    ["merged content that differs from the approved head", { atMerge: REQUEST.replace("2h", "8h") }, scenario, `${FILE}: content at the merge commit differs from the approved head (blob 61c7b50 at eeeeeee, blob 83dbcd8 at aaaaaaa); approvals only cover the content they approved`],
    ["a merge into a branch other than the default", {}, { ...scenario, baseRef: "release" }, "this pull request was merged into release, not the default branch main; only merges into main grant or revoke access"],
    [
      "a request for someone else's principal when the policy does not allow it",
      { request: `${REQUEST}principal: bob@example.com\n` },
      scenario,
      `${FILE}: line 5: principal "bob@example.com" is not the author's own (alice maps to "alice@example.com"); rules[0] (.github/jitsudo.yml line 4) does not allow requesting for someone else, so remove principal`,
    ],
    ["a 1 MB request file", { request: `${REQUEST}# ${"x".repeat(1024 * 1024)}\n` }, scenario, `${FILE}: line 1: file is 1048688 bytes, over the limit of 65536 bytes; keep only the request in it`],
    ["a YAML alias bomb", { request: 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n' }, scenario, `${FILE}: line 2: YAML aliases (*a) are not allowed here; write the value out in full (18 aliases in this file)`],
    ["a request file that is not UTF-8", { request: new Uint8Array([...new TextEncoder().encode('account: "123456789012"\nreason: "caf'), 0xe9, 0x22, 0x0a]) }, scenario, `${FILE}: line 2: file is not valid UTF-8 (byte 0xE9); save it as UTF-8`],
  ];

  it.each(attacks)("refuses %s: recorded, explained, nothing granted", async (_name, setup, merge, reason) => {
    seed(harness.github, setup);
    harness.github.teamMembers.set("acme/platform:carol", "pending");
    if (merge.baseRef) harness.github.pulls.get(7)!.baseRef = merge.baseRef;
    expect(await harness.deliver("pull_request", pullRequestMergedEvent(merge))).toBe(200);

    expect(await verdicts()).toEqual([{ pr_number: 7, verdict: "rejected" }]);
    expect(await grants()).toEqual([]);
    const reasons = await rejectionReasons();
    expect(reasons, JSON.stringify(reasons)).toContain(reason);
    expect(comment()).toContain("### jitsudo: merge not approved, nothing was granted :no_entry:");
  });

  it("records nothing for a merge webhook with a bad signature", async () => {
    seed(harness.github);
    expect(await harness.deliver("pull_request", pullRequestMergedEvent(scenario), { secret: "forged" })).toBe(400);
    expect([await verdicts(), await grants(), harness.github.calls]).toEqual([[], [], []]);
  });

  it("records merges without request files as ignored, with no comment", async () => {
    seed(harness.github, { files: [{ filename: "README.md", status: "modified" }] });
    await harness.deliver("pull_request", pullRequestMergedEvent(scenario));
    expect(await verdicts()).toEqual([{ pr_number: 7, verdict: "ignored" }]);
    expect(harness.github.callLines()).not.toContain(`POST ${REPO}/issues/7/comments`);
  });

  it("does not count a file outside access-requests/ as a request: nothing to grant, nothing recorded as a grant", async () => {
    seed(harness.github, { files: [{ filename: "requests/alice.yaml", status: "added" }] });
    await harness.deliver("pull_request", pullRequestMergedEvent(scenario));
    expect([await verdicts(), await grants()]).toEqual([[{ pr_number: 7, verdict: "ignored" }], []]);
  });

  describe("changes after a merge", () => {
    const LATER_HEAD = "f".repeat(40);
    const LATER_MERGE = "d".repeat(40);
    const statuses = async () => (await db("grants").orderBy("created_at").select("pr_number", "status", "expires_at")).map((row) => [row.pr_number, row.status, row.expires_at.toISOString()]);
    beforeEach(async () => {
      seed(harness.github);
      await harness.deliver("pull_request", pullRequestMergedEvent(scenario));
    });

    it("refuses a later edit that lengthens a live grant without a new approval, and leaves the live grant as it was", async () => {
      const later = seedFollowUp(harness.github, { number: 8, head: LATER_HEAD, merge: LATER_MERGE, changes: { [FILE]: REQUEST.replace("2h", "8h") }, reviews: [] });
      await harness.deliver("pull_request", pullRequestMergedEvent(later));
      expect(await db("merge_verdicts").where({ pr_number: 8 }).pluck("verdict")).toEqual(["rejected"]);
      expect(await statuses()).toEqual([[7, "approved", "2026-11-25T14:00:00.000Z"]]);
      expect(harness.github.comments.get(8)?.[0]?.body).toContain("needs 1 code-owner approval, has 0");
    });

    it("supersedes the live grant with an approved edit: the new content is a new grant", async () => {
      const later = seedFollowUp(harness.github, {
        number: 8,
        head: LATER_HEAD,
        merge: LATER_MERGE,
        changes: { [FILE]: REQUEST.replace("2h", "4h") },
        reviews: [{ login: "bob", state: "APPROVED", commitId: LATER_HEAD }],
      });
      await harness.deliver("pull_request", pullRequestMergedEvent(later));
      expect(await statuses()).toEqual([
        [7, "revoked", "2026-11-25T14:00:00.000Z"],
        [8, "approved", "2026-11-25T16:00:00.000Z"],
      ]);
      const superseded = await db("grant_events").where({ type: "superseded" }).first();
      expect([superseded.pr_number, superseded.reason]).toEqual([7, "superseded by the merge of #8"]);
    });

    it("ends an active grant early when an approved PR deletes its request file", async () => {
      await db("grants").update({ status: "active" });
      const later = seedFollowUp(harness.github, {
        number: 8,
        head: LATER_HEAD,
        merge: LATER_MERGE,
        changes: { [FILE]: null },
        reviews: [{ login: "bob", state: "APPROVED", commitId: LATER_HEAD }],
      });
      await harness.deliver("pull_request", pullRequestMergedEvent(later));
      expect(await statuses()).toEqual([[7, "revoking", "2026-11-25T14:00:00.000Z"]]);
      const event = await db("grant_events").where({ type: "revoke_requested" }).first();
      expect([event.from_status, event.to_status, event.reason]).toEqual(["active", "revoking", "request file deleted by #8"]);
    });

    it("does not end a grant when the deletion was not approved by a code owner", async () => {
      await db("grants").update({ status: "active" });
      const later = seedFollowUp(harness.github, { number: 8, head: LATER_HEAD, merge: LATER_MERGE, changes: { [FILE]: null }, reviews: [] });
      await harness.deliver("pull_request", pullRequestMergedEvent(later));
      expect(await statuses()).toEqual([[7, "active", "2026-11-25T14:00:00.000Z"]]);
      expect(await db("merge_verdicts").where({ pr_number: 8 }).pluck("verdict")).toEqual(["rejected"]);
    });
  });
});
