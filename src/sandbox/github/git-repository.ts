/**
 * A repository's git side on the local GitHub: branches and the commits on them, changed only
 * by operations a person could do (commit, push, force push, create or delete a branch). Each
 * branch update is recorded in the activity log and announced as GitHub's `push` webhook, so
 * what the API reports about history is always what the history is.
 */
import { ActivityLog, type ActivityType } from "./activity.js";

/** The activity log as others see it: read, never written (only branch updates write it). */
export type ActivityView = Pick<ActivityLog, "all" | "list" | "withhold" | "release">;
import { canWrite, type PersonSpec, type Role } from "./accounts.js";
import { githubTime } from "./clock.js";
import { threeWayTree } from "./merge-methods.js";
import { applyChanges, ObjectStore, ZERO_SHA, type Commit, type Tree, type TreeEntry } from "./git-objects.js";
import type { WebhookDelivery, World } from "./world.js";

/** A branch update, announced as GitHub's `push` webhook. */
export interface PushEvent {
  kind: "push";
  repo: GitRepository;
  ref: string;
  before: string;
  after: string;
  /** The commits new to the branch, parents first. */
  commits: Commit[];
  /** Commits already pushed to the repository before (GitHub's `distinct: false`). */
  known: ReadonlySet<string>;
  pusher: string;
  created: boolean;
  deleted: boolean;
  forced: boolean;
}

/** What a repository's git side needs from the GitHub it lives in. */
export interface GitWorld extends World<PushEvent> {
  /** The strongest role `login` has in `repo` (owner, collaborator, or through an active team membership). */
  roleOf(repo: GitRepository, login: string): Role | undefined;
  /** The repository `owner/name` (case-insensitive), if one has that name now. */
  findRepository(owner: string, name: string): GitRepository | undefined;
}

/** A file's new content: text or bytes, null to delete, or a link (mode 120000) or submodule (160000). */
export type FileSpec = string | Uint8Array | null | { symlink: string } | { submodule: string } | { executable: string | Uint8Array };

export interface CommitSpec {
  files: Record<string, FileSpec>;
  author: PersonSpec;
  /** Default: the author. */
  committer?: PersonSpec;
  message?: string;
  /** Make it a merge commit of this ref into the branch (as "Update branch" or `git merge` does). */
  mergeFrom?: string;
  /** Who pushes it (default: the author's login, else the committer's, else the repository owner). */
  pusher?: string;
}

export interface RepositoryInit {
  id: number;
  owner: string;
  name: string;
  defaultBranch: string;
  installationId: number;
  private: boolean;
  createdAt: Date;
}

/** The most commits a push webhook lists ("The array includes a maximum of 20 commits"). */
const PUSH_PAYLOAD_COMMITS = 20;

export class GitRepository {
  readonly objects = new ObjectStore();
  private readonly activityLog: ActivityLog;
  readonly id: number;
  readonly owner: string;
  /** Changes only by `rename` (GitHub keeps the id). */
  readonly name: string;
  readonly defaultBranch: string;
  readonly installationId: number;
  readonly isPrivate: boolean;
  readonly createdAt: Date;
  private lastPushAt: Date | null = null;
  /** login (lower case) → role given directly (teams' roles are on the teams). */
  private readonly collaborators = new Map<string, Role>();
  private readonly refs = new Map<string, string>();
  /** Lightweight tags: name → commit. */
  private readonly tags = new Map<string, string>();
  private readonly everPushed = new Set<string>();
  /** Commits garbage collected or deleted on request: reviews given on them report commit_id null. */
  private readonly purged = new Set<string>();

  constructor(
    protected readonly world: GitWorld,
    init: RepositoryInit,
  ) {
    ({
      id: this.id,
      owner: this.owner,
      name: this.name,
      defaultBranch: this.defaultBranch,
      installationId: this.installationId,
      createdAt: this.createdAt,
    } = init);
    this.isPrivate = init.private;
    this.activityLog = new ActivityLog(() => world.nextId());
  }

  /**
   * Renames the repository, as an admin can in its settings: the id stays, the name changes and a
   * new repository may take the old name ("Renaming a repository", GitHub Docs).
   */
  rename(name: string): void {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error(`"${name}" is not a repository name`);
    if (this.world.findRepository(this.owner, name)) throw new Error(`${this.owner}/${name} already exists`);
    this.formerNames.push(this.fullName);
    (this as { name: string }).name = name;
  }

  /** Names it had before renames: GitHub redirects them to it until another repository takes one. */
  readonly formerNames: string[] = [];

  /**
   * A commit no branch or pull request reaches any more (force-pushed away) that GitHub garbage
   * collected, or that support deleted on request: reviews given on it then report `commit_id: null`.
   */
  purgeCommit(sha: string): void {
    this.purged.add(sha);
  }

  isPurged(sha: string): boolean {
    return this.purged.has(sha);
  }

  get activity(): ActivityView {
    return this.activityLog;
  }

  get pushedAt(): Date | null {
    return this.lastPushAt;
  }

