/**
 * What a person does on the local GitHub with their own token (a personal access token, or the
 * OAuth token `gh auth token` prints), as `jitsudo request --open-pr` does: who they are
 * (`GET /user`), the repository as they see it, its contents, a new branch, a file committed to
 * it, and a pull request from it. Each write goes through the repository's own operations
 * (createBranch, commit, openPull), so it records the same activity and sends the same `push` and
 * `pull_request.opened` webhooks as a `git push` and a pull request opened on the web would.
 *
 * Tokens see what their person may see: public repositories, and private ones where they have a
 * role (others are 404, as GitHub hides them). Creating a branch or a file needs push access (404
 * without it, as GitHub answers such writes); jitsudo's app may neither (403 "Resource not
 * accessible by integration": it asks for `contents: read` and `pull_requests: read` only).
 */
import { githubTime } from "./clock.js";
import { ZERO_SHA } from "./git-objects.js";
import { getContents, pusherOf, putContents, validationFailed } from "./rest-contents.js";
import { permissionJson } from "./rest-json-issues.js";
import { pullJson } from "./rest-json-pulls.js";
import { nodeId, userJson } from "./rest-json.js";
import type { RepoRouteContext } from "./rest-repo-routes.js";
import { PullRequestError, type Repository } from "./repository.js";
import { error, NOT_FOUND, type RestRequest, type RestResponse, type RouteContext } from "./rest-routes.js";

type Handler = (context: RepoRouteContext, repo: Repository, request: RestRequest, params: string[]) => RestResponse;

const ROUTES: [method: string, pattern: RegExp, handler: Handler][] = [
  ["GET", /^$/, getRepository],
  ["GET", /^\/contents(?:\/(.*))?$/, getContents],
  ["PUT", /^\/contents\/(.+)$/, putContents],
  ["GET", /^\/git\/ref\/(.+)$/, getRef],
  ["POST", /^\/git\/refs$/, createRef],
  ["POST", /^\/pulls$/, createPull],
];

/** `GET /user`: the token's own account, as the `private-user` GitHub shows a person about themselves. */
export function userRoute(context: RouteContext, request: RestRequest): RestResponse | undefined {
  if (request.path !== "/user" || request.method !== "GET") return undefined;
  if (request.auth.kind === "installation") return error(403, "Resource not accessible by integration");
  if (request.auth.kind !== "user") return error(401, "Requires authentication");
  const account = context.accounts.get(request.auth.login);
  // Accounts are made on first mention, so the app's creation (the local GitHub's start) stands for theirs.
  const since = githubTime(context.app.createdAt);
  return [
    200,
    {
      ...userJson(account, context.urls),
      user_view_type: "private",
      name: account.name,
      company: null,
      blog: "",
      location: null,
      email: null,
      hireable: null,
      bio: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: since,
      updated_at: since,
      private_gists: 0,
      total_private_repos: 0,
      owned_private_repos: 0,
      disk_usage: 0,
      collaborators: 0,
      two_factor_authentication: true,
    },
  ];
}

/** Answers a person's request under `/repos/{owner}/{repo}`; undefined when none of these routes match. */
export function personRoute(context: RepoRouteContext, repo: Repository, request: RestRequest, rest: string): RestResponse | undefined {
  for (const [method, pattern, handler] of ROUTES) {
    const match = method === request.method ? pattern.exec(rest) : null;
    if (match) return handler(context, repo, request, match.slice(1));
  }
  return undefined;
}

/** `full-repository`, with the caller's `permissions` when a person asks (GitHub adds them for an authenticated user). */
function getRepository(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  const json = { ...context.json.repository(repo), network_count: 0, subscribers_count: 0 };
  if (request.auth.kind !== "user") return [200, json];
  const role = context.roleOf(repo, request.auth.login);
  const permissions = role
    ? (permissionJson(context.json, request.auth.login, role).user as { permissions: unknown }).permissions
    : { admin: false, maintain: false, push: false, triage: false, pull: !repo.isPrivate };
  return [200, { ...json, permissions }];
}

