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
import { Probot, ProbotOctokit, run, type ApplicationFunction } from "probot";
import type { Logger } from "pino";
import { apiHandler, type ApiOptions } from "../api/http-api.js";
import { githubApiBaseUrl, type AppConfig } from "../config/env.js";
import { startHttpServer, type HttpHandler, type RunningServer } from "../http/server.js";
import { opsHandler, type OpsOptions } from "../observability/ops-endpoints.js";
import { PacedOctokit } from "./paced-octokit.js";

export type { HttpHandler, RunningServer } from "../http/server.js";

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
  /** The grants API (/api/grants). */
  api?: Omit<ApiOptions, "log">;
  /** The operator endpoints every role serves (/healthz, /readyz, /metrics). */
  ops: Omit<OpsOptions, "log">;
  /** Tests pass an Octokit without retries so failures surface at once; production paces by GitHub's documented limits. */
  Octokit?: typeof ProbotOctokit;
}

/** The app's GitHub client outside the webhook server, for background jobs; undefined before set-up. */
export function appClient(config: AppConfig, log: Logger, Octokit?: typeof ProbotOctokit): Probot | undefined {
  const { appId, privateKey } = config.github;
  if (appId === undefined || privateKey === undefined) return undefined;
  return new Probot({ appId, privateKey, baseUrl: githubApiBaseUrl(config), log, Octokit: Octokit ?? PacedOctokit });
}

export async function startServer({ config, log, app, webhookDoor, api, ops, Octokit }: ServerOptions): Promise<RunningServer> {
  const { appId, privateKey, webhookSecret } = config.github;
  if (appId === undefined || privateKey === undefined || webhookSecret === undefined) {
    log.warn("APP_ID is not set: starting GitHub App registration from app.yml (open the printed URL)");
    const setup = await run(app, { log });
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
  const handlers = [door, ...added, opsHandler({ ...ops, log }), apiHandler({ ...api, log })];
  const server = await startHttpServer(handlers, { port: config.port, ...(config.host ? { host: config.host } : {}) }, log);
  log.info({ port: server.port, webhookPath: WEBHOOK_PATH }, "listening");
  return server;
}
