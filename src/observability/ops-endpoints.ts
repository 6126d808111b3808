/**
 * The operator endpoints every role serves on PORT:
 *
 *   GET /healthz   the process is up and its event loop turns (liveness; the image's HEALTHCHECK)
 *   GET /readyz    it can do its job (readiness): 200 with each check, or 503 with the reasons
 *   GET /metrics   Prometheus's text exposition
 *
 * They answer anyone (probes and Prometheus do not authenticate): they show no secret, and what they
 * read from the database is cached (src/observability/readiness.ts, database-gauges.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HttpHandler } from "../http/server.js";
import type { Log } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { Readiness } from "./readiness.js";

export interface OpsOptions {
  metrics: Metrics;
  readiness: Readiness;
  log: Log;
}

export function opsHandler({ metrics, readiness, log }: OpsOptions): HttpHandler {
  const routes: Record<string, () => Promise<Reply>> = {
    "/healthz": () => Promise.resolve({ status: 200, type: JSON_TYPE, body: `${JSON.stringify({ status: "ok" })}\n` }),
    "/readyz": async () => {
      const report = await readiness.report();
      const body = { status: report.ready ? "ready" : "not ready", checks: report.checks };
      return { status: report.ready ? 200 : 503, type: JSON_TYPE, body: `${JSON.stringify(body)}\n` };
    },
    "/metrics": async () => ({ status: 200, type: metrics.contentType, body: await metrics.render() }),
  };
  return async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0]!;
    const route = routes[path];
    if (!route) return false;
    let reply: Reply;
    if (request.method !== "GET" && request.method !== "HEAD") {
      reply = {
        status: 405,
        type: JSON_TYPE,
        body: `${JSON.stringify({ error: `${request.method} is not allowed here` })}\n`,
        allow: "GET",
      };
    } else {
      try {
        reply = await route();
      } catch (error) {
        log.error({ err: error, path }, "operator endpoint failed");
        reply = { status: 500, type: JSON_TYPE, body: `${JSON.stringify({ error: "internal error; see the log" })}\n` };
      }
    }
    response.writeHead(reply.status, {
      "content-type": reply.type,
      "cache-control": "no-store",
      ...(reply.allow ? { allow: reply.allow } : {}),
    });
    response.end(request.method === "HEAD" ? undefined : reply.body);
    return true;
  };
}

const JSON_TYPE = "application/json; charset=utf-8";

interface Reply {
  status: number;
  type: string;
  body: string;
  allow?: string;
}
