/**
 * Security review finding (pure): `proveMergeBase` (src/approval/merge-base.ts) trusts the merge
 * commit's SHAPE over an authoritative record that contradicts it. `provesBase` drops every
 * `push` / `force_push` record whose `after` is the merge (unless the merge is the head itself),
 * so the cross-check "record.before must equal the structural base" never runs for them, and the
 * first parent the pusher chose is taken as the base.
 *
 * Route: someone who can push to the default branch (branch protection missing or bypassed, which
 * the rulebook says jitsudo must not rely on) pushes a hand-made merge commit M = [X, H], where H
 * is the PR's approved head and X is a commit of their own on top of main that rewrites CODEOWNERS.
 * GitHub marks the PR merged; its activity record says `push`/`force_push` from T (the real tip) to
 * M. jitsudo judges the PR with CODEOWNERS and policy from X, a commit that was never the default
 * branch before the merge. The rulebook: "Base means the default branch exactly as it was just
 * before the merge ... when it cannot be proved, grant nothing."
 */
import { describe, expect, it } from "vitest";
import { proveMergeBase, type MergeShape } from "../../src/approval/merge-base.js";

const TIP = "b".repeat(40); // main just before the push
const ATTACKER = "c".repeat(40); // X: main + the pusher's CODEOWNERS
const HEAD = "a".repeat(40);
const MERGE = "e".repeat(40);

describe("a branch update record that contradicts the merge commit's shape", () => {
  it("does not take the first parent of a pushed merge commit when GitHub's record says the branch was elsewhere", () => {
    const shape: MergeShape = { mergeCommitSha: MERGE, parents: [ATTACKER, HEAD], headSha: HEAD, commitCount: 1 };
    for (const activityType of ["push", "force_push"]) {
      const proof = proveMergeBase(shape, [{ before: TIP, after: MERGE, activityType }], false);
      // Either the record's `before` (TIP) or no proof at all; never the pusher's own commit.
      expect(proof.proven ? proof.baseSha : "unproven").not.toBe(ATTACKER);
    }
  });
});
