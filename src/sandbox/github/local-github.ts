/**
 * A local GitHub: GitHub's behaviour for the slice of its REST and GraphQL API jitsudo uses,
 * answered from a model (git objects, repositories, pull requests, people, teams, an app and its
 * installations) that changes only through operations GitHub offers. The real Probot Octokit
 * talks to it exactly as to GitHub: in tests through nock (`test/support/fake-github.ts`), in the
 * demo over HTTP as a GitHub Enterprise Server (`github-server.ts`). Every call is recorded with
 * its answer, an unknown route fails loudly, and failures and latency can be injected.
 *
 * Every operation that GitHub announces with a webhook appends the payload GitHub would send to
 * `webhooks`; tests deliver the ones they want (or lose them, as GitHub sometimes does).
 */
import { Accounts, canWrite, strongerRole, type Role, type Team } from "./accounts.js";
import { SimulatedClock, type GitHubClock } from "./clock.js";
import { checkCodeowners, CODEOWNERS_PATHS, type CodeownersError, type OwnerRef } from "./codeowners-check.js";
import { executeGraphql } from "./graphql-execution.js";
import { graphqlRoot } from "./graphql-nodes.js";
import type { GitRepository } from "./git-repository.js";
import { Repository, type ModelEvent, type RepositoryWorld } from "./repository.js";
import type { JsonContext } from "./rest-json-pulls.js";
import { repositoryJson, userJson, Urls, type AppInfo, type InstallationInfo } from "./rest-json.js";
import { AppHook } from "./app-hook.js";
import { repoRoute, type RepoRouteContext } from "./rest-repo-routes.js";
import { personRoute, userRoute } from "./rest-people-routes.js";
import { appRoute, authOf, error, type Auth, type RestResponse } from "./rest-routes.js";
import { webhookPayload, type WebhookContext } from "./webhook-payloads.js";
import type { WebhookDelivery } from "./world.js";

export const APP_ID = 4242;
export const APP_SLUG = "jitsudo";
export const BOT_LOGIN = `${APP_SLUG}[bot]`;
export const INSTALLATION_ID = 1;
/** The repository GitHub's example payloads use: Codertocat/Hello-World, id 186853002. */
export const DEFAULT_REPOSITORY = { owner: "Codertocat", name: "Hello-World", id: 186853002 } as const;

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  status: number;
  response: unknown;
}

export interface LocalGitHubOptions {
  /** Where the REST API is served: https://api.github.com, or a GitHub Enterprise Server origin. */
  origin?: string;
  /** Where people browse (html_url): https://github.com, or the Enterprise Server origin. */
  webOrigin?: string;
  /** "/api/v3" on GitHub Enterprise Server. */
  apiPrefix?: string;
  graphqlPath?: string;
  clock?: GitHubClock;
  /** Installation 1 with Codertocat/Hello-World in it (default true). */
  defaultRepository?: boolean;
}

export interface CreateRepositorySpec {
  owner: string;
  name: string;
  id?: number;
  defaultBranch?: string;
  installationId?: number;
  private?: boolean;
}

export class LocalGitHub implements RepositoryWorld {
  readonly accounts = new Accounts();
  readonly clock: GitHubClock;
  readonly app: AppInfo;
  readonly urls: Urls;
  readonly origin: string;
  readonly apiPrefix: string;
  readonly graphqlPath: string;
  readonly calls: RecordedCall[] = [];
  /** Make a route fail: method, a pattern of the API path, and the status to answer. */
  readonly failures: { method: string; path: RegExp; status: number }[] = [];
  /** What GitHub would have delivered, in order. */
  readonly webhooks: WebhookDelivery[] = [];
  /** The app's webhook: where deliveries go when a test sends them as GitHub does, and GitHub's record of them. */
  readonly hook: AppHook;
  private readonly installationList: InstallationInfo[] = [];
  /** Delay before each answer, to let concurrent handlers overlap as they would against GitHub. */
  latencyMs = 0;
  private readonly repositoryList: Repository[] = [];
  private readonly tokens = new Map<string, number>();
  /** A person's tokens: token → login. */
  private readonly personTokens = new Map<string, string>();
  private lastId = 1000;

