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
import type {
  CheckRunInput,
  ClosedPullRequest,
  FileAt,
  FileBytes,
  GitHubGateway,
  IssueComment,
  PullFile,
  PullCommit,
  PullFileStatus,
  PullRequestInfo,
  RepoPermission,
  Review,
  TeamMembership,
} from "./gateway.js";

type Octokit = InstanceType<typeof ProbotOctokit>;

/** GitHub accepts at most 50 annotations per create/update call. */
export const ANNOTATIONS_PER_CALL = 50;
/** Aliased objects per GraphQL query: well under GitHub's node limits. */
const FILES_PER_QUERY = 100;

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
      status: file.status as PullFileStatus,
      ...(file.previous_filename ? { previousPath: file.previous_filename } : {}),
    }));
  }

  async readFiles(files: readonly FileAt[]): Promise<FileBytes[]> {
    const results: FileBytes[] = [];
    for (let start = 0; start < files.length; start += FILES_PER_QUERY) {
      const chunk = files.slice(start, start + FILES_PER_QUERY);
      const variables: Record<string, string> = { owner: this.owner, name: this.repo };
      const fields = chunk.map((file, index) => {
        variables[`e${index}`] = `${file.ref}:${file.path}`;
        return `f${index}: object(expression: $e${index}) { __typename ... on Blob { oid byteSize isBinary isTruncated text } }`;
      });
      const declarations = chunk.map((_, index) => `$e${index}: String!`).join(", ");
      const query = `query($owner: String!, $name: String!, ${declarations}) { repository(owner: $owner, name: $name) { ${fields.join(" ")} } }`;
      const response = await this.octokit.graphql<{ repository: Record<string, BlobNode | null> }>(query, variables);
      for (const [index, file] of chunk.entries()) {
        results.push(await this.toFileBytes(response.repository[`f${index}`] ?? null, file.maxBytes));
      }
    }
    return results;
  }

  private async toFileBytes(node: BlobNode | null, maxBytes: number): Promise<FileBytes> {
    if (node === null) return { kind: "missing" };
    if (node.__typename !== "Blob" || node.oid === undefined) return { kind: "not-a-file" };
    if ((node.byteSize ?? 0) > maxBytes) return { kind: "too-large", size: node.byteSize ?? 0, blobSha: node.oid };
    if (typeof node.text === "string" && !node.isTruncated) {
      const bytes = new TextEncoder().encode(node.text);
      if (gitBlobSha(bytes) === node.oid) return { kind: "file", bytes, blobSha: node.oid };
    }
    const { data } = await this.octokit.rest.git.getBlob({ owner: this.owner, repo: this.repo, file_sha: node.oid });
    return { kind: "file", bytes: new Uint8Array(Buffer.from(data.content, "base64")), blobSha: node.oid };
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
    return reviews.flatMap((review) =>
      review.user && review.commit_id
        ? [{ id: review.id, login: review.user.login, state: review.state as Review["state"], commitId: review.commit_id, submittedAt: review.submitted_at ?? "" }]
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
      ...(commit.author?.login ? { authorLogin: commit.author.login } : {}),
      ...(commit.committer?.login ? { committerLogin: commit.committer.login } : {}),
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

  async repoPermission(login: string): Promise<RepoPermission> {
    try {
      const { data } = await this.octokit.rest.repos.getCollaboratorPermissionLevel({ owner: this.owner, repo: this.repo, username: login });
      // role_name distinguishes maintain and triage, which `permission` folds into write and read.
      const role = (data as { role_name?: string }).role_name ?? data.permission;
      return (["admin", "maintain", "write", "triage", "read"] as const).find((known) => known === role) ?? "none";
    } catch (error) {
      if ((error as { status?: number }).status === 404) return "none";
      throw error;
    }
  }

  async reactToComment(commentId: number, content: "+1" | "-1" | "confused"): Promise<void> {
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

interface PullPayload {
  number: number;
  state: string;
  head: { sha: string };
  base: { sha: string; ref: string };
  user: { login: string } | null;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  merged_by?: { login: string } | null;
  commits?: number;
}

export function toPullRequestInfo(pull: PullPayload): PullRequestInfo {
  const merged = pull.merged_at && pull.merge_commit_sha;
  return {
    number: pull.number,
    headSha: pull.head.sha,
    baseSha: pull.base.sha,
    baseRef: pull.base.ref,
    authorLogin: pull.user?.login ?? "",
    state: pull.state === "closed" ? "closed" : "open",
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
