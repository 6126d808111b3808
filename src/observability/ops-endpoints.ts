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
import { answerReadOnly, jsonReply, type HttpHandler, type HttpReply } from "../http/server.js";
import type { Log } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { Readiness } from "./readiness.js";

export interface OpsOptions {
  metrics: Metrics;
  readiness: Readiness;
  log: Log;
}

export function opsHandler({ metrics, readiness, log }: OpsOptions): HttpHandler {
  const routes: Record<string, () => Promise<HttpReply>> = {
    "/healthz": () => Promise.resolve(jsonReply(200, { status: "ok" })),
    "/readyz": async () => {
      const report = await readiness.report();
      return jsonReply(report.ready ? 200 : 503, { status: report.ready ? "ready" : "not ready", checks: report.checks });
    },
    "/metrics": async () => ({ status: 200, type: metrics.contentType, body: await metrics.render() }),
  };
  return (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0]!;
    const route = routes[path];
    if (!route) return false;
    return answerReadOnly(request, response, route, (error) => {
      log.error({ err: error, path }, "operator endpoint failed");
      return jsonReply(500, { error: "internal error; see the log" });
    });
  };
}
