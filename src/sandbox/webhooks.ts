/**
 * Webhook deliveries as GitHub makes them: a JSON body signed with the app's webhook secret
 * (X-Hub-Signature-256), POSTed to the app's webhook path on its own connection.
 */
import { createHmac, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";

import { WEBHOOK_PATH } from "../github/server.js";

export { WEBHOOK_PATH };

/** A delivery as GitHub sends it: the body and its headers, signed with the webhook secret. */
export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

export function signDelivery(secret: string, name: string, payload: unknown, deliveryId: string = randomUUID()): SignedDelivery {
  const body = JSON.stringify(payload);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": name,
      "x-github-delivery": deliveryId,
      "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
    },
  };
}

/** Sends a signed delivery; resolves with the HTTP status the app answered. */
export function sendDelivery(baseUrl: string, delivery: SignedDelivery): Promise<number> {
  const url = new URL(WEBHOOK_PATH, baseUrl);
  return new Promise((resolve, reject) => {
    // No keep-alive: stopping the server never waits on an idle socket.
    const request = httpRequest(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: delivery.headers, agent: false },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      },
    );
    request.on("error", reject);
    request.end(delivery.body);
  });
}

/** Delivers one event; resolves with the HTTP status the app answered. A redelivery keeps its delivery id. */
export function deliverWebhook(
  baseUrl: string,
  secret: string,
  name: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<number> {
  return sendDelivery(baseUrl, signDelivery(secret, name, payload, deliveryId));
}