  constructor(options: LocalGitHubOptions = {}) {
    this.origin = options.origin ?? "https://api.github.com";
    this.apiPrefix = options.apiPrefix ?? "";
    this.graphqlPath = options.graphqlPath ?? "/graphql";
    this.urls = new Urls(
      `${this.origin}${this.apiPrefix}`,
      options.webOrigin ?? (this.origin === "https://api.github.com" ? "https://github.com" : this.origin),
    );
    this.clock = options.clock ?? new SimulatedClock();
    this.hook = new AppHook(this.clock, () => this.nextId());
    const permissions = { checks: "write", contents: "read", pull_requests: "read", issues: "write", members: "read", metadata: "read" };
    this.app = {
      id: APP_ID,
      slug: APP_SLUG,
      name: APP_SLUG,
      owner: "jitsudo-dev",
      createdAt: this.clock.now(),
      permissions,
      events: ["check_run", "issue_comment", "pull_request", "push"],
    };
    this.accounts.add(BOT_LOGIN, "Bot");
    if (options.defaultRepository ?? true) {
      this.createInstallation({ account: DEFAULT_REPOSITORY.owner, id: INSTALLATION_ID });
      this.createRepository({ owner: DEFAULT_REPOSITORY.owner, name: DEFAULT_REPOSITORY.name, id: DEFAULT_REPOSITORY.id });
    }
  }

  /** As a GitHub Enterprise Server at `host`: REST under /api/v3, GraphQL at /api/graphql. */
  static enterprise<T extends LocalGitHub>(
    this: new (options?: LocalGitHubOptions) => T,
    host: string,
    options: { protocol?: string } & LocalGitHubOptions = {},
  ): T {
    const origin = `${options.protocol ?? "https"}://${host}`;
    return new this({ ...options, origin, webOrigin: origin, apiPrefix: "/api/v3", graphqlPath: "/api/graphql" });
  }

  /** The default repository, Codertocat/Hello-World. */
  get repo(): Repository {
    return this.repository(`${DEFAULT_REPOSITORY.owner}/${DEFAULT_REPOSITORY.name}`);
  }

  get repositories(): readonly Repository[] {
    return this.repositoryList;
  }

  get installations(): readonly InstallationInfo[] {
    return this.installationList;
  }

  createInstallation(spec: { account: string; id?: number }): InstallationInfo {
    const id = spec.id ?? this.nextId();
    if (this.installations.some((installation) => installation.id === id)) throw new Error(`installation ${id} already exists`);
    const installation = { id, account: this.accounts.get(spec.account).login, createdAt: this.clock.tick() };
    this.installationList.push(installation);
    return installation;
  }

  createRepository(spec: CreateRepositorySpec): Repository {
    const installationId = spec.installationId ?? INSTALLATION_ID;
    const installation = this.installations.find((candidate) => candidate.id === installationId);
    if (!installation) throw new Error(`no installation ${installationId}; create it first`);
    // An installation is on one account and covers repositories of that account only.
    if (installation.account.toLowerCase() !== spec.owner.toLowerCase())
      throw new Error(`installation ${installationId} is on ${installation.account}, so it cannot hold a repository of ${spec.owner}`);
    if (this.findRepository(spec.owner, spec.name)) throw new Error(`${spec.owner}/${spec.name} already exists`);
    const owner = this.accounts.get(spec.owner).login;
    const repo = new Repository(this, {
      id: spec.id ?? this.nextId(),
      owner,
      name: spec.name,
      defaultBranch: spec.defaultBranch ?? "main",
      installationId,
      private: spec.private ?? false,
      createdAt: this.clock.tick(),
    });
    this.repositoryList.push(repo);
    return repo;
  }

  /** The repository that was called `owner/name` before a rename, while no repository has that name now. */
  private formerlyNamed(owner: string, name: string): Repository | undefined {
    const former = `${owner}/${name}`.toLowerCase();
    return this.repositoryList.find((repo) => repo.formerNames.some((candidate) => candidate.toLowerCase() === former));
  }

  /** `owner/name`, case-insensitive as on GitHub. */
  repository(fullName: string): Repository {
    const [owner = "", name = ""] = fullName.split("/");
    const repo = this.findRepository(owner, name);
    if (!repo) throw new Error(`no repository ${fullName}`);
    return repo;
  }

  findRepository(owner: string, name: string): Repository | undefined {
    return this.repositoryList.find(
      (repo) => repo.owner.toLowerCase() === owner.toLowerCase() && repo.name.toLowerCase() === name.toLowerCase(),
    );
  }

  /** The team `org/slug`, created on first mention (without members or repositories). */
  team(org: string, slug: string): Team {
    return this.accounts.ensureTeam(org, slug);
  }