function getRef(context: RepoRouteContext, repo: Repository, _request: RestRequest, [ref]: string[]): RestResponse {
  const name = decodeURIComponent(ref!);
  const sha = name.startsWith("heads/") ? repo.branch(name.slice("heads/".length)) : undefined;
  return sha ? [200, refJson(context, repo, `refs/${name}`, sha)] : NOT_FOUND();
}

/** `POST /git/refs`: a branch (`refs/heads/…`) at an existing commit. */
function createRef(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  const pusher = pusherOf(context, repo, request);
  if (typeof pusher !== "string") return pusher;
  const { ref, sha } = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<string, unknown>;
  if (typeof ref !== "string" || typeof sha !== "string") return validationFailed("Invalid request.\n\nref and sha are required.");
  // "If it doesn't start with 'refs' and have at least two slashes, it will be rejected."
  if (!ref.startsWith("refs/") || ref.split("/").length < 3) return validationFailed(`${ref} is not a valid ref name.`);
  if (repo.branchNames().length === 0) return error(409, "Git Repository is empty.");
  if (!ref.startsWith("refs/heads/")) return validationFailed(`the local GitHub creates branches only (refs/heads/…), not ${ref}`);
  const branch = ref.slice("refs/heads/".length);
  if (repo.branch(branch) !== undefined) return validationFailed("Reference already exists");
  if (!/^[0-9a-f]{40}$/.test(sha) || sha === ZERO_SHA || !repo.objects.commit(sha)) return validationFailed("Object does not exist");
  try {
    repo.createBranch(branch, sha, pusher);
  } catch (caught) {
    return validationFailed(caught instanceof Error ? caught.message : String(caught));
  }
  return [201, refJson(context, repo, ref, sha)];
}

/** `POST /pulls` from a branch of the same repository (`head` as `branch` or `owner:branch`). */
function createPull(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  if (request.auth.kind === "installation") return error(403, "Resource not accessible by integration");
  if (request.auth.kind !== "user") return error(401, "Requires authentication");
  const body = (typeof request.body === "object" && request.body !== null ? request.body : {}) as Record<string, unknown>;
  const { title, head, base } = body;
  if (typeof title !== "string" || typeof head !== "string" || typeof base !== "string")
    return validationFailed("Invalid request.\n\ntitle, head and base are required.");
  const [headOwner, headBranch] = head.includes(":") ? head.split(":", 2) : [repo.owner, head];
  const invalid = (field: string) => validationFailed("Validation Failed", [{ resource: "PullRequest", field, code: "invalid" }]);
  if (headOwner!.toLowerCase() !== repo.owner.toLowerCase() || repo.branch(headBranch!) === undefined) return invalid("head");
  if (repo.branch(base) === undefined) return invalid("base");
  // "You must have write access to the head or the source branch."
  const author = pusherOf(context, repo, request);
  if (typeof author !== "string") return error(403, "Must have push access to the head branch");
  try {
    const number = repo.openPull({
      head: headBranch!,
      base,
      author,
      title,
      ...(typeof body.body === "string" ? { body: body.body } : {}),
      ...(typeof body.draft === "boolean" ? { draft: body.draft } : {}),
    });
    return [201, pullJson(context.json, repo, repo.pull(number))];
  } catch (caught) {
    if (!(caught instanceof PullRequestError)) throw caught;
    return validationFailed("Validation Failed", [{ resource: "PullRequest", code: "custom", message: caught.message }]);
  }
}

function refJson(context: RepoRouteContext, repo: Repository, ref: string, sha: string): Record<string, unknown> {
  const api = context.urls.api(`/repos/${repo.fullName}`);
  return {
    ref,
    node_id: nodeId("Ref", `${repo.id}:${ref}`),
    url: `${api}/git/${ref}`,
    object: { type: "commit", sha, url: `${api}/git/commits/${sha}` },
  };
}
