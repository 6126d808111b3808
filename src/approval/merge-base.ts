/**
 * Where a merged pull request was judged from: the default branch exactly as it was just before the
 * merge, whatever the merge method. Pure: the caller fetches GitHub's records.
 *
 * Why this is not simply "the first parent of merge_commit_sha": for a rebase merge GitHub sets
 * merge_commit_sha to the LAST rebased commit ("If rebased, merge_commit_sha represents the commit
 * that the base branch was updated to", GET /repos/{owner}/{repo}/pulls/{n}), whose first parent is
 * the PR's own previous commit. Reading CODEOWNERS and the policy there lets a PR that changed them
 * in one commit and reverted them in the next choose its own approvers.
 *
 * Sources, most authoritative first:
 * 1. GitHub's record of the branch update: the repository activity API's `pr_merge` entry whose
 *    `after` is the merge, and whose `before` is the branch before it. It is cross-checked against
 *    the merge commit's shape wherever the shape alone proves the base. (The `push` webhook of the
 *    merge also has a `before`, but a merge queue lands several pull requests in one push, so its
 *    `before` need not be this pull request's base; the activity API tells the two apart.)
 * 2. The shape alone, where it proves the base:
 *    - two parents, the second being the PR's head: GitHub's "Create a merge commit" (rebase and
 *      squash merges make single-parent commits), so the first parent was the branch tip;
 *    - one parent and a one-commit PR: squash and rebase both put exactly one new commit on the tip.
 * Otherwise (a rebase or squash of several commits with no record) nothing proves the base, and
 * the caller grants nothing.
 */

export interface MergeShape {
  mergeCommitSha: string;
  /** Parents of merge_commit_sha, in order. */
  parents: readonly string[];
  headSha: string;
  /** How many commits GitHub says the PR has. */
  commitCount: number;
}

/** GitHub's activity record of the branch moving to `after`. */
export interface BranchUpdateRecord {
  before: string;
  after: string;
  /** pr_merge, push, force_push, merge_queue_merge, … */
  activityType: string;
}

export type BaseProof =
  | { proven: true; baseSha: string; how: string }
  | { proven: false; reason: string; /** Worth trying again later: a record may still arrive. */ retry: boolean };

/**
 * `records`: the activity GitHub reports that moved the branch to merge_commit_sha (usually one);
 * `recordsUnavailable`: the activity API could not be asked (so "no record" means nothing).
 */
export function proveMergeBase(shape: MergeShape, records: readonly BranchUpdateRecord[], recordsUnavailable: boolean): BaseProof {
  const structural = structuralBase(shape);
  const relevant = records.filter((record) => record.after === shape.mergeCommitSha);
  // Any record of the branch moving to this commit from somewhere else than the shape says (a
  // hand-made merge commit pushed over the real tip) means the shape proves nothing.
  const contradiction = structural ? relevant.find((record) => record.before !== structural.baseSha) : undefined;
  if (contradiction) {
    return {
      proven: false,
      retry: false,
      reason: `GitHub's activity record (${contradiction.activityType}) says the default branch was ${short(contradiction.before)} before ${short(shape.mergeCommitSha)}, but the merge commit sits on ${short(structural!.baseSha)}; jitsudo cannot tell which policy and code owners applied`,
    };
  }
  const usable = relevant.filter((record) => provesBase(record, shape));
  const befores = [...new Set(usable.map((record) => record.before))];
  if (befores.length > 1) {
    return {
      proven: false,
      retry: false,
      reason: `GitHub's records disagree on the default branch before the merge (${befores.map(short).join(", ")}), so jitsudo cannot tell which policy and code owners applied`,
    };
  }
  const [recorded] = usable;
  if (recorded) {
    return {
      proven: true,
      baseSha: recorded.before,
      how: `GitHub's activity record of the merge (${recorded.activityType}, before ${short(recorded.before)})`,
    };
  }
  if (structural) return { proven: true, ...structural };
  return {
    proven: false,
    retry: !recordsUnavailable,
    reason: `the merge commit ${short(shape.mergeCommitSha)} has one parent and the pull request has ${shape.commitCount} commits (a squash or rebase merge), and ${
      recordsUnavailable ? "GitHub's record of the merge cannot be read here" : "GitHub has no record of the branch update yet"
    }, so jitsudo cannot prove which commit was the default branch before the merge and which policy and code owners applied`,
  };
}

function structuralBase({ parents, headSha, commitCount }: MergeShape): { baseSha: string; how: string } | undefined {
  const [first, second] = parents;
  if (parents.length === 2 && first && second === headSha)
    return { baseSha: first, how: "the merge commit's first parent (a merge commit of the approved head)" };
  if (parents.length === 1 && first && commitCount === 1) return { baseSha: first, how: "the parent of the single commit the merge added" };
  return undefined;
}

/**
 * A `pr_merge` (or a plain push that fast-forwarded the branch to the PR's head) moves the branch
 * from the base to the merge. A merge-queue group can land several pull requests in one update, so
 * its `before` is not this PR's base; a force push proves nothing.
 */
function provesBase(record: BranchUpdateRecord, shape: MergeShape): boolean {
  if (record.activityType === "pr_merge") return true;
  return record.activityType === "push" && shape.mergeCommitSha === shape.headSha;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