  /** A member joins a team; "pending" until they accept the invitation. */
  setTeamMembership(org: string, slug: string, login: string, state: "active" | "pending" | null): void {
    const members = this.team(org, slug).members;
    if (state === null) members.delete(login.toLowerCase());
    else members.set(this.accounts.get(login).login.toLowerCase(), state);
  }

  /** Renames the team `org/slug` (its members and repositories stay); its old slug is then unknown to the API. */
  renameTeam(org: string, slug: string, newSlug: string): Team {
    return this.accounts.renameTeam(org, slug, newSlug);
  }

  /** Makes `child` a child team of `parent` (GitHub's nested teams: the parent's memberships include the child's members). */
  nestTeam(org: string, child: string, parent: string | null): void {
    this.accounts.nestTeam(org, child, parent);
  }

  /** Gives a team a role in a repository (GitHub: a team is a code owner only with explicit write access). */
  grantTeam(org: string, slug: string, repo: Repository, role: Role | null): void {
    const repositories = this.team(org, slug).repositories;
    if (role === null) repositories.delete(repo.id);
    else repositories.set(repo.id, role);
  }

  roleOf(repo: GitRepository, login: string): Role | undefined {
    const lower = login.toLowerCase();
    let role: Role | undefined = repo.owner.toLowerCase() === lower ? "admin" : repo.directRole(lower);
    for (const team of this.accounts.allTeams()) {
      if (team.members.get(lower) === "active") role = strongerRole(role, team.repositories.get(repo.id));
    }
    return role;
  }

  nextId(): number {
    return ++this.lastId;
  }

  emit(event: ModelEvent): WebhookDelivery {
    const delivery = webhookPayload(this.webhookContext(), event);
    this.webhooks.push(delivery);
    return delivery;
  }

  /** The payload of the latest webhook `name` (`push`) or `name.action` (`pull_request.opened`). */
  lastWebhook(kind: string): Record<string, unknown> {
    const [name, action] = kind.split(".");
    const found = this.webhooks.findLast(
      (delivery) => delivery.name === name && (action === undefined || delivery.payload.action === action),
    );
    if (!found) throw new Error(`no ${kind} webhook was sent`);
    return found.payload;
  }

  /** The calls made, as `METHOD /path` lines. */
  callLines(): string[] {
    return this.calls.map((call) => `${call.method} ${call.path}`);
  }

  /** Answers one request: [status, body, headers]. */
  handle(
    method: string,
    uri: string,
    rawBody: unknown,
    headers: Record<string, string | string[] | undefined> = {},
  ): [number, unknown, Record<string, string>?] {
    const url = new URL(uri, this.origin);
    const isGraphql = url.pathname === this.graphqlPath;
    const path = !isGraphql && url.pathname.startsWith(this.apiPrefix) ? url.pathname.slice(this.apiPrefix.length) : url.pathname;
    const body = typeof rawBody === "string" && rawBody.length > 0 ? safeJson(rawBody) : rawBody;
    const failure = this.failures.find((candidate) => candidate.method === method && candidate.path.test(path));
    const authorization = headers.authorization;
    const auth = authOf(Array.isArray(authorization) ? authorization[0] : authorization, this.tokens, this.personTokens);
    const [status, response, responseHeaders] = failure
      ? error(failure.status, "injected failure")
      : auth.kind === "invalid"
        ? error(401, "Bad credentials")
        : isGraphql
          ? this.graphql(auth, body)
          : this.route(method, path, url, body, auth);
    this.calls.push({ method, path: `${path}${url.search}`, body, status, response });
    return [status, response, responseHeaders];
  }

