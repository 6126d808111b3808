/**
 * The one typed configuration object, parsed from the environment once at start. Every problem is
 * collected and reported together, naming the variable and what to set it to, so a misconfigured
 * deployment fails at boot with one readable message instead of later with a stack trace.
 */
import { readFileSync } from "node:fs";
import { parseDuration } from "../parsing/duration.js";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface AppConfig {
  github: {
    /** Unset: `npm start` opens Probot's manifest flow to register the app. */
    appId?: number;
    privateKey?: string;
    webhookSecret?: string;
    /** GitHub Enterprise Server host, e.g. github.example.com. */
    gheHost?: string;
    gheProtocol: "https" | "http";
  };
  /** Unset: an embedded PostgreSQL is started (development and tests). */
  databaseUrl?: string;
  /** A schema of its own inside the database (default: the connection's search path, normally public). */
  databaseSchema?: string;
  /** DATABASE_POOL_MAX: connections this process may hold (default 10). Nothing holds one across a GitHub or AWS call. */
  databasePoolMax: number;
  aws: {
    region?: string;
    /** Required by the worker; the server runs API-only without it. */
    instanceArn?: string;
  };
  reconciliationIntervalMs: number;
  /**
   * JITSUDO_ACCESS_REPOSITORIES: the repositories (`owner/name`, lower-cased) that may grant. When
   * set, every other repository of every installation is ignored (a neutral check says so); jitsudo's
   * own AWS credentials (a tenant config without `aws.role_arn`) serve only these. Unset: any
   * repository may record merges, but only through a tenant role whose trust policy names it.
   */
  accessRepositories?: readonly string[];
  /** Bearer token of the read-only grants API; unset: the API is off. */
  apiToken?: string;
  /** Notifications (src/notifications): the operator's secrets; which channels is each tenant's config. */
  notifications: {
    /** SLACK_BOT_TOKEN: the Slack app's bot token (xoxb-…); unset: Slack channels are not sent to. */
    slackBotToken?: string;
    /** SLACK_API_URL: Slack's Web API base (default https://slack.com/api/), for a proxy or tests. */
    slackApiUrl?: string;
    /** JITSUDO_WEBHOOK_SECRET: signs every webhook (X-Jitsudo-Signature-256); unset: webhooks are not sent. */
    webhookSecret?: string;
    /** JITSUDO_WEBHOOK_ALLOW_LOOPBACK=true: webhooks may go to this host (tests, a local relay); otherwise refused. */
    webhookAllowLoopback?: boolean;
  };
  logLevel: LogLevel;
  /** LOG_FORMAT: JSON lines, or readable lines for a terminal. Unset: pretty on a terminal, else JSON. */
  logFormat?: LogFormat;
  port: number;
  host?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const DEFAULT_RECONCILIATION_INTERVAL_MS = 30_000;
const INSTANCE_ARN = /^arn:aws[a-z-]*:sso:::instance\/(?:sso)?ins-[a-zA-Z0-9.-]{16}$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/** An environment variable, trimmed; empty counts as unset. */
type EnvValue = (name: string) => string | undefined;
type ReadFile = (path: string) => string;

export function parseEnv(env: NodeJS.ProcessEnv, readFile: ReadFile = (path) => readFileSync(path, "utf8")): AppConfig {
  const problems: string[] = [];
  const value: EnvValue = (name) => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === "" ? undefined : raw;
  };

  // Read in this order so the problems are listed in it too.
  const github = parseGitHub(value, readFile, problems);
  const database = parseDatabase(value, problems);
  const aws = parseAws(value, problems);
  const reconciliationIntervalMs = parseReconciliationInterval(value("RECONCILIATION_INTERVAL"), problems);
  const accessRepositories = parseRepositoryList(value("JITSUDO_ACCESS_REPOSITORIES"), problems);
  const apiToken = parseApiToken(value("JITSUDO_API_TOKEN"), problems);
  const notifications = parseNotifications(value, problems);
  const { logLevel, logFormat, port } = parseServer(value, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  const host = value("HOST");
  return {
    github,
    ...database,
    aws,
    reconciliationIntervalMs,
    ...(accessRepositories !== undefined ? { accessRepositories } : {}),
    ...(apiToken !== undefined ? { apiToken } : {}),
    notifications,
    logLevel,
    ...(logFormat ? { logFormat } : {}),
    port,
    ...(host !== undefined ? { host } : {}),
  };
}

/** The GitHub App's credentials (all or none) and the GitHub Enterprise Server host, if any. */
function parseGitHub(value: EnvValue, readFile: ReadFile, problems: string[]): AppConfig["github"] {
  const appId = parseAppId(value("APP_ID"), problems);
  const privateKey = readPrivateKey(value, readFile, problems);
  const webhookSecret = value("WEBHOOK_SECRET");
  if (appId !== undefined) {
    if (privateKey === undefined) problems.push("APP_ID is set but PRIVATE_KEY and PRIVATE_KEY_PATH are not; set one of them");
    if (webhookSecret === undefined) {
      problems.push("APP_ID is set but WEBHOOK_SECRET is not; set it to the app's webhook secret (unsigned webhooks are refused)");
    }
  }

  const gheProtocol = value("GHE_PROTOCOL") ?? "https";
  if (gheProtocol !== "https" && gheProtocol !== "http") {
    problems.push(`GHE_PROTOCOL="${gheProtocol}" must be https or http`);
  }
  const gheHost = value("GHE_HOST");
  if (gheHost !== undefined && /[/:]/.test(gheHost.replace(/:\d+$/, ""))) {
    problems.push(`GHE_HOST="${gheHost}" must be a host name like github.example.com, without a scheme or path`);
  }
  return {
    ...(appId !== undefined ? { appId } : {}),
    ...(privateKey !== undefined ? { privateKey } : {}),
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    ...(gheHost !== undefined ? { gheHost } : {}),
    gheProtocol: gheProtocol as "https" | "http",
  };
}

function parseAppId(text: string | undefined, problems: string[]): number | undefined {
  if (text === undefined) return undefined;
  const parsed = Number(text);
  if (Number.isSafeInteger(parsed) && parsed > 0) return parsed;
  problems.push(`APP_ID="${text}" is not a GitHub App id; copy the numeric App ID from the app's settings page`);
  return undefined;
}

/** PRIVATE_KEY, or else the file PRIVATE_KEY_PATH names, as a PEM text ending in one newline. */
function readPrivateKey(value: EnvValue, readFile: ReadFile, problems: string[]): string | undefined {
  let privateKey = value("PRIVATE_KEY");
  const keyPath = value("PRIVATE_KEY_PATH");
  if (privateKey === undefined && keyPath !== undefined) {
    try {
      privateKey = readFile(keyPath);
    } catch (error) {
      problems.push(
        `PRIVATE_KEY_PATH="${keyPath}" cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"}); point it at the app's .pem file`,
      );
    }
  }
  if (privateKey === undefined) return undefined;
  // Platforms without multi-line variables pass the key base64-encoded or with literal \n.
  if (!privateKey.includes("-----BEGIN")) {
    const decoded = Buffer.from(privateKey, "base64").toString("utf8");
    if (decoded.includes("-----BEGIN")) privateKey = decoded;
    else problems.push("PRIVATE_KEY is not a PEM private key (expected -----BEGIN … PRIVATE KEY-----, raw or base64)");
  }
  return `${privateKey.replace(/\\n/g, "\n").trim()}\n`;
}

function parseDatabase(value: EnvValue, problems: string[]): Pick<AppConfig, "databaseUrl" | "databaseSchema" | "databasePoolMax"> {
  const databaseUrl = value("DATABASE_URL");
  if (databaseUrl !== undefined && !/^postgres(?:ql)?:\/\//.test(databaseUrl)) {
    problems.push("DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use the embedded PostgreSQL)");
  }

  const poolText = value("DATABASE_POOL_MAX");
  const databasePoolMax = poolText === undefined ? 10 : Number(poolText);
  if (!Number.isInteger(databasePoolMax) || databasePoolMax < 3 || databasePoolMax > 200) {
    problems.push(
      `DATABASE_POOL_MAX="${poolText}" must be a whole number from 3 to 200 (a worker keeps one connection for itself, the inbox one more)`,
    );
  }
  const databaseSchema = value("DATABASE_SCHEMA");
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    problems.push(`DATABASE_SCHEMA="${databaseSchema}" must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63)`);
  }
  return {
    ...(databaseUrl !== undefined ? { databaseUrl } : {}),
    ...(databaseSchema !== undefined ? { databaseSchema } : {}),
    databasePoolMax,
  };
}

