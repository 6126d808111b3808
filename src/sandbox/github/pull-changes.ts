/**
 * What a pull request changes, as GitHub's "Files changed" shows it: the three-dot diff from the
 * merge base of the base branch and the head, to the head. A file removed at one path and added
 * at another with the identical blob is a rename (`status: renamed`, `previous_filename`), as git
 * detects an exact rename.
 */
import { diffTrees, type ObjectStore, type Tree, type TreeChange } from "./git-objects.js";
import type { FileChange } from "./pulls.js";

export function fileChanges(objects: ObjectStore, from: Tree, to: Tree): FileChange[] {
  const changes = diffTrees(from, to);
  const removedByBlob = new Map<string, TreeChange[]>();
  for (const change of changes) {
    if (change.before && !change.after) removedByBlob.set(change.before.sha, [...(removedByBlob.get(change.before.sha) ?? []), change]);
  }
  const renamedFrom = new Map<string, TreeChange>();
  const renamedAway = new Set<string>();
  for (const change of changes) {
    if (change.before || !change.after) continue;
    const source = removedByBlob
      .get(change.after.sha)
      ?.find((candidate) => !renamedAway.has(candidate.path) && candidate.before!.mode === change.after!.mode);
    if (!source) continue;
    renamedFrom.set(change.path, source);
    renamedAway.add(source.path);
  }
  return changes.filter((change) => !renamedAway.has(change.path)).map((change) => describe(objects, change, renamedFrom.get(change.path)));
}

function describe(objects: ObjectStore, change: TreeChange, renamedFrom: TreeChange | undefined): FileChange {
  const before = renamedFrom ? renamedFrom.before : change.before;
  const status = renamedFrom ? "renamed" : !change.before ? "added" : !change.after ? "removed" : "modified";
  const { additions, deletions } = lineStats(blobOf(objects, before), blobOf(objects, change.after));
  return {
    filename: change.path,
    status,
    ...(renamedFrom ? { previousFilename: renamedFrom.path } : {}),
    sha: change.after && change.after.mode !== "160000" ? change.after.sha : null,
    additions,
    deletions,
  };
}

function blobOf(objects: ObjectStore, entry: TreeChange["before"]): Uint8Array | undefined {
  return entry && entry.mode !== "160000" ? objects.blob(entry.sha) : undefined;
}

/**
 * Lines added and removed. GitHub counts a line diff; this counts lines present on one side more
 * often than on the other, which agrees for additions, removals and edits of distinct lines.
 * Binary files (holding NUL bytes) count no lines, as GitHub shows none for them.
 */
function lineStats(before: Uint8Array | undefined, after: Uint8Array | undefined): { additions: number; deletions: number } {
  const counts = new Map<string, number>();
  for (const line of lines(before)) counts.set(line, (counts.get(line) ?? 0) - 1);
  for (const line of lines(after)) counts.set(line, (counts.get(line) ?? 0) + 1);
  let additions = 0;
  let deletions = 0;
  for (const count of counts.values()) {
    if (count > 0) additions += count;
    else deletions -= count;
  }
  return { additions, deletions };
}

function lines(bytes: Uint8Array | undefined): string[] {
  if (!bytes || bytes.includes(0)) return [];
  const text = new TextDecoder().decode(bytes);
  const split = text.split("\n");
  if (split.at(-1) === "") split.pop();
  return split;
}
