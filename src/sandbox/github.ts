/**
 * A local GitHub: the slice of GitHub's REST and GraphQL API jitsudo uses, answered from an
 * in-memory repository. The real Probot Octokit, with its auth, pagination and GraphQL clients,
 * talks to it exactly as to GitHub: in tests through nock (`test/support/fake-github.ts`), in the
 * demo over HTTP as a GitHub Enterprise Server (`github-server.ts`). Every call is recorded so
 * callers can see the exact calls made, and an unknown route fails loudly.
 */
import { createHash } from "node:crypto";

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
}

export interface LocalPull {
  number: number;
  headSha: string;
  baseSha: string;
  baseRef: string;
  author: string;
  state: "open" | "closed";
  files: { filename: string; status: string; previous_filename?: string }[];
  /** Set for merged pull requests. */
  merged?: { sha: string; at: string; by: string };
  /** Default: the merge time, or a fixed morning for open ones. */
  updatedAt?: string;
}

export interface LocalReview {
  login: string;
  state: "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";
  commitId: string;
}

export interface LocalCommit {
  sha: string;
  /** null: GitHub could not link the commit's e-mail to an account */
  author: string | null;
  committer: string | null;
}

interface Comment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export const BOT_LOGIN = "jitsudo[bot]";
export const APP_ID = 4242;
export const INSTALLATION_ID = 1;
/** The id GitHub's example payloads give Codertocat/Hello-World. */
export const REPOSITORY_ID = 186853002;

export class LocalGitHub {
  readonly calls: RecordedCall[] = [];
  /** commit sha → path → bytes */
  readonly trees = new Map<string, Map<string, Uint8Array>>();
  readonly pulls = new Map<number, LocalPull>();
  readonly comments = new Map<number, Comment[]>();
  readonly checkRuns: { id: number; body: Record<string, unknown>; updates: Record<string, unknown>[] }[] = [];
  /** pull number → reviews, oldest first */
  readonly reviews = new Map<number, LocalReview[]>();
  /** pull number → commits */
  readonly commits = new Map<number, LocalCommit[]>();
  /** `org/slug:login` → membership state; absent = not a member (404) */
  readonly teamMembers = new Map<string, "active" | "pending">();
  /** login → role name (admin, maintain, write, triage, read); absent = no access (404) */
  readonly permissions = new Map<string, string>();
  /** branch name → commit sha, for reads at a branch (`main:CODEOWNERS`) */
  readonly refs = new Map<string, string>();
  /** comment id → reactions given */
  readonly reactions = new Map<number, string[]>();
  /** commit sha → parent shas */
  readonly parents = new Map<string, string[]>();
  /** Make a route fail: `${METHOD} ${path regex source}` → status */
  readonly failures: { method: string; path: RegExp; status: number }[] = [];
  private nextId = 1000;
  /** Delay before each answer, to let concurrent handlers overlap as they would against GitHub. */
  latencyMs = 0;

  constructor(
    readonly owner = "Codertocat",
    readonly repo = "Hello-World",
    readonly origin = "https://api.github.com",
    readonly apiPrefix = "",
    readonly graphqlPath = "/graphql",
  ) {}

  /** As a GitHub Enterprise Server at `host`: REST under /api/v3, GraphQL at /api/graphql. */
  static enterprise<T extends LocalGitHub>(
    this: new (...args: ConstructorParameters<typeof LocalGitHub>) => T,
    host: string,
    { protocol = "https", owner = "Codertocat", repo = "Hello-World" } = {},
  ): T {
    return new this(owner, repo, `${protocol}://${host}`, "/api/v3", "/api/graphql");
  }

  setFile(sha: string, path: string, content: string | Uint8Array): void {
    const tree = this.trees.get(sha) ?? new Map<string, Uint8Array>();
    tree.set(path, typeof content === "string" ? new TextEncoder().encode(content) : content);
    this.trees.set(sha, tree);
  }

  addPull(pull: LocalPull): void {
    this.pulls.set(pull.number, pull);
  }

  /** The calls made, as `METHOD /path` lines, without the installation token exchange. */
  callLines(): string[] {
    return this.calls.map((call) => `${call.method} ${call.path}`);
  }

