/**
 * Webhook deliveries as GitHub makes them: a JSON body signed with the app's webhook secret
 * (X-Hub-Signature-256), POSTed to the app's webhook path on its own connection.
 */
import { createHmac, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";

export const WEBHOOK_PATH = "/api/github/webhooks";

/** Delivers one event; resolves with the HTTP status the app answered. A redelivery keeps its delivery id. */
export function deliverWebhook(baseUrl: string, secret: string, name: string, payload: unknown, deliveryId: string = randomUUID()): Promise<number> {
  const body = JSON.stringify(payload);
  const url = new URL(WEBHOOK_PATH, baseUrl);
  const headers = {
    "content-type": "application/json",
    "x-github-event": name,
    "x-github-delivery": deliveryId,
    "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
  };
  return new Promise((resolve, reject) => {
    // No keep-alive: stopping the server never waits on an idle socket.
    const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers, agent: false }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}
