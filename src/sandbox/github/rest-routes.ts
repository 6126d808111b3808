/**
 * The REST API of the local GitHub outside repositories (the app, its installations and tokens,
 * team memberships), request authentication, and GitHub's page-based pagination.
 *
 * Authentication follows GitHub Apps: `/app` endpoints take the app's JWT (`Bearer`); everything
 * else takes an installation token (`token ghs_...`), which sees only that installation's
 * repositories (others are 404, as GitHub hides what a token cannot read).
 */
import type { Accounts, Role } from "./accounts.js";
import { githubTime, type GitHubClock } from "./clock.js";
import type { Repository } from "./repository.js";
import type { JsonContext } from "./rest-json-pulls.js";
import { teamMembershipJson } from "./rest-json-issues.js";
import { teamJson } from "./rest-json-teams.js";
import { appJson, installationJson, type AppInfo, type InstallationInfo, type Urls } from "./rest-json.js";

export type Auth =
  | { kind: "app" }
  | { kind: "installation"; installationId: number }
  /** A person's own token (personal access token, or `gh`'s OAuth token). */
  | { kind: "user"; login: string }
  /** A token GitHub never issued (or revoked): every request with it is 401 "Bad credentials". */
  | { kind: "invalid" }
  | { kind: "anonymous" };

export interface RestRequest {
  method: string;
  /** The API path, without GitHub Enterprise Server's /api/v3 prefix. */
  path: string;
  url: URL;
  body: unknown;
  auth: Auth;
}

import type { AppHook } from "./app-hook.js";

export type RestResponse = [status: number, body: unknown, headers?: Record<string, string>];

/** What routes read from the local GitHub. */
export interface RouteContext {
  app: AppInfo;
  urls: Urls;
  json: JsonContext;
  accounts: Accounts;
  clock: GitHubClock;
  installations: readonly InstallationInfo[];
  repositories: readonly Repository[];
  roleOf(repo: Repository, login: string): Role | undefined;
  issueToken(installationId: number): string;
  nextId(): number;
  hook: AppHook;
}

export function error(status: number, message: string): RestResponse {
  return [status, { message, documentation_url: "https://docs.github.com/rest", status: String(status) }];
}

export const NOT_FOUND = (): RestResponse => error(404, "Not Found");

/** Routes outside `/repos/{owner}/{repo}`; undefined when none matches. */
export function appRoute(context: RouteContext, request: RestRequest): RestResponse | undefined {
  const { path, auth } = request;
  if (path === "/app" || path.startsWith("/app/")) return appJwtRoute(context, request);
  if (auth.kind !== "installation")
    return path.startsWith("/repos/") || path === "/graphql" ? undefined : error(401, "Requires authentication");
  return installationRoute(context, request, auth.installationId);
}

/** `/app/…`: what the app itself asks, with its JSON web token. */
function appJwtRoute(context: RouteContext, request: RestRequest): RestResponse | undefined {
  const { method, path, auth } = request;
  let match: RegExpExecArray | null;
  if (auth.kind !== "app") return error(401, "A JSON web token could not be decoded");
  if (method === "GET" && path === "/app") return [200, appJson(context.app, context.accounts.get(context.app.owner), context.urls)];
  if (method === "GET" && path === "/app/installations") {
    return page(
      context,
      request,
      context.installations.map((installation) =>
        installationJson(installation, context.accounts.get(installation.account), context.app, context.urls),
      ),
    );
  }
  if (method === "GET" && path === "/app/hook/deliveries") return hookDeliveries(context, request);
  if (method === "GET" && (match = /^\/app\/hook\/deliveries\/(\d+)$/.exec(path))) {
    const delivery = context.hook.deliveries.find((candidate) => candidate.id === Number(match![1]));
    return delivery
      ? [
          200,
          {
            ...context.hook.itemJson(delivery),
            url: "",
            request: { headers: {}, payload: delivery.payload },
            response: { headers: {}, payload: null },
          },
        ]
      : NOT_FOUND();
  }
  if (method === "POST" && (match = /^\/app\/hook\/deliveries\/(\d+)\/attempts$/.exec(path))) {
    return context.hook.redeliver(Number(match[1])) ? [202, {}] : NOT_FOUND();
  }
  if (method === "POST" && (match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path))) {
    const installation = context.installations.find((candidate) => candidate.id === Number(match![1]));
    if (!installation) return NOT_FOUND();
    const expires = new Date(context.clock.now().getTime() + 3_600_000);
    return [
      201,
      {
        token: context.issueToken(installation.id),
        expires_at: githubTime(expires),
        permissions: context.app.permissions,
        repository_selection: "selected",
      },
    ];
  }
  return undefined;
}

