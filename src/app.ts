/**
 * The Probot application: wiring only. Every handler lives in src/github and calls into the
 * domain; this file decides which parts are switched on.
 */
import type { ApplicationFunction } from "probot";
import { registerPullRequestHandlers } from "./github/handlers.js";

export interface AppOptions {
  /** Injectable clock, so tests and the demo control time. */
  now?: () => Date;
}

export function createApp(options: AppOptions = {}): ApplicationFunction {
  const now = options.now ?? (() => new Date());
  return (app) => {
    registerPullRequestHandlers(app, { now });
  };
}