  /** Answers one request: [status, body, headers]. */
  handle(method: string, uri: string, rawBody: unknown): [number, unknown, Record<string, string>?] {
    const url = new URL(uri, this.origin);
    const path = url.pathname.startsWith(this.apiPrefix) && url.pathname !== this.graphqlPath ? url.pathname.slice(this.apiPrefix.length) : url.pathname;
    const body = typeof rawBody === "string" && rawBody.length > 0 ? safeJson(rawBody) : rawBody;
    this.calls.push({ method, path: `${path}${url.search}`, body });
    const failure = this.failures.find((candidate) => candidate.method === method && candidate.path.test(path));
    if (failure) return [failure.status, { message: "injected failure" }];

    const repoPath = `/repos/${this.owner}/${this.repo}`;
    let match: RegExpExecArray | null;
    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return [201, { token: "ghs_installation_token_secret", expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} }];
    }
    if (method === "GET" && path === "/app") return [200, { id: APP_ID, slug: "jitsudo", name: "jitsudo" }];
    if (method === "GET" && path === "/app/installations") {
      return this.page(url, [{ id: INSTALLATION_ID, account: { login: this.owner }, app_id: APP_ID }], path);
    }
    if (method === "GET" && path === "/installation/repositories") {
      const repository = { id: REPOSITORY_ID, name: this.repo, full_name: `${this.owner}/${this.repo}`, owner: { login: this.owner }, default_branch: "main" };
      return [200, { total_count: 1, repositories: [repository] }];
    }
    if (path === `/repos/${this.owner}/${this.repo}/pulls` && method === "GET") {
      const state = url.searchParams.get("state") ?? "open";
      const pulls = [...this.pulls.values()]
        .filter((pull) => state === "all" || pull.state === state)
        .sort((a, b) => this.updatedAt(b).localeCompare(this.updatedAt(a)))
        .map((pull) => this.pullJson(pull, "summary"));
      return this.page(url, pulls, path);
    }
    if (method === "POST" && path === this.graphqlPath) return [200, this.graphql(body as { query: string; variables: Record<string, string> })];
    if ((match = new RegExp(`^${repoPath}/pulls/(\\d+)/files$`).exec(path)) && method === "GET") {
      return this.page(url, this.pulls.get(Number(match[1]))?.files ?? [], path);
    }
    if ((match = new RegExp(`^${repoPath}/pulls/(\\d+)/reviews$`).exec(path)) && method === "GET") {
      const reviews = (this.reviews.get(Number(match[1])) ?? []).map((review, index) => ({
        id: index + 1,
        user: { login: review.login },
        state: review.state,
        commit_id: review.commitId,
        submitted_at: new Date(Date.UTC(2026, 10, 25, 10, index)).toISOString(),
      }));
      return this.page(url, reviews, path);
    }
    if ((match = new RegExp(`^${repoPath}/pulls/(\\d+)/commits$`).exec(path)) && method === "GET") {
      const commits = (this.commits.get(Number(match[1])) ?? []).map((commit) => ({
        sha: commit.sha,
        author: commit.author ? { login: commit.author } : null,
        committer: commit.committer ? { login: commit.committer } : null,
      }));
      return this.page(url, commits, path);
    }
    if ((match = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path)) && method === "GET") {
      const state = this.teamMembers.get(`${match[1]}/${match[2]}:${match[3]!.toLowerCase()}`);
      return state ? [200, { state, role: "member" }] : [404, { message: "Not Found" }];
    }
    if ((match = new RegExp(`^${repoPath}/collaborators/([^/]+)/permission$`).exec(path)) && method === "GET") {
      const role = this.permissions.get(match[1]!.toLowerCase());
      if (!role) return [404, { message: "Not Found" }];
      const permission = role === "maintain" ? "write" : role === "triage" ? "read" : role;
      return [200, { permission, role_name: role, user: { login: match[1] } }];
    }
    if ((match = new RegExp(`^${repoPath}/git/commits/([0-9a-f]+)$`).exec(path)) && method === "GET") {
      const parents = this.parents.get(match[1]!);
      return parents ? [200, { sha: match[1], parents: parents.map((sha) => ({ sha })) }] : [404, { message: "Not Found" }];
    }
    if ((match = new RegExp(`^${repoPath}/pulls/(\\d+)$`).exec(path)) && method === "GET") {
      const pull = this.pulls.get(Number(match[1]));
      return pull ? [200, this.pullJson(pull)] : [404, { message: "Not Found" }];
    }
    if ((match = new RegExp(`^${repoPath}/commits/([0-9a-f]+)/pulls$`).exec(path)) && method === "GET") {
      const sha = match[1];
      return [200, [...this.pulls.values()].filter((pull) => pull.headSha === sha || pull.merged?.sha === sha).map((pull) => this.pullJson(pull))];
    }
    if ((match = new RegExp(`^${repoPath}/git/blobs/([0-9a-f]+)$`).exec(path)) && method === "GET") {
      const bytes = this.blobById(match[1]!);
      return bytes ? [200, { sha: match[1], size: bytes.byteLength, encoding: "base64", content: Buffer.from(bytes).toString("base64") }] : [404, { message: "Not Found" }];
    }
    if (path === `${repoPath}/check-runs` && method === "POST") {
      const id = this.nextId++;
      this.checkRuns.push({ id, body: body as Record<string, unknown>, updates: [] });
      return [201, { id, ...(body as object) }];
    }
    if ((match = new RegExp(`^${repoPath}/check-runs/(\\d+)$`).exec(path)) && method === "PATCH") {
      const run = this.checkRuns.find((candidate) => candidate.id === Number(match![1]));
      run?.updates.push(body as Record<string, unknown>);
      return run ? [200, { id: run.id }] : [404, { message: "Not Found" }];
    }
    if ((match = new RegExp(`^${repoPath}/issues/(\\d+)/comments$`).exec(path))) {
      const issue = Number(match[1]);
      const list = this.comments.get(issue) ?? [];
      if (method === "GET") return this.page(url, list, path);
      if (method === "POST") {
        const comment = { id: this.nextId++, body: (body as { body: string }).body, user: { login: BOT_LOGIN, type: "Bot" } };
        this.comments.set(issue, [...list, comment]);
        return [201, comment];
      }
    }
    if ((match = new RegExp(`^${repoPath}/issues/comments/(\\d+)/reactions$`).exec(path)) && method === "POST") {
      const id = Number(match[1]);
      this.reactions.set(id, [...(this.reactions.get(id) ?? []), (body as { content: string }).content]);
      return [201, { id: this.nextId++, content: (body as { content: string }).content }];
    }
    if ((match = new RegExp(`^${repoPath}/issues/comments/(\\d+)$`).exec(path)) && method === "PATCH") {
      const comment = [...this.comments.values()].flat().find((candidate) => candidate.id === Number(match![1]));
      if (!comment) return [404, { message: "Not Found" }];
      comment.body = (body as { body: string }).body;
      return [200, comment];
    }
    return [404, { message: `FakeGitHub has no route for ${method} ${path}` }];
  }

  private page(url: URL, items: readonly unknown[], path: string): [number, unknown, Record<string, string>] {
    const perPage = Number(url.searchParams.get("per_page") ?? 30);
    const page = Number(url.searchParams.get("page") ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(`${this.apiPrefix}${path}`, this.origin);
      next.searchParams.set("per_page", String(perPage));
      next.searchParams.set("page", String(page + 1));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    return [200, slice, headers];
  }

  private graphql({ variables }: { query: string; variables: Record<string, string> }): unknown {
    const repository: Record<string, unknown> = {};
    for (const [name, expression] of Object.entries(variables)) {
      const found = /^e(\d+)$/.exec(name);
      if (!found) continue;
      const [ref, ...rest] = expression.split(":");
      const bytes = this.trees.get(this.refs.get(ref!) ?? ref!)?.get(rest.join(":"));
      if (!bytes) {
        repository[`f${found[1]}`] = null;
        continue;
      }
      const isBinary = bytes.includes(0);
      // Like GitHub, hand back text even for non-UTF-8 files (lossily decoded): the gateway must notice.
      repository[`f${found[1]}`] = {
        __typename: "Blob",
        oid: blobSha(bytes),
        byteSize: bytes.byteLength,
        isBinary,
        isTruncated: false,
        text: isBinary ? null : new TextDecoder().decode(bytes),
      };
    }
    return { data: { repository } };
  }

  private blobById(id: string): Uint8Array | undefined {
    for (const tree of this.trees.values()) for (const bytes of tree.values()) if (blobSha(bytes) === id) return bytes;
    return undefined;
  }

  private updatedAt(pull: LocalPull): string {
    return pull.updatedAt ?? pull.merged?.at ?? "2026-11-25T09:00:00Z";
  }

  /** A list entry ("summary") lacks what only a single pull request's details carry, as on GitHub. */
  private pullJson(pull: LocalPull, shape: "full" | "summary" = "full"): unknown {
    const details = { merged_by: pull.merged ? { login: pull.merged.by } : null, merged: Boolean(pull.merged), commits: this.commits.get(pull.number)?.length ?? 0 };
    return {
      number: pull.number,
      state: pull.state,
      head: { sha: pull.headSha, ref: "request" },
      base: { sha: pull.baseSha, ref: pull.baseRef },
      user: { login: pull.author },
      updated_at: this.updatedAt(pull),
      merged_at: pull.merged?.at ?? null,
      merge_commit_sha: pull.merged?.sha ?? null,
      ...(shape === "full" ? details : {}),
    };
  }
}

function blobSha(bytes: Uint8Array): string {
  return createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
