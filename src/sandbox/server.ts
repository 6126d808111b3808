/**
 * The local Identity Center over HTTP, for the unmodified AWS SDK clients: point
 * `SSOAdminClient`, `IdentitystoreClient`, `OrganizationsClient` and `STSClient` at `url` with
 * their `endpoint` option. One port serves all four services; requests are told apart by their
 * X-Amz-Target header (JSON services) or form body (STS).
 *
 * Nothing a client sends can take the server down: bodies are size-capped, decoding never throws,
 * and an unexpected error inside an operation is answered as InternalServerException.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AwsError } from "./errors.js";
import { LocalIdentityCenter, type LocalIdentityCenterOptions } from "./identity-center.js";
import { decodeRequest, renderError, renderJsonError, renderResponse, type HttpRequestData, type HttpResponseData } from "./protocol.js";

export interface LocalIdentityCenterServerOptions extends LocalIdentityCenterOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: the simulator is for this machine only. */
  host?: string;
}

export interface RunningLocalIdentityCenter {
  /** `http://host:port`, for the SDK clients' `endpoint`. */
  url: string;
  ic: LocalIdentityCenter;
  stop(): Promise<void>;
}

/** Far above any request jitsudo makes; bigger bodies are refused without being held in memory. */
const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

export async function startLocalIdentityCenter(options: LocalIdentityCenterServerOptions = {}): Promise<RunningLocalIdentityCenter> {
  const { port = 0, host = "127.0.0.1", ...icOptions } = options;
  const ic = new LocalIdentityCenter(icOptions);
  const latencyTimers = new Set<NodeJS.Timeout>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const timer = setTimeout(() => {
        latencyTimers.delete(timer);
        resolve();
      }, ms);
      latencyTimers.add(timer);
    });

  const server = createServer((req, res) => {
    // serve() handles its own errors; this catch is the last guard against an unhandled rejection ending the process.
    serve(ic, req, res, delay).catch(() => res.destroy());
  });
  // Malformed HTTP never reaches the handler; answer it and drop the connection.
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${urlHost}:${address.port}`,
    ic,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of latencyTimers) clearTimeout(timer);
        latencyTimers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function serve(
  ic: LocalIdentityCenter,
  req: IncomingMessage,
  res: ServerResponse,
  delay: (ms: number) => Promise<void>,
): Promise<void> {
  const requestId = randomUUID();
  let response: HttpResponseData;
  try {
    const body = await readBody(req);
    response = answer(ic, { method: req.method ?? "", headers: req.headers, body }, requestId);
  } catch (error) {
    const failure =
      error instanceof BodyTooLarge
        ? new AwsError("SerializationException", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`)
        : new AwsError("InternalServerException", "The simulator failed to process the request");
    response = renderJsonError(failure, requestId);
  }
  // Latency is read per response, so setFaults takes effect on the next one.
  await delay(ic.faults.latencyMs);
  if (res.destroyed) return;
  res.writeHead(response.status, { ...response.headers, "content-length": String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}

/** Decode, run, encode: the whole request cycle, free of sockets. */
function answer(ic: LocalIdentityCenter, http: HttpRequestData, requestId: string): HttpResponseData {
  const decoded = decodeRequest(http, requestId);
  if (!decoded.ok) return decoded.response;
  const { service, operation } = decoded.request;
  try {
    return renderResponse(service, operation, ic.invoke(decoded.request), requestId);
  } catch (error) {
    // A non-AwsError is a bug in the simulator; the client sees what AWS shows for its own bugs.
    const failure = error instanceof AwsError ? error : new AwsError("InternalServerException", "Internal server error");
    return renderError(service, failure, requestId);
  }
}

/** The body as text; past the cap, the rest is drained and dropped so memory stays bounded. */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => (size > MAX_BODY_BYTES ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks).toString("utf8"))));
    req.on("error", reject);
  });
}
