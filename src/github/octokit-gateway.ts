/**
 * GitHubGateway over Octokit (the installation-authenticated client Probot hands each event).
 *
 * Reading files costs one GraphQL call for any number of files: every file is an aliased
 * `object(expression: "<sha>:<path>")`. GraphQL returns text, which GitHub may have transcoded, so
 * the text is trusted only when re-encoding it reproduces the git blob id; otherwise (binary,
 * non-UTF-8, truncated) the exact bytes come from the REST blob endpoint. Both paths give the
 * same bytes git holds, so validation judges exactly what would be merged.
 */
import { createHash } from "node:crypto";
import type { ProbotOctokit } from "probot";
import type { GitHubGateway } from "./gateway.js";
import type {
  BranchPushers,
  BranchUpdate,
  CheckRunInput,
  ClosedPullRequest,
  CodeownersErrorReport,
  FileAt,
  FileBytes,
  IssueComment,
  PullFile,
  PullCommit,
  PullRequestInfo,
  PullTimeline,
  RepoPermission,
  Review,
  TeamExistence,
  TeamMembership,
  TimelineEntry,
} from "./types.js";

/** What the gateway uses of an Octokit: Probot's in the app, @octokit/rest's in the CLI. */
type Octokit = Pick<InstanceType<typeof ProbotOctokit>, "rest" | "graphql" | "paginate">;

/** GitHub accepts at most 50 annotations per create/update call. */
export const ANNOTATIONS_PER_CALL = 50;
/** Aliased objects per GraphQL query: well under GitHub's node limits. */
const FILES_PER_QUERY = 100;
/** Pages of 100 timeline items: a pull request with more than 1,000 reviews is not judged. */
const TIMELINE_PAGES = 10;

interface TimelineResponse {
  repository: {
    pullRequest: {
      timelineItems: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        nodes: ({ __typename: string; databaseId?: number; createdAt?: string } | null)[];
      };
    } | null;
  };
}

/** Pages of 100 activities read looking for one merge: it is recent, so it is near the top. */
const ACTIVITY_PAGES = 5;

interface TreeEntryNode {
  mode: number;
  object: BlobNode | null;
}

/** Git's tree entry modes as GitHub's GraphQL API gives them (decimal): 100644, 100755 files; 120000 symlink; 160000 submodule; 040000 tree. */
function entryKind(mode: number): "file" | "symlink" | "submodule" | "directory" | "other" {
  switch (mode) {
    case 0o100644:
    case 0o100755:
      return "file";
    case 0o120000:
      return "symlink";
    case 0o160000:
      return "submodule";
    case 0o040000:
      return "directory";
    default:
      return "other";
  }
}

interface BlobNode {
  __typename: string;
  oid?: string;
  byteSize?: number;
  isBinary?: boolean | null;
  isTruncated?: boolean;
  text?: string | null;
}

export class OctokitGateway implements GitHubGateway {
  constructor(
    private readonly octokit: Octokit,
    readonly owner: string,
    readonly repo: string,
    private readonly resolveBotLogin: () => Promise<string>,
  ) {}

