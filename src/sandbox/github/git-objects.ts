/**
 * The git object model under the local GitHub: blobs, trees and commits, addressed by id.
 *
 * Blob ids are real git ids (sha1 of `blob <size>\0<bytes>`): jitsudo re-computes them to check
 * that GraphQL's text is the file's exact bytes. Tree and commit ids are sha1 over a canonical
 * form of their content: deterministic, unique, and never hand-picked, though not byte-equal to
 * git's (nothing in jitsudo recomputes them). A tree is flat (path → entry); directories are the
 * prefixes of its paths, as git's nested trees would list them.
 */
import { createHash } from "node:crypto";

/** git's modes: regular file, executable, symbolic link (the blob holds the target), submodule (gitlink). */
export type FileMode = "100644" | "100755" | "120000" | "160000";

export interface TreeEntry {
  mode: FileMode;
  /** The blob id; for a submodule, the commit id of the other repository (no blob here). */
  sha: string;
}

export type Tree = ReadonlyMap<string, TreeEntry>;

/** Who wrote or committed a commit, and the GitHub account its e-mail links to (null: none). */
export interface Signature {
  name: string;
  email: string;
  /** GitHub's timestamp format. */
  date: string;
  login: string | null;
}

export interface Commit {
  sha: string;
  treeSha: string;
  tree: Tree;
  parents: readonly string[];
  author: Signature;
  committer: Signature;
  message: string;
}

export interface TreeChange {
  path: string;
  before?: TreeEntry;
  after?: TreeEntry;
}

export const ZERO_SHA = "0".repeat(40);

export function gitBlobId(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}

export class ObjectStore {
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly commits = new Map<string, Commit>();
  private readonly treeIds = new WeakMap<Tree, string>();

  putBlob(bytes: Uint8Array): string {
    const sha = gitBlobId(bytes);
    this.blobs.set(sha, bytes);
    return sha;
  }

  blob(sha: string): Uint8Array | undefined {
    return this.blobs.get(sha);
  }

  putCommit(fields: Omit<Commit, "sha" | "treeSha">): Commit {
    for (const parent of fields.parents) this.require(parent);
    const treeSha = this.treeId(fields.tree);
    const content = JSON.stringify([treeSha, fields.parents, fields.author, fields.committer, fields.message]);
    const sha = createHash("sha1").update(`commit ${content}`).digest("hex");
    const commit = this.commits.get(sha) ?? { ...fields, sha, treeSha };
    this.commits.set(sha, commit);
    return commit;
  }

  commit(sha: string): Commit | undefined {
    return this.commits.get(sha);
  }

  require(sha: string): Commit {
    const commit = this.commits.get(sha);
    if (!commit) throw new Error(`no commit ${sha} in this repository`);
    return commit;
  }

  /** A unique commit whose id starts with `prefix` (at least 4 hex digits, as git accepts). */
  findCommit(prefix: string): Commit | undefined {
    if (!/^[0-9a-f]{4,40}$/.test(prefix)) return undefined;
    const exact = this.commits.get(prefix);
    if (exact) return exact;
    const found = [...this.commits.keys()].filter((sha) => sha.startsWith(prefix));
    return found.length === 1 ? this.commits.get(found[0]!) : undefined;
  }

  treeId(tree: Tree): string {
    let id = this.treeIds.get(tree);
    if (!id) {
      id = directoryId(tree, "");
      this.treeIds.set(tree, id);
    }
    return id;
  }

  /** `sha` and every commit it descends from. */
  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const pending = [sha];
    while (pending.length > 0) {
      const next = pending.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      pending.push(...this.require(next).parents);
    }
    return seen;
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** The nearest common ancestor of two commits (`git merge-base`), or undefined for unrelated histories. */
  mergeBase(a: string, b: string): string | undefined {
    const ofA = this.ancestors(a);
    // Breadth-first from b: the first commit also reachable from a is the nearest common one.
    const queue = [b];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (seen.has(next)) continue;
      seen.add(next);
      if (ofA.has(next)) return next;
      queue.push(...this.require(next).parents);
    }
    return undefined;
  }

  /** Commits reachable from `head` and not from `base` (`git log base..head`), parents before children. */
  commitsBetween(base: string | undefined, head: string): Commit[] {
    const excluded = base ? this.ancestors(base) : new Set<string>();
    const wanted = [...this.ancestors(head)].filter((sha) => !excluded.has(sha));
    const wantedSet = new Set(wanted);
    const ordered: Commit[] = [];
    const placed = new Set<string>();
    const place = (sha: string): void => {
      if (placed.has(sha)) return;
      placed.add(sha);
      const commit = this.require(sha);
      for (const parent of commit.parents) if (wantedSet.has(parent)) place(parent);
      ordered.push(commit);
    };
    if (wantedSet.has(head)) place(head);
    return ordered;
  }
}

/** What changed from one tree to another, path by path, sorted by path. */
export function diffTrees(before: Tree, after: Tree): TreeChange[] {
  const changes: TreeChange[] = [];
  for (const [path, entry] of before) {
    const next = after.get(path);
    if (!next) changes.push({ path, before: entry });
    else if (next.sha !== entry.sha || next.mode !== entry.mode) changes.push({ path, before: entry, after: next });
  }
  for (const [path, entry] of after) if (!before.has(path)) changes.push({ path, after: entry });
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `tree` with `changes` applied (an entry undefined deletes the path). */
export function applyChanges(tree: Tree, changes: ReadonlyMap<string, TreeEntry | undefined>): Tree {
  const next = new Map(tree);
  for (const [path, entry] of changes) {
    if (entry) next.set(path, entry);
    else next.delete(path);
  }
  return next;
}

/** The entries directly inside directory `prefix` ("" for the root): files, and subdirectories by name. */
export function directoryEntries(tree: Tree, prefix: string): { name: string; path: string; entry?: TreeEntry }[] {
  const base = prefix === "" ? "" : `${prefix}/`;
  const entries = new Map<string, { name: string; path: string; entry?: TreeEntry }>();
  for (const [path, entry] of tree) {
    if (!path.startsWith(base)) continue;
    const rest = path.slice(base.length);
    const slash = rest.indexOf("/");
    const name = slash === -1 ? rest : rest.slice(0, slash);
    entries.set(name, slash === -1 ? { name, path, entry } : { name, path: `${base}${name}` });
  }
  return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function isDirectory(tree: Tree, path: string): boolean {
  const base = path === "" ? "" : `${path}/`;
  for (const key of tree.keys()) if (key.startsWith(base)) return true;
  return false;
}

/** A deterministic id for the directory `prefix` of `tree`, derived from everything under it. */
export function directoryId(tree: Tree, prefix: string): string {
  const base = prefix === "" ? "" : `${prefix}/`;
  const hash = createHash("sha1").update(`tree ${prefix}\0`);
  const paths = [...tree.keys()].filter((path) => path.startsWith(base)).sort();
  for (const path of paths) {
    const entry = tree.get(path)!;
    hash.update(`${entry.mode} ${path.slice(base.length)}\0${entry.sha}\n`);
  }
  return hash.digest("hex");
}