function parseAws(value: EnvValue, problems: string[]): AppConfig["aws"] {
  const region = value("AWS_REGION");
  if (region !== undefined && !REGION.test(region)) problems.push(`AWS_REGION="${region}" is not an AWS region like us-east-1`);
  const instanceArn = value("IC_INSTANCE_ARN");
  if (instanceArn !== undefined && !INSTANCE_ARN.test(instanceArn)) {
    problems.push(`IC_INSTANCE_ARN="${instanceArn}" is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)`);
  }
  return { ...(region !== undefined ? { region } : {}), ...(instanceArn !== undefined ? { instanceArn } : {}) };
}

function parseReconciliationInterval(interval: string | undefined, problems: string[]): number {
  if (interval === undefined) return DEFAULT_RECONCILIATION_INTERVAL_MS;
  const parsed = /^\d+$/.test(interval) ? { ok: true as const, ms: Number(interval) * 1000 } : parseDuration(interval);
  if (!parsed.ok || parsed.ms < 1000 || parsed.ms > 86_400_000) {
    problems.push(`RECONCILIATION_INTERVAL="${interval}" must be between 1s and 24h, written like 30s, 5m or a number of seconds`);
    return DEFAULT_RECONCILIATION_INTERVAL_MS;
  }
  return parsed.ms;
}