  async listPullRequestFiles(pullNumber: number): Promise<PullFile[]> {
    const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, {
      owner: this.owner,
      repo: this.repo,
      pull_number: pullNumber,
      per_page: 100,
    });
    return files.map((file) => ({
      path: file.filename,
      status: file.status,
      ...(file.previous_filename ? { previousPath: file.previous_filename } : {}),
    }));
  }

  async readFiles(files: readonly FileAt[]): Promise<FileBytes[]> {
    const results: FileBytes[] = [];
    for (let start = 0; start < files.length; start += FILES_PER_QUERY) {
      const chunk = files.slice(start, start + FILES_PER_QUERY);
      // Grouped by commit: one `object` per ref, one `file(path:)` per path, so the tree entry's
      // mode tells a regular file from a symlink or a submodule (whose blob or gitlink is not a request).
      const refs = [...new Set(chunk.map((file) => file.ref))];
      const variables: Record<string, string> = { owner: this.owner, name: this.repo };
      const declarations: string[] = [];
      const commits = refs.map((ref, r) => {
        variables[`r${r}`] = ref;
        declarations.push(`$r${r}: String!`);
        const fields = chunk.flatMap((file, index) => {
          if (file.ref !== ref) return [];
          variables[`p${index}`] = file.path;
          declarations.push(`$p${index}: String!`);
          return [
            `f${index}: file(path: $p${index}) { mode object { __typename ... on Blob { oid byteSize isBinary isTruncated text } } }`,
          ];
        });
        return `r${r}: object(expression: $r${r}) { ... on Commit { ${fields.join(" ")} } }`;
      });
      const query = `query($owner: String!, $name: String!, ${declarations.join(", ")}) { repository(owner: $owner, name: $name) { ${commits.join(" ")} } }`;
      const response = await this.octokit.graphql<{ repository: Record<string, Record<string, TreeEntryNode | null> | null> }>(
        query,
        variables,
      );
      for (const [index, file] of chunk.entries()) {
        const commit = response.repository[`r${refs.indexOf(file.ref)}`];
        results.push(await this.toFileBytes(commit?.[`f${index}`] ?? null, file.maxBytes));
      }
    }
    return results;
  }

  private async toFileBytes(entry: TreeEntryNode | null, maxBytes: number): Promise<FileBytes> {
    if (entry === null) return { kind: "missing" };
    const kind = entryKind(entry.mode);
    const node = entry.object;
    if (kind !== "file" || node?.__typename !== "Blob" || node.oid === undefined)
      return { kind: "not-a-file", entry: kind === "file" ? "other" : kind };
    if ((node.byteSize ?? 0) > maxBytes) return { kind: "too-large", size: node.byteSize ?? 0, blobSha: node.oid };
    if (typeof node.text === "string" && !node.isTruncated) {
      const bytes = new TextEncoder().encode(node.text);
      if (gitBlobSha(bytes) === node.oid) return { kind: "file", bytes, blobSha: node.oid };
    }
    const { data } = await this.octokit.rest.git.getBlob({ owner: this.owner, repo: this.repo, file_sha: node.oid });
    const bytes = new Uint8Array(Buffer.from(data.content, "base64"));
    // The blob endpoint answers by id, so the bytes are the blob's; check anyway rather than trust.
    if (gitBlobSha(bytes) !== node.oid) throw new Error(`blob ${node.oid} came back with other content`);
    return { kind: "file", bytes, blobSha: node.oid };
  }

  async objectIdsAt(commits: readonly string[], paths: readonly string[]): Promise<Map<string, (string | null)[]>> {
    const ids = new Map<string, (string | null)[]>();
    const perQuery = Math.max(1, Math.floor(FILES_PER_QUERY / Math.max(1, paths.length)));
    const unique = [...new Set(commits)];
    for (let start = 0; start < unique.length; start += perQuery) {
      const chunk = unique.slice(start, start + perQuery);
      const variables: Record<string, string> = { owner: this.owner, name: this.repo };
      paths.forEach((path, p) => (variables[`p${p}`] = path));
      chunk.forEach((sha, c) => (variables[`c${c}`] = sha));
      const fields = paths.map((_, p) => `g${p}: file(path: $p${p}) { oid }`).join(" ");
      const declarations = [...paths.map((_, p) => `$p${p}: String!`), ...chunk.map((_, c) => `$c${c}: String!`)].join(", ");
      const objects = chunk.map((_, c) => `c${c}: object(expression: $c${c}) { __typename ... on Commit { ${fields} } }`).join(" ");
      const query = `query($owner: String!, $name: String!, ${declarations}) { repository(owner: $owner, name: $name) { ${objects} } }`;
      const response = await this.octokit.graphql<{
        repository: Record<string, ({ __typename: string } & Record<string, { oid: string } | null>) | null>;
      }>(query, variables);
      chunk.forEach((sha, c) => {
        const commit = response.repository[`c${c}`];
        // A commit GitHub does not have cannot be judged: the caller must fail closed, not read "absent".
        if (!commit || commit.__typename !== "Commit") throw new Error(`GitHub has no commit ${sha} in ${this.owner}/${this.repo}`);
        ids.set(
          sha,
          paths.map((_, p) => commit[`g${p}`]?.oid ?? null),
        );
      });
    }
    return ids;
  }

  async pullTimeline(pullNumber: number): Promise<PullTimeline> {
    // Ordered by GitHub itself: a review "after" the merge is one listed after the MergedEvent,
    // which second-granular timestamps cannot tell when both fall in the same second.
    const query = `query($owner: String!, $name: String!, $number: Int!, $after: String) { repository(owner: $owner, name: $name) { pullRequest(number: $number) {
      timelineItems(first: 100, after: $after, itemTypes: [PULL_REQUEST_REVIEW, MERGED_EVENT, BASE_REF_CHANGED_EVENT, BASE_REF_FORCE_PUSHED_EVENT]) {
        pageInfo { hasNextPage endCursor }
        nodes { __typename ... on PullRequestReview { databaseId createdAt } ... on MergedEvent { createdAt } ... on BaseRefChangedEvent { createdAt } ... on BaseRefForcePushedEvent { createdAt } } } } } }`;
    const entries: TimelineEntry[] = [];
    let after: string | null = null;
    // Paged by hand: Probot's Octokit has no GraphQL paginator (plugin-paginate-graphql is not among its plugins).
    for (let page = 0; page < TIMELINE_PAGES; page++) {
      const response: TimelineResponse = await this.octokit.graphql<TimelineResponse>(query, {
        owner: this.owner,
        name: this.repo,
        number: pullNumber,
        after,
      });
      const pull = response.repository.pullRequest;
      if (!pull) throw new Error(`GitHub has no pull request #${pullNumber} in ${this.owner}/${this.repo}`);
      for (const node of pull.timelineItems.nodes) {
        if (!node?.createdAt) continue;
        const at = new Date(node.createdAt);
        if (node.__typename === "PullRequestReview" && typeof node.databaseId === "number")
          entries.push({ kind: "review", id: node.databaseId, at });
        else if (node.__typename === "MergedEvent") entries.push({ kind: "merged", at });
        else if (node.__typename === "BaseRefChangedEvent" || node.__typename === "BaseRefForcePushedEvent")
          entries.push({ kind: "base-changed", at });
      }
      if (!pull.timelineItems.pageInfo.hasNextPage) return { entries, complete: true };
      after = pull.timelineItems.pageInfo.endCursor;
    }
    return { entries, complete: false };
  }

  async branchUpdate(branch: string, after: string, since: Date): Promise<BranchUpdate> {
    let found: BranchUpdate = { kind: "not-found" };
    const read = await this.branchActivity(branch, (activity) => {
      if (activity.after === after) {
        found = { kind: "found", before: activity.before, after, activityType: activity.activity_type, at: new Date(activity.timestamp) };
        return "stop";
      }
      return new Date(activity.timestamp) < since ? "stop" : "more";
    });
    return read.kind === "unavailable" ? read : found;
  }

  async branchPushers(branch: string): Promise<BranchPushers> {
    const actors: (string | null)[] = [];
    const read = await this.branchActivity(branch, (activity) => {
      actors.push(activity.actor?.login ?? null);
      return "more";
    });
    return read.kind === "unavailable" ? read : { kind: "found", actors, complete: read.complete };
  }

  /**
   * The repository activity of one branch, newest first, each entry shown to `visit` until it says
   * stop, for at most ACTIVITY_PAGES pages. `complete`: every entry was seen (or `visit` stopped).
   */
  private async branchActivity(
    branch: string,
    visit: (activity: ActivityRecord) => "stop" | "more",
  ): Promise<{ kind: "read"; complete: boolean } | { kind: "unavailable"; reason: string }> {
    let pages = 0;
    try {
      const iterator = this.octokit.paginate.iterator("GET /repos/{owner}/{repo}/activity", {
        owner: this.owner,
        repo: this.repo,
        ref: `refs/heads/${branch}`,
        direction: "desc",
        per_page: 100,
      });
      for await (const { data } of iterator) {
        pages += 1;
        for (const activity of data) if (visit(activity) === "stop") return { kind: "read", complete: true };
        if (pages >= ACTIVITY_PAGES) return { kind: "read", complete: data.length < 100 };
      }
      return { kind: "read", complete: true };
    } catch (error) {
      const status = (error as { status?: number }).status;
      // Not there (older GitHub Enterprise Server) or not permitted: say so, and let another source decide.
      if (status === 404 || status === 403 || status === 410)
        return { kind: "unavailable", reason: `the repository activity API answered ${status}` };
      throw error;
    }
  }

  async codeownersErrors(ref: string): Promise<CodeownersErrorReport> {
    try {
      const { data } = await this.octokit.rest.repos.codeownersErrors({ owner: this.owner, repo: this.repo, ref });
      return {
        kind: "ok",
        errors: data.errors.map((error) => ({ line: error.line, kind: error.kind, message: error.message, path: error.path })),
      };
    } catch (error) {
      if ((error as { status?: number }).status === 404) return { kind: "no-file" };
      throw error;
    }
  }

  async getPullRequest(pullNumber: number): Promise<PullRequestInfo> {
    const { data } = await this.octokit.rest.pulls.get({ owner: this.owner, repo: this.repo, pull_number: pullNumber });
    return toPullRequestInfo(data);
  }

  async pullRequestsForCommit(sha: string): Promise<PullRequestInfo[]> {
    const { data } = await this.octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: this.owner,
      repo: this.repo,
      commit_sha: sha,
    });
    return data.map(toPullRequestInfo);
  }

  async publishCheckRun(input: CheckRunInput): Promise<{ id: number; calls: number }> {
    const annotations = input.output.annotations ?? [];
    const batch = (from: number) => annotations.slice(from, from + ANNOTATIONS_PER_CALL);
    const { data } = await this.octokit.rest.checks.create({
      owner: this.owner,
      repo: this.repo,
      name: input.name,
      head_sha: input.headSha,
      status: "completed",
      conclusion: input.conclusion,
      ...(input.externalId ? { external_id: input.externalId } : {}),
      output: { ...input.output, annotations: batch(0) },
    });
    let calls = 1;
    // GitHub appends the annotations of each update to the ones already on the run.
    for (let from = ANNOTATIONS_PER_CALL; from < annotations.length; from += ANNOTATIONS_PER_CALL) {
      await this.octokit.rest.checks.update({
        owner: this.owner,
        repo: this.repo,
        check_run_id: data.id,
        output: { ...input.output, annotations: batch(from) },
      });
      calls += 1;
    }
    return { id: data.id, calls };
  }

  async listIssueComments(issueNumber: number): Promise<IssueComment[]> {
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner: this.owner,
      repo: this.repo,
      issue_number: issueNumber,
      per_page: 100,
    });
    return comments.map((comment) => ({ id: comment.id, body: comment.body ?? "", authorLogin: comment.user?.login ?? "" }));
  }

  async createIssueComment(issueNumber: number, body: string): Promise<IssueComment> {
    const { data } = await this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: issueNumber, body });
    return { id: data.id, body: data.body ?? body, authorLogin: data.user?.login ?? "" };
  }

  async updateIssueComment(commentId: number, body: string): Promise<void> {
    await this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: commentId, body });
  }

  botLogin(): Promise<string> {
    return this.resolveBotLogin();
  }

  async listReviews(pullNumber: number): Promise<Review[]> {
    const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
      owner: this.owner,
      repo: this.repo,
      pull_number: pullNumber,
      per_page: 100,
    });
    // A review whose commit GitHub no longer has (commit_id null) is kept: it never approves, but a
    // change request or dismissal in it still withdraws an earlier approval. A review by a deleted
    // account (user null) no longer stands for anyone.
    return reviews.flatMap((review) =>
      review.user
        ? [
            {
              id: review.id,
              login: review.user.login,
              userId: review.user.id,
              state: review.state as Review["state"],
              commitId: review.commit_id ?? null,
              submittedAt: review.submitted_at ?? "",
            },
          ]
        : [],
    );
  }

  async listPullRequestCommits(pullNumber: number): Promise<PullCommit[]> {
    const commits = await this.octokit.paginate(this.octokit.rest.pulls.listCommits, {
      owner: this.owner,
      repo: this.repo,
      pull_number: pullNumber,
      per_page: 100,
    });
    // author/committer are GitHub accounts only when GitHub linked the commit's e-mail addresses.
    return commits.map((commit) => ({
      sha: commit.sha,
      parents: commit.parents.map((parent) => parent.sha),
      ...(commit.author?.login ? { authorLogin: commit.author.login, authorId: commit.author.id } : {}),
      ...(commit.committer?.login ? { committerLogin: commit.committer.login, committerId: commit.committer.id } : {}),
    }));
  }

  async teamMembership(org: string, slug: string, login: string): Promise<TeamMembership> {
    try {
      const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({ org, team_slug: slug, username: login });
      return data.state === "active" ? "active" : "pending";
    } catch (error) {
      if ((error as { status?: number }).status === 404) return "none";
      throw error;
    }
  }

  async teamExistence(org: string, slug: string): Promise<TeamExistence> {
    try {
      await this.octokit.rest.teams.getByName({ org, team_slug: slug });
      // The membership endpoint counts members of child teams as the team's (GitHub documents it):
      // whoever manages a child team would decide who stands for this one.
      const { data: children } = await this.octokit.rest.teams.listChildInOrg({ org, team_slug: slug, per_page: 1 });
      return children.length > 0 ? "has-child-teams" : "found";
    } catch (error) {
      if ((error as { status?: number }).status === 404) return "not-found";
      throw error;
    }
  }

  async repoPermission(login: string): Promise<RepoPermission> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: this.owner,
        repo: this.repo,
        username: login,
      });
      // role_name distinguishes maintain and triage, which `permission` folds into write and read.
      const role = (data as { role_name?: string }).role_name ?? data.permission;
      return (["admin", "maintain", "write", "triage", "read"] as const).find((known) => known === role) ?? "none";
    } catch (error) {
      if ((error as { status?: number }).status === 404) return "none";
      throw error;
    }
  }

  async reactToComment(commentId: number, content: "+1" | "-1" | "confused" | "eyes"): Promise<void> {
    await this.octokit.rest.reactions.createForIssueComment({ owner: this.owner, repo: this.repo, comment_id: commentId, content });
  }

  async commitParents(sha: string): Promise<string[]> {
    const { data } = await this.octokit.rest.git.getCommit({ owner: this.owner, repo: this.repo, commit_sha: sha });
    return data.parents.map((parent) => parent.sha);
  }

  async closedPullRequestsSince(since: Date, maxPages: number): Promise<{ pulls: ClosedPullRequest[]; complete: boolean }> {
    const pulls: ClosedPullRequest[] = [];
    let pages = 0;
    const iterator = this.octokit.paginate.iterator(this.octokit.rest.pulls.list, {
      owner: this.owner,
      repo: this.repo,
      state: "closed",
      sort: "updated",
      direction: "desc",
      per_page: 100,
    });
    for await (const { data } of iterator) {
      pages += 1;
      for (const pull of data) {
        const updatedAt = new Date(pull.updated_at);
        if (updatedAt < since) return { pulls, complete: true };
        pulls.push({ ...toPullRequestInfo(pull), updatedAt });
      }
      if (pages >= maxPages) return { pulls, complete: data.length < 100 };
    }
    return { pulls, complete: true };
  }
}

