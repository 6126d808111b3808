/**
 * The webhook door, with a database: a delivery is read, its signature checked, and it is written
 * to the inbox, then answered. Nothing else happens on the request: the handlers run later, from
 * the inbox, through Probot's Context (src/app.ts).
 *
 * Why not Probot's own receiver for this: it builds an installation Octokit for every delivery
 * before any handler runs and hands the payload on as an object (serialized again to store it).
 * Under a burst of 200 deliveries that was most of the time spent answering them (benchmark
 * webhook-burst). The signature is still checked by @octokit/webhooks (the `verify` Probot's
 * receiver uses, with the app's secret), the body is stored as GitHub sent it, and the answers keep
 * the receiver's shape: 200 once stored, 404 for another method, 415 for another content type, 400
 * for missing headers or a bad signature, 413 past GitHub's 25 MB cap, 503 when the database
 * cannot take it (GitHub then records a failed delivery, which the redelivery job asks for again).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Log } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { inboxEntryFor } from "./deliveries.js";
import type { InboxWriter } from "./inbox-writer.js";
import type { IntakeActivity } from "./intake-activity.js";

/** GitHub caps webhook payloads at 25 MB. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
const JSON_CONTENT = /^\s*application\/json\s*(?:;|$)/;

export interface IntakeOptions {
  path: string;
  /** The app's webhook secret check (Probot's `webhooks.verify`). */
  verify(body: string, signature: string): Promise<boolean>;
  writer: InboxWriter;
  /** Told while a delivery is being received, so processing waits for the answers. */
  activity?: IntakeActivity;
  log: Log;
  metrics?: Metrics;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

export function webhookIntake(options: IntakeOptions): Handler {
  return async (request, response) => {
    if (pathOf(request.url) !== options.path) return false;
    return receive(options, request, response);
  };
}

/** Strict: bytes that are not UTF-8 are refused, never replaced (what is verified is exactly what is stored). */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Past this, a delivery not yet committed is answered 503 (GitHub waits 10 s); if it commits later, its redelivery changes nothing. */
const STORE_TIMEOUT_MS = 8_000;

async function receive(options: IntakeOptions, request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const answer = (status: number, body: unknown): true => {
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    return true;
  };
  if (request.method !== "POST") return answer(404, { error: `Unknown route: ${request.method} ${options.path}` });
  if (!JSON_CONTENT.test(request.headers["content-type"] ?? ""))
    return answer(415, { error: 'Unsupported "Content-Type" header value. Must be "application/json"' });
  const name = header(request, "x-github-event");
  const id = header(request, "x-github-delivery");
  const signature = header(request, "x-hub-signature-256");
  const missing = Object.entries({ "x-github-event": name, "x-hub-signature-256": signature, "x-github-delivery": id })
    .filter(([, value]) => value === undefined)
    .map(([key]) => key);
  if (missing.length > 0) return answer(400, { error: `Required headers missing: ${missing.join(", ")}` });
  const raw = await readBody(request);
  if (raw === undefined) return answer(413, { error: `payload larger than ${MAX_BODY_BYTES} bytes` });
  // Until the signature is checked nothing about the request is trusted: its event name is not a
  // metric label (anyone could mint labels without end), and it does not count as a delivery
  // arriving (anyone could otherwise hold the inbox processor back).
  const unverified = (reason: string) => {
    options.metrics?.webhooks.inc({ event: "unverified", outcome: "failed" });
    options.log.warn(
      { delivery: id, event: name, remote: request.socket.remoteAddress, reason },
      "webhook refused: not a verified delivery",
    );
    return answer(400, { error: reason });
  };
  let body: string;
  try {
    body = utf8.decode(raw);
  } catch {
    return unverified("the payload is not UTF-8");
  }
  if (!(await options.verify(body, signature!).catch(() => false))) return unverified("signature does not match event payload and secret");
  const done = options.activity?.begin();
  try {
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      options.metrics?.webhooks.inc({ event: name!, outcome: "failed" });
      return answer(400, { error: "the payload is not JSON" });
    }
    options.metrics?.webhooks.inc({ event: name!, outcome: "received" });
    const entry = inboxEntryFor({ id: id!, name: name!, payload });
    if (!entry) return answer(200, { ok: true, stored: false });
    try {
      await withTimeout(options.writer.store(entry, raw), STORE_TIMEOUT_MS);
    } catch (error) {
      // Not stored: GitHub records the delivery as failed, and the redelivery job asks for it again.
      options.log.error({ err: error, delivery: id, event: name }, "webhook delivery could not be stored in the inbox");
      options.metrics?.webhooks.inc({ event: name!, outcome: "failed" });
      return answer(503, { error: "the delivery could not be stored; it will be redelivered" });
    }
    return answer(200, { ok: true, stored: true });
  } finally {
    done?.();
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the database did not take the delivery within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function pathOf(url: string | undefined): string {
  const path = (url ?? "/").split("?")[0]!;
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" ? value : undefined;
}

/** The body's bytes, or undefined past GitHub's cap (the rest is not read). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
