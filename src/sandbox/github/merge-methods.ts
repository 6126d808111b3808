/**
 * The commits GitHub's three merge methods put on the base branch ("About merge methods on
 * GitHub", docs.github.com):
 *
 * - merge: "all commits from the feature branch are added to the base branch in a merge commit"
 *   (`--no-ff`): parents [base tip, PR head], committed by GitHub (web-flow).
 * - squash: "the pull request's commits are squashed into a single commit" on the base tip.
 * - rebase: "all commits from the topic branch are added onto the base branch individually
 *   without a merge commit": each commit replayed as a new commit (same author, GitHub as
 *   committer), merge commits dropped as `git rebase` drops them. GitHub's `merge_commit_sha` is
 *   then the last replayed commit ("If rebased, merge_commit_sha represents the commit that the
 *   base branch was updated to", GET /repos/{owner}/{repo}/pulls/{pull_number}).
 *
 * Trees come from a path-level three-way merge: the base tip with the PR's changes since the
 * merge base. A path both sides changed differently is a conflict, as GitHub refuses to merge
 * ("This branch has conflicts that must be resolved"), unless the caller states the result of a
 * clean textual merge of that file (`mergedContent`).
 */
import { applyChanges, diffTrees, type Commit, type ObjectStore, type Signature, type Tree, type TreeEntry } from "./git-objects.js";
import type { MergeMethod } from "./pulls.js";

export class MergeConflictError extends Error {
  constructor(readonly paths: string[]) {
    super(
      `merge conflict in ${paths.join(", ")}: both the base branch and the pull request changed ${paths.length === 1 ? "it" : "them"} since they diverged`,
    );
  }
}

export interface MergeInput {
  method: MergeMethod;
  baseTip: Commit;
  head: Commit;
  mergeBase: Commit;
  /** The PR's commits (base..head), parents first. */
  commits: readonly Commit[];
  /** Paths whose merged content is given: each must be changed on both sides. */
  mergedContent: ReadonlyMap<string, TreeEntry | undefined>;
  merger: Signature;
  prAuthor: Signature;
  webFlow: Signature;
  message: string;
}

/** The new commits, oldest first; the last one is the base branch's new tip. */
export function mergeCommits(objects: ObjectStore, input: MergeInput): Commit[] {
  const tree = threeWayTree(input.baseTip.tree, input.mergeBase.tree, input.head.tree, input.mergedContent);
  if (input.method === "merge") {
    // GitHub authors a merge commit as the person who merged, and commits it as itself.
    return [
      objects.putCommit({
        tree,
        parents: [input.baseTip.sha, input.head.sha],
        author: input.merger,
        committer: input.webFlow,
        message: input.message,
      }),
    ];
  }
  if (input.method === "squash") {
    return [
      objects.putCommit({ tree, parents: [input.baseTip.sha], author: input.prAuthor, committer: input.webFlow, message: input.message }),
    ];
  }
  if (input.mergedContent.size > 0)
    throw new Error(
      "mergedContent models one merge of two versions; a rebase replays commit by commit, so give each replayed state as commits instead",
    );
  return rebaseCommits(objects, input);
}

function rebaseCommits(objects: ObjectStore, input: MergeInput): Commit[] {
  const replayed: Commit[] = [];
  let tip = input.baseTip;
  for (const commit of input.commits) {
    if (commit.parents.length > 1) continue; // git rebase drops merge commits
    const parent = commit.parents[0] ? objects.require(commit.parents[0]) : undefined;
    const tree = threeWayTree(tip.tree, parent?.tree ?? new Map(), commit.tree, new Map());
    tip = objects.putCommit({ tree, parents: [tip.sha], author: commit.author, committer: input.webFlow, message: commit.message });
    replayed.push(tip);
  }
  if (replayed.length === 0) throw new Error("nothing to rebase: the pull request has only merge commits");
  return replayed;
}

/** `ours` with the changes from `ancestor` to `theirs`; conflicting paths need `resolved` entries. */
export function threeWayTree(ours: Tree, ancestor: Tree, theirs: Tree, resolved: ReadonlyMap<string, TreeEntry | undefined>): Tree {
  const theirChanges = diffTrees(ancestor, theirs);
  const ourChanged = new Set(diffTrees(ancestor, ours).map((change) => change.path));
  const result = new Map<string, TreeEntry | undefined>();
  const conflicts: string[] = [];
  for (const change of theirChanges) {
    const bothChanged = ourChanged.has(change.path) && !sameEntry(ours.get(change.path), change.after);
    if (resolved.has(change.path)) {
      if (!bothChanged) throw impossibleResolution(change.path);
      result.set(change.path, resolved.get(change.path));
    } else if (bothChanged) {
      conflicts.push(change.path);
    } else {
      result.set(change.path, change.after);
    }
  }
  if (conflicts.length > 0) throw new MergeConflictError(conflicts);
  for (const path of resolved.keys()) if (!result.has(path)) throw impossibleResolution(path);
  return applyChanges(ours, result);
}

function impossibleResolution(path: string): Error {
  return new Error(
    `mergedContent for ${path}: only a path that both the base branch and the pull request changed, differently, has a merged content of its own`,
  );
}

function sameEntry(a: TreeEntry | undefined, b: TreeEntry | undefined): boolean {
  return a?.sha === b?.sha && a?.mode === b?.mode;
}
