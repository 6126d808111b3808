/**
 * Structured JSON logs (pino, as Probot uses). Secrets are redacted by key wherever they appear,
 * as a second line of defence behind never logging them in the first place.
 */
import { pino, type Logger } from "pino";
import type { LogLevel } from "./config/env.js";

export const REDACTED_KEYS = [
  "privateKey",
  "private_key",
  "webhookSecret",
  "secret",
  "token",
  "authorization",
  "password",
  "SecretAccessKey",
  "SessionToken",
];

export function createLogger(level: LogLevel = "info", destination?: NodeJS.WritableStream): Logger {
  const paths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  const options = { level, name: "jitsudo", redact: { paths, censor: "[redacted]" } };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

/** The little of a logger the domain code uses: pino's, Probot's per-event child, or a test's. */
export interface Log {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
