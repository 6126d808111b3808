/**
 * The HTTP server: the webhook door, then the operator endpoints, on one port.
 *
 * With a database, the door is jitsudo's inbox intake (src/inbox/intake.ts): verify, store,
 * answer; the handlers run later, from the inbox, through Probot's Context. Without one (a
 * validation-only server) it is Probot's own receiver, which runs the handlers as deliveries arrive.
 * Either way the app is loaded into a Probot instance, which owns the handlers, the installation
 * Octokits and the webhook secret. Without APP_ID it serves Probot's manifest set-up instead, to
 * register the app from app.yml.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Probot, ProbotOctokit, run, type ApplicationFunction } from "probot";
import type { Logger } from "pino";
import { apiHandler, type ApiOptions } from "../api/http-api.js";
import { githubApiBaseUrl, type AppConfig } from "../config/env.js";
import { Metrics } from "../metrics.js";
import { PacedOctokit } from "./paced-octokit.js";

/** Answers a request and resolves true, or resolves false to let the next handler try (Probot's handler shape). */
export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void | boolean | Promise<void | boolean>;

/** Where GitHub delivers webhooks (Probot's and @octokit/webhooks' default path). */
export const WEBHOOK_PATH = "/api/github/webhooks";

export interface ServerOptions {
  config: AppConfig;
  log: Logger;
  app: ApplicationFunction;
  /**
   * The webhook door the app built while loading (the inbox intake); undefined: Probot's receiver.
   * Asked after the app is loaded.
   */
  webhookDoor?: () => HttpHandler | undefined;
  /** The operator endpoints (/healthz, /readyz, /metrics, /api/grants). */
  api?: Omit<ApiOptions, "log">;
  /** Tests pass an Octokit without retries so failures surface at once; production paces by GitHub's documented limits. */
  Octokit?: typeof ProbotOctokit;
}

export interface RunningServer {
  port: number;
  stop(): Promise<void>;
}

/** The app's GitHub client outside the webhook server, for background jobs; undefined before set-up. */
export function appClient(config: AppConfig, log: Logger, Octokit?: typeof ProbotOctokit): Probot | undefined {
  const { appId, privateKey } = config.github;
  if (appId === undefined || privateKey === undefined) return undefined;
  return new Probot({ appId, privateKey, baseUrl: githubApiBaseUrl(config), log, Octokit: Octokit ?? PacedOctokit });
}

export async function startServer({ config, log, app, webhookDoor, api, Octokit }: ServerOptions): Promise<RunningServer> {
  const { appId, privateKey, webhookSecret } = config.github;
  if (appId === undefined || privateKey === undefined || webhookSecret === undefined) {
    log.warn("APP_ID is not set: starting GitHub App registration from app.yml (open the printed URL)");
    const setup = await run(app);
    return { port: setup.port, stop: () => setup.stop() };
  }
  const probot = new Probot({
    appId,
    privateKey,
    secret: webhookSecret,
    baseUrl: githubApiBaseUrl(config),
    log,
    Octokit: Octokit ?? PacedOctokit,
    webhookPath: WEBHOOK_PATH,
  });
  const added: HttpHandler[] = [];
  await probot.load(app, { cwd: process.cwd(), addHandler: (handler: HttpHandler) => added.push(handler) });
  const door = webhookDoor?.() ?? ((await probot.getNodeMiddleware({ path: WEBHOOK_PATH })) as HttpHandler);
  const handlers = [door, ...added, apiHandler({ metrics: new Metrics(), ...api, log })];

  const serve = servingWith(handlers, log);
  const server = createServer((request, response) => void serve(request, response));
  // GitHub gives up on a delivery after 10 s: a request still sending its headers or body after 15
  // is no webhook, and holds a socket and a buffer for nothing (Node's own limit is 5 minutes).
  server.headersTimeout = 15_000;
  server.requestTimeout = 15_000;
  await listen(server, config);
  const { port } = server.address() as AddressInfo;
  log.info({ port, webhookPath: WEBHOOK_PATH }, "listening");
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
function servingWith(handlers: HttpHandler[], log: Logger): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  return async (request, response) => {
    try {
      for (const handler of handlers) if (await handler(request, response)) return;
      response.writeHead(404).end();
    } catch (error) {
      // Nothing a request sends crashes the server; it is answered 500 and logged. A client that
      // went away mid-request is its own business, not an error of ours.
      const where = { method: request.method, path: request.url?.split("?")[0] };
      if (request.destroyed && !request.complete) {
        log.debug({ ...where, err: error }, "the client went away mid-request");
        return;
      }
      log.error({ err: error, ...where }, "request failed");
      if (!response.headersSent) response.writeHead(500);
      response.end();
    }
  };
}

function listen(server: Server, config: AppConfig): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "EADDRINUSE" ? new Error(`port ${config.port} is already in use: set PORT to another one`) : error),
    );
    server.listen({ port: config.port, host: config.host ?? "0.0.0.0" }, () => resolve());
  });
}
