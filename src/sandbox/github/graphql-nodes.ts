/**
 * The GraphQL objects of the local GitHub, as resolver values over the model: `Repository`
 * (`object(expression | oid)`, `pullRequest(number)`), `Commit` (`file(path)`, `tree`, `parents`),
 * `TreeEntry` (`mode` as an integer: 33188 file, 33261 executable, 40960 symlink, 57344
 * submodule, 16384 directory), `Blob` (text lossily decoded when not UTF-8, as GitHub does),
 * `Tree`, and `PullRequest.timelineItems` with the events the model records.
 *
 * An expression is `<branch or commit>` or `<branch or commit>:<path>`, as git's rev-parse reads
 * it: a path to a symbolic link gives the link's blob (its target), a path to a directory a Tree.
 * A submodule's commit lives in another repository, so `object` and `TreeEntry.object` give null.
 */
import type { Account } from "./accounts.js";
import { githubTime } from "./clock.js";
import { directoryEntries, directoryId, isDirectory, type Commit, type TreeEntry } from "./git-objects.js";
import { connection, GitHubGraphqlError, type ConnectionArgs } from "./graphql-execution.js";
import { TIMELINE_ITEM_TYPES, type PullRequest, type TimelineEvent } from "./pulls.js";
import type { Repository } from "./repository.js";
import { nodeId, type Urls } from "./rest-json.js";

export interface GraphqlWorld {
  urls: Urls;
  account(login: string): Account;
  /** The repository `owner/name` if the caller may see it. */
  visibleRepository(owner: string, name: string): Repository | undefined;
}

type Node = Record<string, unknown>;

