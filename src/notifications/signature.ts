/**
 * Webhook signatures, GitHub's scheme: `X-Jitsudo-Signature-256: sha256=<hex HMAC-SHA256 of the
 * raw body>` with the operator's JITSUDO_WEBHOOK_SECRET. Pure; receivers verify with the same code.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-Jitsudo-Signature-256";
export const EVENT_ID_HEADER = "X-Jitsudo-Event-Id";
export const EVENT_TYPE_HEADER = "X-Jitsudo-Event";

export function sign(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time check of a received signature against the raw body. */
export function verify(secret: string, body: string | Uint8Array, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = Buffer.from(sign(secret, body));
  const received = Buffer.from(signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}
