/**
 * The local GitHub over HTTP, as a GitHub Enterprise Server on a loopback port: jitsudo reaches it
 * with GHE_HOST=127.0.0.1:<port> and GHE_PROTOCOL=http, through the same Probot and Octokit code
 * that talks to github.com. For the demo, which runs without a GitHub App.
 */
import { createServer } from "node:http";
import { freePort } from "../net.js";
import { LocalGitHub, type LocalGitHubOptions } from "./github.js";

export interface RunningLocalGitHub {
  github: LocalGitHub;
  /** host:port, for GHE_HOST. */
  host: string;
  stop(): Promise<void>;
}

export async function startLocalGitHub(
  options: Omit<LocalGitHubOptions, "origin" | "webOrigin" | "apiPrefix" | "graphqlPath"> = {},
): Promise<RunningLocalGitHub> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const github = LocalGitHub.enterprise(host, { ...options, protocol: "http" });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        const [status, body, headers] = github.handle(
          request.method ?? "GET",
          request.url ?? "/",
          Buffer.concat(chunks).toString("utf8"),
          request.headers,
        );
        response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
        response.end(JSON.stringify(body));
      } catch (error) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ message: `local GitHub failed: ${error instanceof Error ? error.message : String(error)}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    github,
    host,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