export function graphqlRoot(world: GraphqlWorld): Node {
  return {
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const repo = world.visibleRepository(owner, name);
      if (!repo) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a Repository with the name '${owner}/${name}'.`);
      return repositoryNode(world, repo);
    },
  };
}

function repositoryNode(world: GraphqlWorld, repo: Repository): Node {
  return {
    __typename: "Repository",
    id: nodeId("Repository", repo.id),
    databaseId: repo.id,
    name: repo.name,
    nameWithOwner: repo.fullName,
    isPrivate: repo.isPrivate,
    url: world.urls.web(`/${repo.fullName}`),
    owner: () => actorNode(world, repo.owner),
    defaultBranchRef: () => refNode(world, repo, repo.defaultBranch),
    ref: ({ qualifiedName }: { qualifiedName: string }) =>
      repo.branch(qualifiedName.replace(/^refs\/heads\//, "")) ? refNode(world, repo, qualifiedName.replace(/^refs\/heads\//, "")) : null,
    object: ({ expression, oid }: { expression?: string; oid?: string }) => objectAt(world, repo, expression ?? oid ?? ""),
    pullRequest: ({ number }: { number: number }) => {
      const pull = repo.pulls.get(number);
      if (!pull) throw new GitHubGraphqlError("NOT_FOUND", `Could not resolve to a PullRequest with the number of ${number}.`);
      return pullRequestNode(world, repo, pull);
    },
  };
}

function refNode(world: GraphqlWorld, repo: Repository, branch: string): Node | null {
  const tip = repo.branch(branch);
  if (!tip) return null;
  return {
    __typename: "Ref",
    id: nodeId("Ref", `${repo.id}:${branch}`),
    name: branch,
    prefix: "refs/heads/",
    target: () => commitNode(world, repo, repo.objects.require(tip)),
  };
}

/** `object(expression:)`: a commit, or what lies at a path in it. */
function objectAt(world: GraphqlWorld, repo: Repository, expression: string): Node | null {
  const colon = expression.indexOf(":");
  const commit = repo.resolve(colon === -1 ? expression : expression.slice(0, colon));
  if (!commit) return null;
  if (colon === -1) return commitNode(world, repo, commit);
  const path = expression.slice(colon + 1).replace(/\/+$/, "");
  if (path === "" || isDirectory(commit.tree, path)) return treeNode(world, repo, commit, path);
  const entry = commit.tree.get(path);
  return entry ? entryObject(world, repo, commit, path, entry) : null;
}

function entryObject(world: GraphqlWorld, repo: Repository, commit: Commit, path: string, entry: TreeEntry): Node | null {
  return entry.mode === "160000" ? null : blobNode(world, repo, commit, entry.sha);
}

function commitNode(world: GraphqlWorld, repo: Repository, commit: Commit): Node {
  const actor = (signature: Commit["author"]) => () => ({
    name: signature.name,
    email: signature.email,
    date: signature.date,
    user: signature.login ? actorNode(world, signature.login) : null,
  });
  return {
    __typename: "Commit",
    id: nodeId("Commit", commit.sha),
    oid: commit.sha,
    abbreviatedOid: commit.sha.slice(0, 7),
    message: commit.message,
    messageHeadline: commit.message.split("\n")[0],
    authoredDate: commit.author.date,
    committedDate: commit.committer.date,
    author: actor(commit.author),
    committer: actor(commit.committer),
    url: world.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    commitUrl: world.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    repository: () => repositoryNode(world, repo),
    tree: () => treeNode(world, repo, commit, ""),
    file: ({ path }: { path: string }) => {
      const clean = path.replace(/\/+$/, "");
      const entry = commit.tree.get(clean);
      if (entry) return treeEntryNode(world, repo, commit, clean, entry);
      return clean !== "" && isDirectory(commit.tree, clean) ? treeEntryNode(world, repo, commit, clean, undefined) : null;
    },
    parents: (args: ConnectionArgs) =>
      connection(commit.parents, args, "parents", (sha) => commitNode(world, repo, repo.objects.require(sha))),
  };
}

function treeNode(world: GraphqlWorld, repo: Repository, commit: Commit, prefix: string): Node {
  const oid = directoryId(commit.tree, prefix);
  return {
    __typename: "Tree",
    id: nodeId("Tree", oid),
    oid,
    abbreviatedOid: oid.slice(0, 7),
    commitUrl: world.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    commitResourcePath: `/${repo.fullName}/commit/${commit.sha}`,
    repository: () => repositoryNode(world, repo),
    entries: () => directoryEntries(commit.tree, prefix).map((child) => treeEntryNode(world, repo, commit, child.path, child.entry)),
  };
}

/** A file, link or submodule (`entry`), or a directory (no entry). */
function treeEntryNode(world: GraphqlWorld, repo: Repository, commit: Commit, path: string, entry: TreeEntry | undefined): Node {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const oid = entry?.sha ?? directoryId(commit.tree, path);
  const blob = entry && entry.mode !== "160000" ? repo.objects.blob(entry.sha) : undefined;
  const dot = name.lastIndexOf(".");
  return {
    name,
    path,
    nameRaw: Buffer.from(name).toString("base64"),
    pathRaw: Buffer.from(path).toString("base64"),
    mode: parseInt(entry?.mode ?? "040000", 8),
    type: !entry ? "tree" : entry.mode === "160000" ? "commit" : "blob",
    oid,
    size: blob?.byteLength ?? 0,
    extension: entry && dot > 0 ? name.slice(dot) : null,
    isGenerated: false,
    submodule: null,
    repository: () => repositoryNode(world, repo),
    object: () => (entry ? entryObject(world, repo, commit, path, entry) : treeNode(world, repo, commit, path)),
  };
}

function blobNode(world: GraphqlWorld, repo: Repository, commit: Commit, sha: string): Node {
  const bytes = repo.objects.blob(sha)!;
  const isBinary = bytes.includes(0);
  return {
    __typename: "Blob",
    id: nodeId("Blob", sha),
    oid: sha,
    abbreviatedOid: sha.slice(0, 7),
    byteSize: bytes.byteLength,
    isBinary,
    isTruncated: false,
    // GitHub hands back text for non-UTF-8 files too, with invalid bytes replaced (U+FFFD).
    text: isBinary ? null : new TextDecoder().decode(bytes),
    commitUrl: world.urls.web(`/${repo.fullName}/commit/${commit.sha}`),
    commitResourcePath: `/${repo.fullName}/commit/${commit.sha}`,
    repository: () => repositoryNode(world, repo),
  };
}

function pullRequestNode(world: GraphqlWorld, repo: Repository, pull: PullRequest): Node {
  return {
    __typename: "PullRequest",
    id: nodeId("PullRequest", pull.id),
    databaseId: pull.id,
    number: pull.number,
    title: pull.title,
    state: pull.merged ? "MERGED" : pull.state.toUpperCase(),
    merged: pull.merged !== null,
    mergedAt: pull.merged ? githubTime(pull.merged.at) : null,
    mergeCommit: () => (pull.merged ? commitNode(world, repo, repo.objects.require(pull.merged.commitSha)) : null),
    headRefName: pull.headRef,
    headRefOid: pull.headSha,
    baseRefName: pull.baseRef,
    baseRefOid: pull.baseSha,
    createdAt: githubTime(pull.createdAt),
    updatedAt: githubTime(pull.updatedAt),
    author: () => actorNode(world, pull.author),
    repository: () => repositoryNode(world, repo),
    timelineItems: (args: ConnectionArgs & { itemTypes?: string[] | null; since?: string | null }) => {
      const since = args.since ? new Date(args.since).getTime() : undefined;
      const items = pull.timeline.filter(
        (event) =>
          (!args.itemTypes || args.itemTypes.includes(TIMELINE_ITEM_TYPES[event.type])) &&
          (since === undefined || event.createdAt.getTime() >= since),
      );
      return {
        ...connection(items, args, "timelineItems", (event) => timelineNode(world, repo, pull, event)),
        updatedAt: githubTime(pull.updatedAt),
      };
    },
  };
}

function timelineNode(world: GraphqlWorld, repo: Repository, pull: PullRequest, event: TimelineEvent): Node {
  const common = {
    __typename: event.type,
    id: nodeId(event.type, event.id),
    createdAt: githubTime(event.createdAt),
    actor: () => actorNode(world, event.actor),
    pullRequest: () => pullRequestNode(world, repo, pull),
  };
  const commitOrNull = (sha: string) => () => {
    const commit = repo.objects.commit(sha);
    return commit ? commitNode(world, repo, commit) : null;
  };
  switch (event.type) {
    case "BaseRefChangedEvent":
      return { ...common, databaseId: event.id, previousRefName: event.previousRefName, currentRefName: event.currentRefName };
    case "BaseRefForcePushedEvent":
    case "HeadRefForcePushedEvent":
      return {
        ...common,
        beforeCommit: commitOrNull(event.beforeCommit),
        afterCommit: commitOrNull(event.afterCommit),
        ref: () => refNode(world, repo, event.ref),
      };
    case "PullRequestReview": {
      const review = pull.review(event.id)!;
      const path = `/${repo.fullName}/pull/${pull.number}#pullrequestreview-${review.id}`;
      return {
        ...common,
        __typename: "PullRequestReview",
        databaseId: review.id,
        author: () => actorNode(world, review.login),
        state: review.state,
        submittedAt: githubTime(review.submittedAt),
        body: review.body,
        commit: repo.isPurged(review.commitId) ? null : commitOrNull(review.commitId),
        resourcePath: path,
        url: world.urls.web(path),
      };
    }
    case "MergedEvent": {
      const path = `/${repo.fullName}/pull/${pull.number}#event-${event.id}`;
      return {
        ...common,
        commit: commitOrNull(event.commit),
        mergeRefName: event.mergeRefName,
        mergeRef: () => refNode(world, repo, event.mergeRefName),
        resourcePath: path,
        url: world.urls.web(path),
      };
    }
    default: {
      const path = `/${repo.fullName}/pull/${pull.number}#event-${event.id}`;
      return { ...common, closable: common.pullRequest, resourcePath: path, url: world.urls.web(path) };
    }
  }
}

function actorNode(world: GraphqlWorld, login: string): Node {
  const account = world.account(login);
  const path = `/${account.login}`;
  return {
    __typename: account.type,
    id: nodeId(account.type, account.id),
    login: account.login,
    databaseId: account.id,
    avatarUrl: () => `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
    resourcePath: path,
    url: world.urls.web(path),
  };
}
