/**
 * The one HTTP server shape every role runs on PORT: a list of handlers, each asked in turn until one
 * answers, else 404. The server role puts the webhook door and the grants API in the list; every role
 * puts the operator endpoints (/healthz, /readyz, /metrics) there.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Log } from "../observability/logger.js";

/** Answers a request and resolves true, or resolves false to let the next handler try (Probot's handler shape). */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void | boolean | Promise<void | boolean>;

/** A reply to a read-only route: written uncached, its body left out for HEAD. */
export interface HttpReply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON reply (one line, newline-terminated). */
export function jsonReply(status: number, body: unknown, headers?: Record<string, string>): HttpReply {
  return { status, type: JSON_TYPE, body: `${JSON.stringify(body)}\n`, ...(headers ? { headers } : {}) };
}

/**
 * Answers a read-only route (the grants API, the operator endpoints): methods other than GET and
 * HEAD get 405; an answer that throws gets `failed`'s 500, after it was logged by the caller's
 * `failed`; nothing is cached by clients or proxies.
 */
export async function answerReadOnly(
  request: IncomingMessage,
  response: ServerResponse,
  answer: () => Promise<HttpReply>,
  failed: (error: unknown) => HttpReply,
): Promise<true> {
  let reply: HttpReply;
  if (request.method !== "GET" && request.method !== "HEAD") {
    reply = jsonReply(405, { error: `${request.method} is not allowed; this API is read-only` }, { allow: "GET" });
  } else {
    try {
      reply = await answer();
    } catch (error) {
      reply = failed(error);
    }
  }
  response.writeHead(reply.status, { "content-type": reply.type, "cache-control": "no-store", ...reply.headers });
  response.end(request.method === "HEAD" ? undefined : reply.body);
  return true;
}

export interface Listening {
  port: number;
  host?: string;
}

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

export async function startHttpServer(handlers: HttpHandler[], where: Listening, log: Log): Promise<RunningServer> {
  const serve = servingWith(handlers, log);
  const server = createServer((request, response) => void serve(request, response));
  // GitHub gives up on a delivery after 10 s: a request still sending its headers or body after 15
  // is no webhook, and holds a socket and a buffer for nothing (Node's own limit is 5 minutes).
  server.headersTimeout = 15_000;
  server.requestTimeout = 15_000;
  await listen(server, where);
  const { port } = server.address() as AddressInfo;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Idle keep-alive connections would hold close() open.
        server.closeIdleConnections();
      }),
  };
}

/** Each request goes to the first handler that answers it, else 404. */
function servingWith(handlers: HttpHandler[], log: Log): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    try {
      for (const handler of handlers) if (await handler(request, response)) return;
      response.writeHead(404).end();
    } catch (error) {
      // Nothing a request sends crashes the server; it is answered 500 and logged. A client that
      // went away mid-request is its own business, not an error of ours.
      const where = { method: request.method, path: request.url?.split("?")[0] };
      if (request.destroyed && !request.complete) {
        log.debug?.({ ...where, err: error }, "the client went away mid-request");
        return;
      }
      log.error({ err: error, ...where }, "request failed");
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  };
}

function listen(server: Server, where: Listening): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`port ${where.port} is already in use: set PORT to another one`) : error),
    );
    server.listen({ port: where.port, host: where.host ?? "0.0.0.0" }, () => resolve());
  });
}