/** Routes an installation token may call outside its repositories. */
function installationRoute(context: RouteContext, request: RestRequest, installationId: number): RestResponse | undefined {
  const { method, path } = request;
  let match: RegExpExecArray | null;
  if (method === "GET" && path === "/installation/repositories") {
    const repositories = context.repositories.filter((repo) => repo.installationId === installationId);
    return page(
      context,
      request,
      repositories.map((repo) => context.json.repository(repo)),
      (items) => ({ total_count: repositories.length, repository_selection: "selected", repositories: items }),
    );
  }
  // "Get a repository" by its numeric id: the id survives renames (GitHub documents it alongside /repos/{owner}/{repo}).
  if (method === "GET" && (match = /^\/repositories\/(\d+)$/.exec(path))) {
    const repo = context.repositories.find(
      (candidate) => candidate.id === Number(match![1]) && candidate.installationId === installationId,
    );
    return repo ? [200, context.json.repository(repo)] : NOT_FOUND();
  }
  if (method === "GET" && (match = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/memberships\/([^/]+)$/.exec(path))) {
    const [org, slug, login] = [match[1]!, match[2]!, decodeURIComponent(match[3]!)];
    const team = context.accounts.team(org, slug);
    const state = team ? context.accounts.membership(team, login) : undefined;
    // Not a member (or no such team): 404, the only other answer GitHub documents for this endpoint.
    return state ? [200, teamMembershipJson(context.json, org, slug, login, state)] : NOT_FOUND();
  }
  if (method === "GET" && (match = /^\/orgs\/([^/]+)\/teams\/([^/]+)\/teams$/.exec(path))) {
    // "List child teams": the direct children, paged as GitHub pages lists.
    const team = context.accounts.team(match[1]!, match[2]!);
    const installation = context.installations.find((candidate) => candidate.id === installationId);
    if (!team || installation?.account.toLowerCase() !== team.org.toLowerCase()) return NOT_FOUND();
    const organization = context.accounts.get(team.org, "Organization");
    return page(
      context,
      request,
      context.accounts.childTeams(team).map((child) => teamJson(context.urls, child, organization, child.repositories.size, team)),
    );
  }
  if (method === "GET" && (match = /^\/orgs\/([^/]+)\/teams\/([^/]+)$/.exec(path))) {
    const team = context.accounts.team(match[1]!, match[2]!);
    // A team is read within its own organisation's installation only; a renamed or deleted slug is 404.
    const installation = context.installations.find((candidate) => candidate.id === installationId);
    if (!team || installation?.account.toLowerCase() !== team.org.toLowerCase()) return NOT_FOUND();
    const parent = team.parent === undefined ? undefined : context.accounts.team(team.org, team.parent);
    return [200, teamJson(context.urls, team, context.accounts.get(team.org, "Organization"), team.repositories.size, parent)];
  }
  return undefined;
}

/** Reads the Authorization header as GitHub does: the app's JWT, an installation token, or a person's token. */
export function authOf(
  header: string | undefined,
  tokens: ReadonlyMap<string, number>,
  personTokens: ReadonlyMap<string, string> = new Map(),
): Auth {
  if (!header) return { kind: "anonymous" };
  const [scheme, credential = ""] = header.split(/\s+/, 2);
  if (scheme?.toLowerCase() === "bearer" && credential.split(".").length === 3) return { kind: "app" };
  const installationId = tokens.get(credential);
  if (installationId !== undefined) return { kind: "installation", installationId };
  const login = personTokens.get(credential);
  return login === undefined ? { kind: "invalid" } : { kind: "user", login };
}

/**
 * One page of a list, with GitHub's Link header (`next`, `last`, `first`, `prev`). `per_page`
 * defaults to 30 and is capped at 100, as GitHub's endpoints document it.
 */
/** The app's deliveries, newest first; `cursor` is the id to start after, as GitHub's Link header gives it. */
function hookDeliveries(context: RouteContext, request: RestRequest): RestResponse {
  const perPage = Math.min(Math.max(Number(request.url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
  const cursor = request.url.searchParams.get("cursor");
  const newestFirst = [...context.hook.deliveries].reverse();
  const start = cursor === null ? 0 : newestFirst.findIndex((delivery) => delivery.id === Number(cursor.replace(/^v1_/, ""))) + 1;
  const slice = newestFirst.slice(start, start + perPage);
  const next = newestFirst[start + perPage];
  const headers: Record<string, string> = {};
  if (next && slice.length > 0) {
    const url = new URL(context.urls.api(request.path));
    url.searchParams.set("per_page", String(perPage));
    url.searchParams.set("cursor", `v1_${slice.at(-1)!.id}`);
    headers.link = `<${url.toString()}>; rel="next"`;
  }
  return [200, slice.map((delivery) => context.hook.itemJson(delivery)), headers];
}

export function page(
  context: RouteContext,
  request: RestRequest,
  items: readonly unknown[],
  wrap?: (items: unknown[]) => unknown,
): RestResponse {
  const perPage = Math.min(Math.max(Number(request.url.searchParams.get("per_page") ?? 30) || 30, 1), 100);
  const current = Math.max(Number(request.url.searchParams.get("page") ?? 1) || 1, 1);
  const lastPage = Math.max(Math.ceil(items.length / perPage), 1);
  const slice = items.slice((current - 1) * perPage, current * perPage);
  const link = (target: number, rel: string) => {
    const url = new URL(context.urls.api(request.path));
    for (const [key, value] of request.url.searchParams) url.searchParams.set(key, value);
    url.searchParams.set("page", String(target));
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(current < lastPage ? [link(current + 1, "next"), link(lastPage, "last")] : []),
    ...(current > 1 ? [link(1, "first"), link(current - 1, "prev")] : []),
  ];
  return [200, wrap ? wrap(slice) : slice, links.length > 0 ? { link: links.join(", ") } : {}];
}
