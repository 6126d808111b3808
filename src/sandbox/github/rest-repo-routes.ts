/**
 * The REST API of one repository on the local GitHub (`/repos/{owner}/{repo}/...`), answered from
 * the model. Limits GitHub documents are kept: a pull request's files list stops at 3000 ("Responses
 * include a maximum of 3000 files") and its commits list at 250 ("Lists a maximum of 250 commits for
 * a pull request"), whatever the paging, while the pull request itself reports the true counts.
 */
import { ActivityQueryError } from "./activity.js";
import { ConversationError } from "./conversation.js";
import { PullRequestError, type Repository } from "./repository.js";
import { activityJson, checkRunJson, issueCommentJson, permissionJson, reactionJson } from "./rest-json-issues.js";
import { blobJson, commitJson, diffEntryJson, gitCommitJson, pullJson, reviewJson } from "./rest-json-pulls.js";
import { error, NOT_FOUND, page, type RestRequest, type RestResponse, type RouteContext } from "./rest-routes.js";

export const PULL_FILES_LIMIT = 3000;
export const PULL_COMMITS_LIMIT = 250;

export interface RepoRouteContext extends RouteContext {
  codeownersErrors(repo: Repository, ref: string): unknown[] | undefined;
}

type Handler = (context: RepoRouteContext, repo: Repository, request: RestRequest, params: string[]) => RestResponse;

type PullOf = NonNullable<ReturnType<Repository["pulls"]["get"]>>;

/** A paged list of something of one pull request (`/pulls/{number}/...`, `/issues/{number}/...`). */
function pullListing(list: (context: RepoRouteContext, repo: Repository, pull: PullOf) => unknown[]): Handler {
  return (context, repo, request, [number]) => withPull(repo, number, (pull) => page(context, request, list(context, repo, pull)));
}

const ROUTES: [method: string, pattern: RegExp, handler: Handler][] = [
  ["GET", /^\/pulls$/, listPulls],
  [
    "GET",
    /^\/pulls\/(\d+)$/,
    (context, repo, _request, [number]) => withPull(repo, number, (pull) => [200, pullJson(context.json, repo, pull)]),
  ],
  [
    "GET",
    /^\/pulls\/(\d+)\/files$/,
    pullListing((context, repo, pull) =>
      repo
        .changes(pull)
        .files.slice(0, PULL_FILES_LIMIT)
        .map((file) => diffEntryJson(context.json, repo, pull.headSha, file)),
    ),
  ],
  [
    "GET",
    /^\/pulls\/(\d+)\/commits$/,
    pullListing((context, repo, pull) =>
      repo
        .changes(pull)
        .commits.slice(0, PULL_COMMITS_LIMIT)
        .map((commit) => commitJson(context.json, repo, commit)),
    ),
  ],
  [
    "GET",
    /^\/pulls\/(\d+)\/reviews$/,
    pullListing((context, repo, pull) => pull.reviews.map((review) => reviewJson(context.json, repo, pull, review))),
  ],
  ["GET", /^\/collaborators\/([^/]+)\/permission$/, collaboratorPermission],
  [
    "GET",
    /^\/git\/commits\/([0-9a-f]{40})$/,
    (context, repo, _request, [sha]) => withCommit(repo, sha!, (commit) => [200, gitCommitJson(context.json, repo, commit)]),
  ],
  ["GET", /^\/commits\/([^/]+)\/pulls$/, pullsForCommit],
  ["GET", /^\/git\/blobs\/([0-9a-f]{40})$/, blob],
  [
    "POST",
    /^\/check-runs$/,
    (context, repo, request) => [
      201,
      checkRunJson(context.json, repo, repo.conversation.createCheckRun(appIdentity(context), bodyOf(request)), context.app),
    ],
  ],
  [
    "PATCH",
    /^\/check-runs\/(\d+)$/,
    (context, repo, request, [id]) => [
      200,
      checkRunJson(context.json, repo, repo.conversation.updateCheckRun(Number(id), appIdentity(context), bodyOf(request)), context.app),
    ],
  ],
  ["GET", /^\/check-runs\/(\d+)$/, getCheckRun],
  [
    "GET",
    /^\/issues\/(\d+)\/comments$/,
    pullListing((context, repo, pull) =>
      repo.conversation.commentsOn(pull.number).map((comment) => issueCommentJson(context.json, repo, comment)),
    ),
  ],
  [
    "POST",
    /^\/issues\/(\d+)\/comments$/,
    (context, repo, request, [number]) =>
      withPull(repo, number, (pull) => [
        201,
        issueCommentJson(context.json, repo, repo.conversation.comment(pull.number, botLogin(context), stringField(request, "body"))),
      ]),
  ],
  [
    "PATCH",
    /^\/issues\/comments\/(\d+)$/,
    (context, repo, request, [id]) => [
      200,
      issueCommentJson(context.json, repo, repo.conversation.editComment(Number(id), stringField(request, "body"))),
    ],
  ],
  ["POST", /^\/issues\/comments\/(\d+)\/reactions$/, react],
  ["GET", /^\/activity$/, activity],
  ["GET", /^\/codeowners\/errors$/, codeownersErrors],
];

