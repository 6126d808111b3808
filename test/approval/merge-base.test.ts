/**
 * The base of a merge, for each merge method: the default branch exactly as it was before the
 * merge. The rebase case is the hole this closes: merge_commit_sha's first parent is the PR's own
 * previous commit there, not the base.
 */
import { describe, expect, it } from "vitest";
import { proveMergeBase, type BranchUpdateRecord, type MergeShape } from "../../src/approval/merge-base.js";

const BASE = "b".repeat(40);
const HEAD = "a".repeat(40);
const MERGE = "e".repeat(40);
const REBASED_FIRST = "1".repeat(40);

const merged = (before: string, activityType = "pr_merge"): BranchUpdateRecord => ({ before, after: MERGE, activityType });

describe("proveMergeBase", () => {
  it("takes a merge commit's first parent when its second is the approved head", () => {
    const shape: MergeShape = { mergeCommitSha: MERGE, parents: [BASE, HEAD], headSha: HEAD, commitCount: 3 };
    expect(proveMergeBase(shape, [], true)).toMatchObject({ proven: true, baseSha: BASE });
    expect(proveMergeBase(shape, [merged(BASE)], false)).toMatchObject({ proven: true, baseSha: BASE });
  });

  it("takes the parent of a squash or rebase of a single commit", () => {
    expect(proveMergeBase({ mergeCommitSha: MERGE, parents: [BASE], headSha: HEAD, commitCount: 1 }, [], true)).toMatchObject({
      proven: true,
      baseSha: BASE,
    });
  });

  it("does not take the first parent of a rebase of several commits: only GitHub's record of the merge proves the base", () => {
    // Two rebased commits: MERGE's parent is the first rebased commit, part of the PR itself.
    const shape: MergeShape = { mergeCommitSha: MERGE, parents: [REBASED_FIRST], headSha: HEAD, commitCount: 2 };
    expect(proveMergeBase(shape, [merged(BASE)], false)).toEqual({
      proven: true,
      baseSha: BASE,
      how: `GitHub's activity record of the merge (pr_merge, before ${BASE.slice(0, 7)})`,
    });
    const waiting = proveMergeBase(shape, [], false);
    expect(waiting).toMatchObject({ proven: false, retry: true });
    const unavailable = proveMergeBase(shape, [], true);
    expect(unavailable).toEqual({
      proven: false,
      retry: false,
      reason:
        "the merge commit eeeeeee has one parent and the pull request has 2 commits (a squash or rebase merge), and GitHub's record of the merge cannot be read here, so jitsudo cannot prove which commit was the default branch before the merge and which policy and code owners applied",
    });
  });

  it("fails closed when the record and the merge commit disagree", () => {
    const shape: MergeShape = { mergeCommitSha: MERGE, parents: [BASE, HEAD], headSha: HEAD, commitCount: 2 };
    expect(proveMergeBase(shape, [merged(REBASED_FIRST)], false)).toMatchObject({ proven: false, retry: false });
    expect(proveMergeBase(shape, [merged(BASE), merged(REBASED_FIRST)], false)).toMatchObject({ proven: false, retry: false });
  });

  it("ignores records that do not prove this pull request's base: a merge queue group, a force push, another update", () => {
    const shape: MergeShape = { mergeCommitSha: MERGE, parents: [REBASED_FIRST], headSha: HEAD, commitCount: 2 };
    for (const record of [
      merged(BASE, "merge_queue_merge"),
      merged(BASE, "force_push"),
      merged(BASE, "push"),
      { before: BASE, after: HEAD, activityType: "pr_merge" },
    ]) {
      expect(proveMergeBase(shape, [record], false)).toMatchObject({ proven: false });
    }
  });

  it("accepts a plain push that fast-forwarded the branch to the approved head", () => {
    const shape: MergeShape = { mergeCommitSha: HEAD, parents: [REBASED_FIRST], headSha: HEAD, commitCount: 2 };
    expect(proveMergeBase(shape, [{ before: BASE, after: HEAD, activityType: "push" }], false)).toMatchObject({
      proven: true,
      baseSha: BASE,
    });
  });

  it("refuses a merge commit whose second parent is not the approved head", () => {
    expect(
      proveMergeBase({ mergeCommitSha: MERGE, parents: [BASE, REBASED_FIRST], headSha: HEAD, commitCount: 2 }, [], true),
    ).toMatchObject({ proven: false });
  });
});
