/**
 * The grants API, served by the server role beside the webhook path (the operator endpoints
 * /healthz, /readyz and /metrics are every role's: src/observability/ops-endpoints.ts):
 *
 *   GET /api/grants       grants, newest first; ?status=active&account=123456789012&repo=o/r&unreviewed=true&limit=100
 *                         (unreviewed=true: break-glass grants no code owner has reviewed yet)
 *   GET /api/grants/:id   one grant with its whole event history
 *   GET /api/events       every grant event in commit order, for a SIEM: ?after=<cursor>&limit=100 (src/api/events-api.ts)
 *
 * The grants API is read-only and needs `Authorization: Bearer <JITSUDO_API_TOKEN>`; without a
 * token configured it is off. Tokens are compared as SHA-256 digests in constant time, so neither
 * their length nor their content leaks through timing. Every error is a JSON body with a reason;
 * nothing a request sends can crash the server.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Knex } from "knex";
import { eventsOfGrant, findGrants, grantForApi, type GrantFilter } from "../grants/grant-repository.js";
import { GRANT_STATUSES, isGrantStatus } from "../grants/lifecycle.js";
import { listEvents } from "./events-api.js";
import type { Log } from "../observability/logger.js";
import { answerReadOnly, jsonReply } from "../http/server.js";

export interface ApiOptions {
  /** Without a database (a validation-only server) the grants API is off. */
  db?: Knex;
  log: Log;
  /** JITSUDO_API_TOKEN; unset: the grants API answers 404. */
  token?: string;
  /** Where pull requests are on the web (githubWebUrl), for the events' links; default github.com. */
  webBaseUrl?: string;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACCOUNT = /^(\d{12}|[\w .+=,@-]{1,50})$/;
const REPO = /^[\w.-]+\/[\w.-]+$/;
const MAX_LIMIT = 1000;

/** Columns the API shows: everything an auditor needs, nothing internal to the workers. */

const sha256 = (text: string) => createHash("sha256").update(text).digest();

export function apiHandler(options: ApiOptions): Handler {
  const { db } = options;
  const expected = options.token && db ? sha256(options.token) : undefined;
  const routes: [RegExp, (match: RegExpExecArray, url: URL, request: IncomingMessage) => Promise<Reply>][] = [
    [/^\/api\/grants$/, (_match, url, request) => guarded(request, () => listGrants(db!, url))],
    [/^\/api\/grants\/([^/]+)$/, (match, _url, request) => guarded(request, () => oneGrant(db!, match[1]!))],
    [/^\/api\/events$/, (_match, url, request) => guarded(request, () => listEvents(db!, url, options.webBaseUrl ?? "https://github.com"))],
  ];

  const guarded = async (request: IncomingMessage, answer: () => Promise<Reply>): Promise<Reply> => {
    if (!expected) return { status: 404, body: { error: "the grants API is disabled; set JITSUDO_API_TOKEN to enable it" } };
    const header = request.headers.authorization ?? "";
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (!token || !timingSafeEqual(sha256(token), expected)) {
      return {
        status: 401,
        body: { error: "send Authorization: Bearer <JITSUDO_API_TOKEN>" },
        headers: { "www-authenticate": 'Bearer realm="jitsudo"' },
      };
    }
    return answer();
  };

  return async (request, response) => {
    const url = new URL(request.url ?? "/", "http://jitsudo.local");
    const route = routes.map(([pattern, answer]) => [pattern.exec(url.pathname), answer] as const).find(([match]) => match);
    if (!route) return false;
    return answerReadOnly(
      request,
      response,
      async () => {
        const reply = await route[1](route[0]!, url, request);
        return jsonReply(reply.status, reply.body, reply.headers);
      },
      (error) => {
        options.log.error({ err: error, path: url.pathname }, "HTTP API request failed");
        return jsonReply(500, { error: "internal error; see the server log" });
      },
    );
  };
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

async function listGrants(db: Knex, url: URL): Promise<Reply> {
  const params = url.searchParams;
  const unknown = [...params.keys()].filter((key) => !["status", "account", "repo", "unreviewed", "limit"].includes(key));
  if (unknown.length)
    return bad(`unknown parameter ${unknown.map((key) => `"${key}"`).join(", ")}; use status, account, repo, unreviewed, limit`);
  const filter: GrantFilter = {};
  const status = params.get("status");
  if (status !== null) {
    if (!isGrantStatus(status)) return bad(`status "${status}" is not one of ${GRANT_STATUSES.join(", ")}`);
    filter.status = status;
  }
  const account = params.get("account");
  if (account !== null) {
    if (!ACCOUNT.test(account)) return bad("account must be a 12-digit account id or an account name");
    filter.account = account;
  }
  const repo = params.get("repo");
  if (repo !== null) {
    if (!REPO.test(repo)) return bad("repo must be owner/name");
    filter.repo = repo;
  }
  const unreviewed = params.get("unreviewed");
  if (unreviewed !== null) {
    if (unreviewed !== "true" && unreviewed !== "false") return bad("unreviewed must be true or false");
    filter.unreviewed = unreviewed === "true";
  }
  const limitText = params.get("limit") ?? "100";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return bad(`limit must be a whole number from 1 to ${MAX_LIMIT}`);
  const grants = await findGrants(db, filter, limit);
  return { status: 200, body: { grants: grants.map(presentGrant) } };
}

async function oneGrant(db: Knex, id: string): Promise<Reply> {
  if (!UUID.test(id)) return bad(`"${id.slice(0, 60)}" is not a grant id (a UUID)`);
  const grant = await grantForApi(db, id);
  if (!grant) return { status: 404, body: { error: `no grant ${id}` } };
  const events = await eventsOfGrant(db, id);
  return { status: 200, body: { grant: presentGrant(grant), events: events.map((event) => ({ ...event, id: String(event.id) })) } };
}

function presentGrant(row: Record<string, unknown>): Record<string, unknown> {
  return { ...row, tenant: String(row.tenant) };
}

function bad(error: string): Reply {
  return { status: 400, body: { error } };
}