/** Answers a request under `/repos/{owner}/{repo}` for `repo`. */
export function repoRoute(context: RepoRouteContext, repo: Repository, request: RestRequest, rest: string): RestResponse | undefined {
  for (const [method, pattern, handler] of ROUTES) {
    const match = method === request.method ? pattern.exec(rest) : null;
    if (!match) continue;
    // These writes act as the app (its comments, check runs, reactions); a person's token may only read here.
    if (request.auth.kind === "user" && method !== "GET")
      return error(403, "the local GitHub takes this write only from the app's installation token");
    try {
      return handler(context, repo, request, match.slice(1));
    } catch (caught) {
      if (caught instanceof ConversationError) return error(caught.status, caught.message);
      if (caught instanceof PullRequestError || caught instanceof ActivityQueryError) return error(422, caught.message);
      throw caught;
    }
  }
  return undefined;
}

function listPulls(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  const query = request.url.searchParams;
  const state = query.get("state") ?? "open";
  const sort = query.get("sort") ?? "created";
  if (!["open", "closed", "all"].includes(state) || !["created", "updated", "popularity", "long-running"].includes(sort))
    return error(422, "Validation Failed");
  // "Default: desc when sort is created or sort is not specified, otherwise asc."
  const direction = query.get("direction") ?? (sort === "created" ? "desc" : "asc");
  const key = (pull: { createdAt: Date; updatedAt: Date }) => (sort === "updated" ? pull.updatedAt : pull.createdAt).getTime();
  const pulls = [...repo.pulls.values()]
    .filter((pull) => state === "all" || pull.state === state)
    .filter((pull) => !query.get("base") || pull.baseRef === query.get("base"))
    .sort((a, b) => (direction === "asc" ? key(a) - key(b) : key(b) - key(a)));
  return page(
    context,
    request,
    pulls.map((pull) => pullJson(context.json, repo, pull, "summary")),
  );
}

function collaboratorPermission(context: RepoRouteContext, repo: Repository, _request: RestRequest, [login]: string[]): RestResponse {
  const account = context.accounts.find(decodeURIComponent(login!));
  const role = account ? context.roleOf(repo, account.login) : undefined;
  return account && role ? [200, permissionJson(context.json, account.login, role)] : NOT_FOUND();
}

/**
 * "Lists the merged pull request that introduced the commit to the repository. If the commit is not
 * present in the default branch, it will return merged and open pull requests associated with the
 * commit." A merged pull request introduced the commits its merge landed and the ones it carried.
 */