  /** The role given to `login` directly in this repository, if any. */
  directRole(login: string): Role | undefined {
    return this.collaborators.get(login.toLowerCase());
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  /** Gives `login` a role in this repository (null removes it). */
  setPermission(login: string, role: Role | null): void {
    const key = this.world.accounts.get(login).login.toLowerCase();
    if (role === null) this.collaborators.delete(key);
    else this.collaborators.set(key, role);
  }

  branch(name: string): string | undefined {
    return this.refs.get(name);
  }

  branchNames(): string[] {
    return [...this.refs.keys()];
  }

  /**
   * A commit as git (and so GitHub) resolves a revision: `refs/heads/<name>` or `refs/tags/<name>`
   * exactly; `HEAD` (the default branch); a bare name as a tag first, then a branch (git's
   * documented order: refs/tags/<name> before refs/heads/<name>); else a full id or unique abbreviation.
   */
  resolve(ref: string): Commit | undefined {
    const tip =
      ref === "HEAD"
        ? this.refs.get(this.defaultBranch)
        : ref.startsWith("refs/heads/")
          ? this.refs.get(ref.slice("refs/heads/".length))
          : ref.startsWith("refs/tags/")
            ? this.tags.get(ref.slice("refs/tags/".length))
            : (this.tags.get(ref) ?? this.refs.get(ref));
    return tip ? this.objects.require(tip) : this.objects.findCommit(ref);
  }

  /** A lightweight tag pushed by `actor` (anyone with write access can push tags). */
  createTag(name: string, commit: string, actor: string = this.owner): void {
    if (this.tags.has(name)) throw new Error(`tag ${name} already exists in ${this.fullName}`);
    this.requirePushAccess(actor);
    this.tags.set(name, this.require(commit).sha);
  }

  require(ref: string): Commit {
    const commit = this.resolve(ref);
    if (!commit) throw new Error(`${this.fullName} has no branch or commit ${ref}`);
    return commit;
  }

  /** Commits `spec` on top of `branch` and pushes it; the first commit of an empty repository creates the default branch. */
  commit(branch: string, spec: CommitSpec): string {
    const pusher = spec.pusher ?? (typeof spec.author === "string" ? spec.author : spec.author?.login) ?? this.owner;
    this.requirePushAccess(pusher);
    const date = this.world.clock.tick();
    const tip = this.refs.get(branch);
    if (!tip && (this.refs.size > 0 || branch !== this.defaultBranch))
      throw new Error(`${this.fullName} has no branch ${branch}; create it with createBranch first`);
    const parent = tip ? this.objects.require(tip) : undefined;
    let tree: Tree = parent?.tree ?? new Map();
    const parents = parent ? [parent.sha] : [];
    if (spec.mergeFrom) {
      const other = this.require(spec.mergeFrom);
      const base = this.objects.mergeBase(parent?.sha ?? other.sha, other.sha);
      tree = threeWayTree(tree, base ? this.objects.require(base).tree : new Map(), other.tree, new Map());
      parents.push(other.sha);
    }
    tree = applyChanges(tree, this.treeChanges(tree, spec.files));
    const stamp = githubTime(date);
    const author = this.world.accounts.signature(spec.author, stamp);
    const committer = spec.committer === undefined ? author : this.world.accounts.signature(spec.committer, stamp);
    const message =
      spec.message ?? (spec.mergeFrom ? `Merge ${spec.mergeFrom} into ${branch}` : `Update ${Object.keys(spec.files).join(", ")}`);
    const commit = this.objects.putCommit({ tree, parents, author, committer, message });
    this.updateBranch(branch, commit.sha, pusher);
    return commit.sha;
  }

  /** A push of `files` straight to `branch` by `pusher`, with no pull request; returns GitHub's push webhook. */
  directPush(branch: string, files: Record<string, FileSpec>, pusher: string): Record<string, unknown> {
    this.commit(branch, { files, author: pusher, pusher });
    return this.lastPush!.payload;
  }

  createBranch(name: string, from: string, actor: string = this.owner): string {
    if (this.refs.has(name)) throw new Error(`branch ${name} already exists in ${this.fullName}`);
    if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.startsWith("/") || name.endsWith("/") || name.includes(".."))
      throw new Error(`"${name}" is not a valid branch name`);
    this.requirePushAccess(actor);
    this.world.clock.tick();
    const sha = this.require(from).sha;
    this.updateBranch(name, sha, actor);
    return sha;
  }

  /** Moves `branch` to an existing commit; a move that is not a fast-forward needs `force`, as git push does. */
  push(branch: string, sha: string, options: { force?: boolean; pusher?: string } = {}): Record<string, unknown> {
    const tip = this.refs.get(branch);
    if (!tip) throw new Error(`${this.fullName} has no branch ${branch}`);
    const target = this.require(sha).sha;
    if (!options.force && !this.objects.isAncestor(tip, target))
      throw new Error(
        `push to ${branch} rejected: ${target.slice(0, 7)} is not a fast-forward of ${tip.slice(0, 7)} (force-push to replace it)`,
      );
    const pusher = options.pusher ?? this.owner;
    this.requirePushAccess(pusher);
    this.world.clock.tick();
    return this.updateBranch(branch, target, pusher).payload;
  }