function parseApiToken(apiToken: string | undefined, problems: string[]): string | undefined {
  if (apiToken !== undefined && apiToken.length < 20) {
    problems.push(
      "JITSUDO_API_TOKEN is too short to be a secret; use at least 20 random characters (e.g. openssl rand -hex 32), or unset it to turn the API off",
    );
  }
  return apiToken;
}

function parseNotifications(value: EnvValue, problems: string[]): AppConfig["notifications"] {
  const slackBotToken = value("SLACK_BOT_TOKEN");
  if (slackBotToken !== undefined && !/^xox[a-z]-[\x21-\x7e]+$/.test(slackBotToken))
    problems.push("SLACK_BOT_TOKEN is not a Slack token (xoxb-…); copy the app's Bot User OAuth Token, or unset it");
  const slackApiUrl = value("SLACK_API_URL");
  if (slackApiUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(slackApiUrl))
    problems.push(`SLACK_API_URL="${slackApiUrl.slice(0, 120)}" must be an http(s) URL like https://slack.com/api/`);
  const allowLoopback = value("JITSUDO_WEBHOOK_ALLOW_LOOPBACK");
  if (allowLoopback !== undefined && allowLoopback !== "true" && allowLoopback !== "false")
    problems.push(`JITSUDO_WEBHOOK_ALLOW_LOOPBACK="${allowLoopback.slice(0, 20)}" must be true or false`);
  const webhookSecret = value("JITSUDO_WEBHOOK_SECRET");
  if (webhookSecret !== undefined && webhookSecret.length < 20)
    problems.push("JITSUDO_WEBHOOK_SECRET is too short to be a secret; use at least 20 random characters (e.g. openssl rand -hex 32)");
  return {
    ...(slackBotToken !== undefined ? { slackBotToken } : {}),
    ...(slackApiUrl !== undefined ? { slackApiUrl } : {}),
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    ...(allowLoopback === "true" ? { webhookAllowLoopback: true } : {}),
  };
}

function parseServer(value: EnvValue, problems: string[]): { logLevel: LogLevel; logFormat?: LogFormat; port: number } {
  const logLevel = (value("LOG_LEVEL") ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL="${logLevel}" must be one of ${LOG_LEVELS.join(", ")}`);
  const logFormat = value("LOG_FORMAT") as LogFormat | undefined;
  if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat))
    problems.push(`LOG_FORMAT="${logFormat}" must be one of ${LOG_FORMATS.join(", ")} (unset: pretty on a terminal, JSON otherwise)`);

  const portText = value("PORT") ?? "3000";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`PORT="${portText}" must be a port number (0-65535)`);
  return { logLevel, ...(logFormat ? { logFormat } : {}), port };
}

// GitHub's own limits: owners up to 39 characters, repository names up to 100 of [A-Za-z0-9._-];
// or a repository's numeric id, which survives renames.
const REPOSITORY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}|[1-9]\d{0,18})$/;

function parseRepositoryList(text: string | undefined, problems: string[]): string[] | undefined {
  if (text === undefined) return undefined;
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const invalid = entries.filter((entry) => !REPOSITORY.test(entry));
  if (invalid.length > 0 || entries.length === 0) {
    const shown = invalid.map((entry) => JSON.stringify(entry.slice(0, 120))).join(", ");
    problems.push(
      `JITSUDO_ACCESS_REPOSITORIES must be a comma-separated list of owner/name or repository ids${shown ? `; not a repository: ${shown}` : ""}`,
    );
    return undefined;
  }
  // GitHub treats owner and repository names case-insensitively.
  return [...new Set(entries.map((entry) => entry.toLowerCase()))];
}

/** Whether a repository is on the operator's list by name (undefined list: none is, explicitly). */
export function isListedRepository(list: readonly string[] | undefined, fullName: string): boolean {
  return list !== undefined && list.includes(fullName.toLowerCase());
}

/** Whether the operator listed a repository by its numeric id. */
export function isListedById(list: readonly string[] | undefined, id: number | string | null): boolean {
  return list !== undefined && id !== null && list.includes(String(id));
}

/**
 * What the worker needs beyond the server: the Identity Center instance grants default to, and a
 * region. Returns the problems (empty when it can run), so callers can refuse to start clearly.
 */
export function workerProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if (!config.aws.instanceArn)
    problems.push(
      "IC_INSTANCE_ARN is not set; the worker needs the Identity Center instance to provision in (arn:aws:sso:::instance/ssoins-…)",
    );
  if (!config.aws.region)
    problems.push("AWS_REGION is not set; the worker needs the region of the Identity Center instance, e.g. us-east-1");
  return problems;
}

/** The GitHub web address (where pull requests are), for github.com or GitHub Enterprise Server. */
export function githubWebUrl(config: AppConfig): string {
  const { gheHost, gheProtocol } = config.github;
  return gheHost ? `${gheProtocol}://${gheHost}` : "https://github.com";
}

/** The GitHub REST base URL, for github.com or GitHub Enterprise Server. */
export function githubApiBaseUrl(config: AppConfig): string {
  const { gheHost, gheProtocol } = config.github;
  return gheHost ? `${gheProtocol}://${gheHost}/api/v3` : "https://api.github.com";
}
