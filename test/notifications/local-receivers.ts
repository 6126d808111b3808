/**
 * A local Slack (chat.postMessage, as Slack's Web API answers it) and a local webhook receiver
 * that verifies jitsudo's signature and deduplicates by event id, as a real receiver should.
 * Each can be "down": answering 500, or not listening at all (connection refused).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verify } from "../../src/notifications/signature.js";
import type { NotificationBody } from "../../src/notifications/events.js";

export type Mode = "up" | "error" | "refused";

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** An HTTP server on a fixed loopback port that can stop listening and start again on it. */
class Restartable {
  private server?: Server;
  port = 0;
  constructor(private readonly handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>) {}

  async listen(): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

abstract class LocalReceiver {
  protected readonly http: Restartable;
  mode: Mode = "up";
  /** Requests answered with an error or refused meanwhile are not here. */
  attempts = 0;

  constructor() {
    this.http = new Restartable((request, response) => this.serve(request, response));
  }

  protected abstract serve(request: IncomingMessage, response: ServerResponse): Promise<void>;

  async start(): Promise<this> {
    await this.http.listen();
    return this;
  }

  get port(): number {
    return this.http.port;
  }

  async setMode(mode: Mode): Promise<void> {
    if (mode === "refused" && this.mode !== "refused") await this.http.close();
    if (mode !== "refused" && this.mode === "refused") await this.http.listen();
    this.mode = mode;
  }

  stop(): Promise<void> {
    return this.http.close();
  }
}

export class LocalSlack extends LocalReceiver {
  readonly messages: { channel: string; text: string; link_names?: unknown }[] = [];
  constructor(readonly token: string) {
    super();
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  protected async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.attempts += 1;
    const raw = await readBody(request);
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      response.end(JSON.stringify(body));
    };
    if (this.mode === "error") return reply(500, { ok: false, error: "internal_error" });
    if (request.url !== "/api/chat.postMessage") return reply(404, { ok: false, error: "unknown_method" });
    // Slack answers 200 with ok:false for a bad token, as for every API error.
    if (request.headers.authorization !== `Bearer ${this.token}`) return reply(200, { ok: false, error: "invalid_auth" });
    const type = String(request.headers["content-type"] ?? "");
    const args = (type.includes("json") ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw))) as Record<
      string,
      string | undefined
    >;
    if (!args.channel) return reply(200, { ok: false, error: "channel_not_found" });
    if (!args.text) return reply(200, { ok: false, error: "no_text" });
    const message = { channel: args.channel, text: args.text, link_names: args.link_names };
    this.messages.push(message);
    reply(200, {
      ok: true,
      channel: "C0ACCESS01",
      ts: `${Math.floor(Date.now() / 1000)}.${String(this.messages.length).padStart(6, "0")}`,
      message: { type: "message", subtype: "bot_message", text: message.text, bot_id: "B0JITSUDO" },
    });
  }
}

export class LocalWebhookReceiver extends LocalReceiver {
  /** Every verified delivery, repeats included. */
  readonly received: NotificationBody[] = [];
  readonly badSignatures: string[] = [];
  readonly headers: Record<string, string | string[] | undefined>[] = [];
  constructor(readonly secret: string) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/jitsudo`;
  }

  /** What a receiver keeps: each event once, by id, in arrival order. */
  get unique(): NotificationBody[] {
    return [...new Map(this.received.map((body) => [body.id, body])).values()];
  }

  protected async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.attempts += 1;
    const raw = await readBody(request);
    if (this.mode === "error") {
      response.writeHead(500).end();
      return;
    }
    if (!verify(this.secret, raw, request.headers["x-jitsudo-signature-256"] as string | undefined)) {
      this.badSignatures.push(raw);
      response.writeHead(401).end();
      return;
    }
    const body = JSON.parse(raw) as NotificationBody;
    if (request.headers["x-jitsudo-event-id"] !== body.id) {
      response.writeHead(400).end();
      return;
    }
    this.headers.push(request.headers);
    this.received.push(body);
    response.writeHead(204).end();
  }
}