/** One entry of GET /repos/{owner}/{repo}/activity, as much of it as jitsudo reads. */
interface ActivityRecord {
  before: string;
  after: string;
  activity_type: string;
  timestamp: string;
  actor: { login: string } | null;
}

interface PullPayload {
  number: number;
  state: string;
  head: { sha: string; ref?: string; repo?: { id: number } | null };
  base: { sha: string; ref: string };
  user: { login: string; id?: number } | null;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  merged_by?: { login: string } | null;
  commits?: number;
  changed_files?: number;
}

export function toPullRequestInfo(pull: PullPayload): PullRequestInfo {
  const merged = pull.merged_at && pull.merge_commit_sha;
  return {
    number: pull.number,
    headSha: pull.head.sha,
    baseSha: pull.base.sha,
    baseRef: pull.base.ref,
    ...(pull.head.ref ? { headRef: pull.head.ref } : {}),
    ...(typeof pull.head.repo?.id === "number" ? { headRepositoryId: pull.head.repo.id } : {}),
    authorLogin: pull.user?.login ?? "",
    ...(typeof pull.user?.id === "number" ? { authorId: pull.user.id } : {}),
    state: pull.state === "closed" ? "closed" : "open",
    ...(typeof pull.changed_files === "number" ? { changedFiles: pull.changed_files } : {}),
    ...(typeof pull.commits === "number" ? { commitCount: pull.commits } : {}),
    ...(merged
      ? {
          merge: {
            commitSha: pull.merge_commit_sha!,
            mergedAt: new Date(pull.merged_at!),
            ...(pull.merged_by?.login ? { mergedBy: pull.merged_by.login } : {}),
            ...(typeof pull.commits === "number" ? { commitCount: pull.commits } : {}),
          },
        }
      : {}),
  };
}

/** The id git gives a blob: sha1("blob <size>\0" + bytes). */
export function gitBlobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}