  deleteBranch(name: string, actor: string = this.owner): void {
    if (!this.refs.has(name)) throw new Error(`${this.fullName} has no branch ${name}`);
    if (name === this.defaultBranch) throw new Error("the default branch cannot be deleted");
    this.requirePushAccess(actor);
    this.world.clock.tick();
    this.updateBranch(name, ZERO_SHA, actor);
  }

  /** The last push webhook this repository sent. */
  protected lastPush: WebhookDelivery | undefined;

  /** Sets a branch tip (ZERO_SHA deletes it), records the activity and sends the push webhook. */
  protected updateBranch(branch: string, after: string, actor: string, type?: ActivityType): WebhookDelivery {
    const before = this.refs.get(branch) ?? ZERO_SHA;
    const created = before === ZERO_SHA;
    const deleted = after === ZERO_SHA;
    const forced = !created && !deleted && !this.objects.isAncestor(before, after);
    if (deleted) this.refs.delete(branch);
    else this.refs.set(branch, after);
    const now = this.world.clock.now();
    this.lastPushAt = now;
    const activityType = type ?? (created ? "branch_creation" : deleted ? "branch_deletion" : forced ? "force_push" : "push");
    this.activityLog.record({ before, after, ref: `refs/heads/${branch}`, timestamp: now, activityType, actor });
    const commits = deleted ? [] : this.newCommits(branch, created ? undefined : before, after);
    const known = new Set(commits.filter((commit) => this.everPushed.has(commit.sha)).map((commit) => commit.sha));
    for (const commit of commits) this.everPushed.add(commit.sha);
    this.lastPush = this.world.emit({
      kind: "push",
      repo: this,
      ref: `refs/heads/${branch}`,
      before,
      after,
      commits: commits.slice(-PUSH_PAYLOAD_COMMITS),
      known,
      pusher: actor,
      created,
      deleted,
      forced,
    });
    this.onBranchUpdated(branch, before, after, forced, actor);
    return this.lastPush;
  }

  /** Pushing to a repository takes write access (GitHub's "write" role: "Can read, clone, and push"). */
  protected requirePushAccess(login: string): void {
    if (!canWrite(this.world.roleOf(this, login)))
      throw new Error(`@${login} cannot push to ${this.fullName}: pushing needs write access (setPermission)`);
  }

  /** For pull requests to follow their branches. */
  protected onBranchUpdated(_branch: string, _before: string, _after: string, _forced: boolean, _actor: string): void {}

  private newCommits(branch: string, before: string | undefined, after: string): Commit[] {
    // A new branch's push lists what it adds to the default branch (GitHub's `compare` for it).
    const defaultTip = branch === this.defaultBranch ? undefined : this.refs.get(this.defaultBranch);
    return this.objects.commitsBetween(before ?? defaultTip, after);
  }

  private treeChanges(tree: Tree, files: Record<string, FileSpec>): Map<string, TreeEntry | undefined> {
    const changes = new Map<string, TreeEntry | undefined>();
    const directories = directoriesOf([...tree.keys(), ...Object.keys(files)]);
    for (const [path, spec] of Object.entries(files)) {
      checkPath(tree, directories, path, spec === null);
      changes.set(path, spec === null ? undefined : this.entryFor(spec));
    }
    return changes;
  }

  private entryFor(spec: Exclude<FileSpec, null>): TreeEntry {
    if (typeof spec === "string" || spec instanceof Uint8Array) return { mode: "100644", sha: this.objects.putBlob(bytesOf(spec)) };
    if ("symlink" in spec) return { mode: "120000", sha: this.objects.putBlob(bytesOf(spec.symlink)) };
    if ("executable" in spec) return { mode: "100755", sha: this.objects.putBlob(bytesOf(spec.executable)) };
    if (!/^[0-9a-f]{40}$/.test(spec.submodule)) throw new Error(`a submodule points at a commit id, not "${spec.submodule}"`);
    return { mode: "160000", sha: spec.submodule };
  }
}

/** git refuses paths that are absolute, empty, `.`/`..`, or both a file and a directory. */
function checkPath(tree: Tree, directories: ReadonlySet<string>, path: string, deleting: boolean): void {
  const segments = path.split("/");
  if (segments.some((segment) => segment === "" || segment === "." || segment === ".." || segment === ".git"))
    throw new Error(`"${path}" is not a path git can store`);
  if (deleting) {
    if (!tree.has(path)) throw new Error(`cannot delete ${path}: no such file`);
    return;
  }
  for (let index = 1; index < segments.length; index++) {
    const directory = segments.slice(0, index).join("/");
    if (tree.has(directory)) throw new Error(`cannot add ${path}: ${directory} is a file`);
  }
  if (directories.has(path)) throw new Error(`cannot add ${path}: it is a directory`);
}

/** Every directory that holds one of `paths`. */
function directoriesOf(paths: readonly string[]): Set<string> {
  const directories = new Set<string>();
  for (const path of paths) {
    for (let slash = path.indexOf("/"); slash !== -1; slash = path.indexOf("/", slash + 1)) directories.add(path.slice(0, slash));
  }
  return directories;
}

function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}
