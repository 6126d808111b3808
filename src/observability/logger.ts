/**
 * The one logger of a jitsudo process: pino, as Probot uses, handed to Probot too, so Probot's
 * lines and jitsudo's share one format, one level and one redaction. JSON lines in production;
 * readable lines on a terminal (LOG_FORMAT=json|pretty; unset: pretty when stdout is a terminal).
 *
 * Errors are logged as `err`: pino's error serializer keeps the type, message and stack. Secrets are
 * redacted by key wherever they appear, as a second line of defence behind never logging them.
 */
import { pino, type Logger } from "pino";
import { PinoPretty } from "pino-pretty";
import type { LogFormat, LogLevel } from "../config/env.js";

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
  "secretAccessKey",
  "sessionToken",
  "apiToken",
  "databaseUrl",
  "DATABASE_URL",
  "PRIVATE_KEY",
  "WEBHOOK_SECRET",
  "JITSUDO_API_TOKEN",
  "slackBotToken",
  "SLACK_BOT_TOKEN",
  "JITSUDO_WEBHOOK_SECRET",
];

export interface LoggerOptions {
  level?: LogLevel;
  /** Unset: pretty when the destination (default stdout) is a terminal, else JSON. */
  format?: LogFormat;
  /** Default: stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const paths = REDACTED_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);
  const settings = {
    level: options.level ?? "info",
    name: "jitsudo",
    redact: { paths, censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err },
  };
  const destination = options.destination ?? process.stdout;
  const format = options.format ?? ((destination as { isTTY?: boolean }).isTTY ? "pretty" : "json");
  if (format === "pretty") {
    // Formatted in this thread, synchronously: a line is on the terminal before the next starts.
    return pino(settings, PinoPretty({ destination, colorize: (destination as { isTTY?: boolean }).isTTY === true, sync: true }));
  }
  return options.destination ? pino(settings, options.destination as pino.DestinationStream) : pino(settings);
}

/** The little of a logger the domain code uses: pino's, Probot's per-event child, or a test's. */
export interface Log {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
