/**
 * Which commits of a pull request change a governance file (CODEOWNERS in any of its locations, or
 * the policy). The net diff is not enough: a commit that loosens the policy and a later one that
 * reverts it cancel out in the diff, yet a rebase merge lands both on the default branch, and the
 * rulebook says policy changes go in pull requests of their own. So every commit is judged. Pure.
 *
 * A commit changes a path when its object id there (or its absence) differs from EVERY parent's,
 * as git's combined diff sees a merge: a merge commit that only brings in what one side already
 * had (the default branch's own CODEOWNERS change, merged into the PR branch) changes nothing.
 */
import type { PullCommit } from "../github/types.js";

export interface GovernanceChange {
  sha: string;
  paths: string[];
}

/**
 * `ids` maps every commit of the PR and every parent of one to the object ids at `paths` (null
 * where absent), in the order of `paths`. A commit or parent missing from it throws: the caller
 * must not read "unknown" as "unchanged".
 */
export function governanceChangesOf(
  commits: readonly PullCommit[],
  paths: readonly string[],
  ids: ReadonlyMap<string, readonly (string | null)[]>,
): GovernanceChange[] {
  const idsOf = (sha: string) => {
    const found = ids.get(sha);
    if (!found || found.length !== paths.length) throw new Error(`no object ids for commit ${sha}`);
    return found;
  };
  const changes: GovernanceChange[] = [];
  for (const commit of commits) {
    const own = idsOf(commit.sha);
    const parents = commit.parents.map(idsOf);
    // A root commit (no parent) adds whatever it holds.
    const changed = paths.filter(
      (_, index) => parents.every((parent) => parent[index] !== own[index]) && (parents.length > 0 || own[index] !== null),
    );
    if (changed.length > 0) changes.push({ sha: commit.sha, paths: changed });
  }
  return changes;
}

/** Every commit whose object ids `governanceChangesOf` needs: the PR's commits and their parents. */
export function commitsToInspect(commits: readonly PullCommit[]): string[] {
  return [...new Set(commits.flatMap((commit) => [commit.sha, ...commit.parents]))];
}