function pullsForCommit(context: RepoRouteContext, repo: Repository, _request: RestRequest, [ref]: string[]): RestResponse {
  const commit = repo.resolve(decodeURIComponent(ref!));
  if (!commit) return error(422, `No commit found for SHA: ${ref}`);
  const defaultTip = repo.branch(repo.defaultBranch);
  const onDefault = defaultTip !== undefined && repo.objects.isAncestor(commit.sha, defaultTip);
  const pulls = [...repo.pulls.values()].filter((pull) => {
    const carried = pull.headSha === commit.sha || repo.changes(pull).commits.some((candidate) => candidate.sha === commit.sha);
    const landed = pull.merged?.landed.includes(commit.sha) ?? false;
    return pull.merged ? landed || carried : !onDefault && carried;
  });
  return [200, pulls.map((pull) => pullJson(context.json, repo, pull, "summary"))];
}

function blob(context: RepoRouteContext, repo: Repository, _request: RestRequest, [sha]: string[]): RestResponse {
  const bytes = repo.objects.blob(sha!);
  return bytes ? [200, blobJson(context.json, repo, sha!, bytes)] : NOT_FOUND();
}

function getCheckRun(context: RepoRouteContext, repo: Repository, _request: RestRequest, [id]: string[]): RestResponse {
  const run = repo.conversation.checkRuns.find((candidate) => candidate.id === Number(id));
  return run ? [200, checkRunJson(context.json, repo, run, context.app)] : NOT_FOUND();
}

function react(context: RepoRouteContext, repo: Repository, request: RestRequest, [id]: string[]): RestResponse {
  const { reaction, created } = repo.conversation.react(Number(id), botLogin(context), stringField(request, "content"));
  // "A response with an HTTP 200 status means that you already added the reaction type".
  return [created ? 201 : 200, reactionJson(context.json, reaction)];
}

function activity(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  const query = request.url.searchParams;
  const result = repo.activity.list(
    {
      direction: query.get("direction"),
      perPage: query.get("per_page"),
      before: query.get("before"),
      after: query.get("after"),
      ref: query.get("ref"),
      actor: query.get("actor"),
      activityType: query.get("activity_type"),
      timePeriod: query.get("time_period"),
    },
    context.clock.now(),
  );
  const link = (cursorName: "after" | "before", cursor: string, rel: string) => {
    const url = new URL(context.urls.api(request.path));
    for (const [key, value] of query) if (key !== "after" && key !== "before") url.searchParams.set(key, value);
    url.searchParams.set(cursorName, cursor);
    return `<${url.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(result.next ? [link("after", result.next, "next")] : []),
    ...(result.prev ? [link("before", result.prev, "prev")] : []),
  ];
  return [200, result.entries.map((entry) => activityJson(context.json, entry)), links.length > 0 ? { link: links.join(", ") } : {}];
}

function codeownersErrors(context: RepoRouteContext, repo: Repository, request: RestRequest): RestResponse {
  // "Default: the repository's default branch".
  const ref = request.url.searchParams.get("ref") ?? repo.defaultBranch;
  if (!repo.resolve(ref)) return NOT_FOUND();
  const errors = context.codeownersErrors(repo, ref);
  return errors ? [200, { errors }] : NOT_FOUND();
}

function withPull(repo: Repository, number: string | undefined, answer: (pull: PullOf) => RestResponse): RestResponse {
  const pull = repo.pulls.get(Number(number));
  return pull ? answer(pull) : NOT_FOUND();
}

function withCommit(
  repo: Repository,
  sha: string,
  answer: (commit: NonNullable<ReturnType<Repository["resolve"]>>) => RestResponse,
): RestResponse {
  const commit = repo.objects.commit(sha);
  return commit ? answer(commit) : NOT_FOUND();
}

function appIdentity(context: RouteContext) {
  return { id: context.app.id, slug: context.app.slug, name: context.app.name, owner: context.app.owner };
}

function botLogin(context: RouteContext): string {
  return `${context.app.slug}[bot]`;
}

function bodyOf(request: RestRequest): Record<string, unknown> {
  return typeof request.body === "object" && request.body !== null ? (request.body as Record<string, unknown>) : {};
}

function stringField(request: RestRequest, name: string): string {
  const value = bodyOf(request)[name];
  if (typeof value !== "string") throw new ConversationError(422, `${name} is required`);
  return value;
}
