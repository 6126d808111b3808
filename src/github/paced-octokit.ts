/**
 * Probot's Octokit, with GraphQL queries paced the way GitHub documents its limits.
 *
 * @octokit/plugin-throttling sends every GraphQL request through its write queue: one request a
 * second per installation. jitsudo's GraphQL calls are read-only queries (the PR's timeline, a
 * batch of files at a commit), and a merge verdict needs three of them, so a burst of merges waited
 * seconds per merge in that queue, behind the installation's comment edits, before any grant was
 * recorded (measured: 20 merges took 150 s to reach their last create; see the webhook-burst
 * benchmark). GitHub's own limits are:
 *
 * - a query without a mutation costs 1 point of 2,000 a minute on the GraphQL endpoint (one every
 *   30 ms at most);
 * - mutating calls (REST POST/PATCH/PUT/DELETE, GraphQL mutations) should be at least a second
 *   apart for one client, and creating content has its own, lower limit (the plugin's notification
 *   queue, kept as it is).
 *
 * So: REST reads go straight to the plugin's concurrency limit; read-only GraphQL queries wait for a
 * 30 ms slot; everything else waits for a 1 s slot, as before. The queues are per installation (the
 * plugin keys them by its `id`, which Probot sets to the installation id). A slot spaces when a
 * request is let in, not when it leaves (it may still wait for a concurrency slot or a token), as
 * in the plugin. The plugin still does the rest: waiting out the primary limit; Probot's own
 * handler logs a secondary limit without retrying. With Probot's Redis clustering (`REDIS_URL`)
 * these groups stay per process: jitsudo does not use Redis.
 *
 * Bottleneck does the queueing (the plugin's own library); this module only decides which queue a
 * request belongs in. The plugin has no option for that, so it is given a `global` group that
 * classifies, and a `write` group that lets everything through (the classifying group already
 * spaced the writes). A test holds the plugin to this behaviour (test/github/paced-octokit.test.ts).
 */
import Bottleneck from "bottleneck";
import { ProbotOctokit } from "probot";

/** GitHub's GraphQL endpoint allows 2,000 points a minute; a query without a mutation costs 1. */
export const GRAPHQL_QUERY_SPACING_MS = 60_000 / 2_000;
/** GitHub asks for at least a second between mutating requests from one client. */
export const WRITE_SPACING_MS = 1_000;
/** Requests one installation may have in flight at once (the plugin's default). */
const CONCURRENT_REQUESTS = 10;

interface RequestOptions {
  method?: string;
  url?: string;
  query?: unknown;
}

type Schedule = (jobOptions: Bottleneck.JobOptions, task: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => Promise<unknown>;
interface LimiterLike {
  schedule: Schedule;
}
interface GroupLike {
  key(id: string): LimiterLike;
}

export type GitHubRequestKind = "read" | "query" | "write";

/** Which of GitHub's limits a request counts against. Unknown shapes count as writes (the strictest). */
export function requestKind(options: RequestOptions): GitHubRequestKind {
  const method = (options.method ?? "GET").toUpperCase();
  if (method === "GET" || method === "HEAD") return "read";
  const pathname = new URL(options.url ?? "/", "http://github.invalid").pathname;
  // github.com serves /graphql; GitHub Enterprise Server serves /api/graphql.
  if (method === "POST" && /(^|\/)graphql$/.test(pathname) && typeof options.query === "string" && isReadOnlyDocument(options.query)) {
    return "query";
  }
  return "write";
}

/**
 * A GraphQL document that cannot be a mutation or subscription: neither word appears anywhere in
 * it. Deliberately blunt: a lexer-free reading of braces and comments can be fooled by string
 * literals (`a(s: "}")`), and a field merely named `mutation` only costs a second's wait.
 */
function isReadOnlyDocument(document: string): boolean {
  return !/\b(mutation|subscription)\b/i.test(document);
}

const noop = () => Promise.resolve();

/** A group that lets every job through at once: the plugin's write wait, made a no-op. */
const passThrough: GroupLike = {
  key: () => ({ schedule: (_jobOptions, task, ...args) => task(...args) }),
};

/** The plugin's concurrency limit, with each request first waiting its turn in the queue for its kind. */
function classifyingGroup(): GroupLike {
  const concurrent = new Bottleneck.Group({ maxConcurrent: CONCURRENT_REQUESTS });
  const queries = new Bottleneck.Group({ maxConcurrent: null, minTime: GRAPHQL_QUERY_SPACING_MS });
  const writes = new Bottleneck.Group({ maxConcurrent: 1, minTime: WRITE_SPACING_MS });
  return {
    key(id) {
      const limiter = concurrent.key(id);
      return {
        async schedule(jobOptions, request, ...args) {
          const kind = requestKind(args[0] ?? {});
          // Wait for a slot, as the plugin does, without holding it through the request.
          if (kind === "query") await queries.key(id).schedule(jobOptions, noop);
          if (kind === "write") await writes.key(id).schedule(jobOptions, noop);
          return limiter.schedule(jobOptions, () => request(...args));
        },
      };
    },
  };
}

/** One set of queues for the process, keyed by installation inside (as the plugin's own groups are). */
const global = classifyingGroup();

/**
 * Probot gives each installation's client the installation id as the throttle `id`, so the queues
 * are per installation: one tenant's writes are spaced, other tenants' are not held behind them.
 */
export const PacedOctokit = ProbotOctokit.defaults((options: { throttle?: object } & Record<string, unknown>) => ({
  ...options,
  throttle: { ...options.throttle, global, write: passThrough },
}));