  /** The errors GitHub reports for the CODEOWNERS file in use at `ref`; undefined when there is none. */
  codeownersErrors(repo: Repository, ref: string): CodeownersError[] | undefined {
    const commit = repo.resolve(ref);
    const path = CODEOWNERS_PATHS.find((candidate) => commit?.tree.get(candidate)?.mode === "100644");
    if (!commit || !path) return undefined;
    const text = new TextDecoder().decode(repo.objects.blob(commit.tree.get(path)!.sha));
    const found = checkCodeowners(path, text, (owner) => this.ownerIsValid(repo, owner));
    const injected = repo.injectedCodeownersErrors
      .filter((extra) => extra.commit === undefined || extra.commit === commit.sha)
      .map(({ commit: _at, ...extra }) => ({ column: 1, source: "", suggestion: null, ...extra, path }));
    return [...found, ...injected].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  private ownerIsValid(repo: Repository, owner: OwnerRef): boolean {
    if (owner.kind === "team") return canWrite(this.accounts.team(owner.org, owner.slug)?.repositories.get(repo.id));
    const login = owner.kind === "user" ? owner.login : this.accounts.loginForEmail(owner.email);
    return login !== null && this.accounts.find(login) !== undefined && canWrite(this.roleOf(repo, login));
  }

  private route(method: string, path: string, url: URL, body: unknown, auth: Auth): RestResponse {
    const request = { method, path, url, body, auth };
    const context = this.routeContext();
    const answered = userRoute(context, request) ?? appRoute(context, request);
    if (answered) return answered;
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const repo = match ? this.visibleRepository(auth, decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)) : undefined;
    if (match && !repo) return error(404, "Not Found");
    if (repo && auth.kind === "anonymous" && method !== "GET") return error(401, "Requires authentication");
    const rest = match?.[3] ?? "";
    const routed = repo ? (personRoute(context, repo, request, rest) ?? repoRoute(context, repo, request, rest)) : undefined;
    return routed ?? error(404, `the local GitHub has no route for ${method} ${path}`);
  }

  private graphql(auth: Auth, body: unknown): RestResponse {
    // GitHub's GraphQL API takes installation and personal tokens (a person sees what the person
    // may read); without a token, or with the app's own JWT, it refuses.
    if (auth.kind !== "installation" && auth.kind !== "user") return error(401, "This endpoint requires you to be authenticated.");
    const root = graphqlRoot({
      urls: this.urls,
      account: (login) => this.accounts.get(login),
      visibleRepository: (owner, name) => this.visibleRepository(auth, owner, name),
    });
    return [200, executeGraphql(body ?? {}, root)];
  }

  /**
   * An installation token sees its installation's repositories; a person's token, public ones and
   * those the person has a role in; without one, only public repositories can be read.
   * A renamed repository is still found under a former name until another repository takes it:
   * GitHub redirects such requests (301/307), and Octokit follows the redirect.
   */
  private visibleRepository(auth: Auth, owner: string, name: string): Repository | undefined {
    const repo = this.findRepository(owner, name) ?? this.formerlyNamed(owner, name);
    if (!repo || auth.kind === "app") return undefined;
    if (auth.kind === "installation") return repo.installationId === auth.installationId ? repo : undefined;
    if (auth.kind === "user") return !repo.isPrivate || this.roleOf(repo, auth.login) !== undefined ? repo : undefined;
    return repo.isPrivate ? undefined : repo;
  }

  private jsonContext(): JsonContext {
    return {
      urls: this.urls,
      account: (login) => this.accounts.get(login),
      user: (login) => userJson(this.accounts.get(login), this.urls),
      repository: (repo) => repositoryJson(repo, this.accounts.get(repo.owner), this.urls, this.openIssues(repo)),
      association: (repo, login) =>
        repo.owner.toLowerCase() === login.toLowerCase() ? "OWNER" : this.roleOf(repo, login) ? "COLLABORATOR" : "NONE",
    };
  }

  private routeContext(): RepoRouteContext {
    return {
      app: this.app,
      urls: this.urls,
      json: this.jsonContext(),
      accounts: this.accounts,
      clock: this.clock,
      installations: this.installations,
      repositories: this.repositoryList,
      roleOf: (repo, login) => this.roleOf(repo, login),
      issueToken: (installationId) => this.issueToken(installationId),
      nextId: () => this.nextId(),
      hook: this.hook,
      codeownersErrors: (repo, ref) => this.codeownersErrors(repo, ref),
    };
  }

  private webhookContext(): WebhookContext {
    return { ...this.jsonContext(), app: this.app, accounts: this.accounts, openIssues: (repo) => this.openIssues(repo) };
  }

  private openIssues(repo: { id: number }): number {
    const found = this.repositoryList.find((candidate) => candidate.id === repo.id);
    return found ? [...found.pulls.values()].filter((pull) => pull.state === "open").length : 0;
  }

  /**
   * A token of `login`'s own, as a personal access token or `gh auth token` gives: it acts as them,
   * with their roles (see rest-people-routes.ts). Never an installation's: it cannot act as the app.
   */
  issuePersonToken(login: string): string {
    const account = this.accounts.get(login);
    const token = `ghp_person_token_secret_${account.id}_${this.personTokens.size + 1}`;
    this.personTokens.set(token, account.login);
    return token;
  }

  private issueToken(installationId: number): string {
    const token = `ghs_installation_token_secret_${installationId}_${this.tokens.size + 1}`;
    this.tokens.set(token, installationId);
    return token;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
