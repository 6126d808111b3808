/**
 * The local GitHub (`src/sandbox/github.ts`) with GitHub's API intercepted at HTTP by nock, so
 * the real Probot Octokit in the test process talks to it as to api.github.com.
 */
import nock from "nock";
import { LocalGitHub } from "../../src/sandbox/github.js";

export { APP_ID, BOT_LOGIN, INSTALLATION_ID, REPOSITORY_ID } from "../../src/sandbox/github.js";

export class FakeGitHub extends LocalGitHub {
  private started = false;

  start(): void {
    if (this.started) return; // shared by several servers (replicas) in one test
    this.started = true;
    // The reply callback's own `this` is nock's (it holds the request's headers), so the local
    // GitHub is reached through an arrow function instead.
    const handle = (...request: Parameters<LocalGitHub["handle"]>) => this.handle(...request);
    let scope = nock(this.origin).persist();
    for (const method of ["get", "post", "patch", "put", "delete"] as const) {
      scope = scope[method](/.*/)
        .delay(this.latencyMs)
        .reply(function (uri, body) {
          return handle(method.toUpperCase(), uri, body, this.req.headers);
        });
    }
  }

  stop(): void {
    this.started = false;
    nock.cleanAll();
  }
}
