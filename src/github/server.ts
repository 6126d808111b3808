/**
 * The HTTP server: Probot's own (webhook signature checks, the manifest flow, logging) with our
 * app loaded. Without APP_ID it serves Probot's manifest set-up to register the app from app.yml.
 */
import { Probot, ProbotOctokit, Server, run, type ApplicationFunction } from "probot";
import type { Logger } from "pino";
import { apiHandler, type ApiOptions } from "../api/http-api.js";
import { githubApiBaseUrl, type AppConfig } from "../config/env.js";
import { Metrics } from "../metrics.js";
import { PacedOctokit } from "./paced-octokit.js";

export interface ServerOptions {
  config: AppConfig;
  log: Logger;
  app: ApplicationFunction;
  /** The operator endpoints (/healthz, /readyz, /metrics, /api/grants). */
  api?: Omit<ApiOptions, "log">;
  /** Tests pass an Octokit without retries so failures surface at once; production paces by GitHub's documented limits. */
  Octokit?: typeof ProbotOctokit;
}

/** The app's GitHub client outside the webhook server, for background jobs; undefined before set-up. */
export function appClient(config: AppConfig, log: Logger, Octokit?: typeof ProbotOctokit): Probot | undefined {
  const { appId, privateKey } = config.github;
  if (appId === undefined || privateKey === undefined) return undefined;
  return new Probot({ appId, privateKey, baseUrl: githubApiBaseUrl(config), log, Octokit: Octokit ?? PacedOctokit });
}

export async function startServer({ config, log, app, api, Octokit }: ServerOptions): Promise<Server> {
  const { appId, privateKey, webhookSecret } = config.github;
  if (appId === undefined || privateKey === undefined || webhookSecret === undefined) {
    log.warn("APP_ID is not set: starting GitHub App registration from app.yml (open the printed URL)");
    return run(app);
  }
  const server = new Server({
    Probot: Probot.defaults({
      appId,
      privateKey,
      secret: webhookSecret,
      baseUrl: githubApiBaseUrl(config),
      log,
      Octokit: Octokit ?? PacedOctokit,
    }),
    port: config.port,
    host: config.host ?? "0.0.0.0",
    log,
    enableStaticFiles: false,
  });
  await server.load(app);
  server.addHandler(apiHandler({ metrics: new Metrics(), ...api, log }));
  await server.start();
  return server;
}
