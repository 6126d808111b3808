import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_RECONCILIATION_INTERVAL_MS, githubApiBaseUrl, parseEnv, workerProblems } from "../../src/config/env.js";

const PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n";
const noFile = () => {
  throw Object.assign(new Error("missing"), { code: "ENOENT" });
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseEnv(env, noFile);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("parseEnv", () => {
  it("has defaults for everything optional", () => {
    expect(parseEnv({}, noFile)).toEqual({
      github: { gheProtocol: "https" },
      aws: {},
      reconciliationIntervalMs: DEFAULT_RECONCILIATION_INTERVAL_MS,
      logLevel: "info",
      port: 3000,
      databasePoolMax: 10,
      notifications: {},
    });
  });

  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["45", 45_000],
    ["1h", 3_600_000],
  ])("reads RECONCILIATION_INTERVAL=%s", (value, ms) => {
    expect(parseEnv({ RECONCILIATION_INTERVAL: value }, noFile).reconciliationIntervalMs).toBe(ms);
  });

  it.each(["soon", "0", "0s", "2d", "-5"])("refuses RECONCILIATION_INTERVAL=%s", (value) => {
    expect(problemsOf({ RECONCILIATION_INTERVAL: value })).toEqual([
      `RECONCILIATION_INTERVAL="${value}" must be between 1s and 24h, written like 30s, 5m or a number of seconds`,
    ]);
  });

  it("sizes the database pool from DATABASE_POOL_MAX, within what a process can use", () => {
    expect(parseEnv({ DATABASE_POOL_MAX: "25" }, noFile).databasePoolMax).toBe(25);
    for (const value of ["2", "201", "ten", "4.5"]) {
      expect(problemsOf({ DATABASE_POOL_MAX: value })).toEqual([
        `DATABASE_POOL_MAX="${value}" must be a whole number from 3 to 200 (a worker keeps one connection for itself, the inbox one more)`,
      ]);
    }
  });

  it("reports every problem at once, naming the variable and the fix", () => {
    expect(
      problemsOf({
        APP_ID: "abc",
        GHE_PROTOCOL: "ftp",
        DATABASE_URL: "mysql://x",
        AWS_REGION: "moon-1",
        IC_INSTANCE_ARN: "arn:aws:sso:::instance/nope",
        LOG_LEVEL: "loud",
        PORT: "99999",
      }),
    ).toEqual([
      'APP_ID="abc" is not a GitHub App id; copy the numeric App ID from the app\'s settings page',
      'GHE_PROTOCOL="ftp" must be https or http',
      "DATABASE_URL must be a postgres:// or postgresql:// URL (unset it to use the embedded PostgreSQL)",
      'AWS_REGION="moon-1" is not an AWS region like us-east-1',
      'IC_INSTANCE_ARN="arn:aws:sso:::instance/nope" is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)',
      'LOG_LEVEL="loud" must be one of trace, debug, info, warn, error, fatal, silent',
      'PORT="99999" must be a port number (0-65535)',
    ]);
  });

  it("needs the key and the webhook secret once APP_ID is set", () => {
    expect(problemsOf({ APP_ID: "42" })).toEqual([
      "APP_ID is set but PRIVATE_KEY and PRIVATE_KEY_PATH are not; set one of them",
      "APP_ID is set but WEBHOOK_SECRET is not; set it to the app's webhook secret (unsigned webhooks are refused)",
    ]);
    expect(problemsOf({ APP_ID: "42", PRIVATE_KEY_PATH: "/nope.pem", WEBHOOK_SECRET: "s" })).toEqual([
      'PRIVATE_KEY_PATH="/nope.pem" cannot be read (ENOENT); point it at the app\'s .pem file',
      "APP_ID is set but PRIVATE_KEY and PRIVATE_KEY_PATH are not; set one of them",
    ]);
  });

  it("accepts the private key as PEM, PEM with literal \\n, base64, or a file", () => {
    const base = { APP_ID: "42", WEBHOOK_SECRET: "s" };
    expect(parseEnv({ ...base, PRIVATE_KEY: PEM }, noFile).github.privateKey).toBe(PEM);
    expect(parseEnv({ ...base, PRIVATE_KEY: PEM.replaceAll("\n", "\\n") }, noFile).github.privateKey).toBe(PEM);
    expect(parseEnv({ ...base, PRIVATE_KEY: Buffer.from(PEM).toString("base64") }, noFile).github.privateKey).toBe(PEM);
    expect(parseEnv({ ...base, PRIVATE_KEY_PATH: "/key.pem" }, () => PEM).github.privateKey).toBe(PEM);
    expect(problemsOf({ ...base, PRIVATE_KEY: "not a key" })).toEqual([
      "PRIVATE_KEY is not a PEM private key (expected -----BEGIN … PRIVATE KEY-----, raw or base64)",
    ]);
  });

  it("points Octokit at GitHub Enterprise Server when GHE_HOST is set", () => {
    expect(githubApiBaseUrl(parseEnv({}, noFile))).toBe("https://api.github.com");
    expect(githubApiBaseUrl(parseEnv({ GHE_HOST: "github.example.com" }, noFile))).toBe("https://github.example.com/api/v3");
    expect(githubApiBaseUrl(parseEnv({ GHE_HOST: "ghe.local:8443", GHE_PROTOCOL: "http" }, noFile))).toBe("http://ghe.local:8443/api/v3");
    expect(problemsOf({ GHE_HOST: "https://github.example.com" })).toEqual([
      'GHE_HOST="https://github.example.com" must be a host name like github.example.com, without a scheme or path',
    ]);
  });

  it("keeps the worker's instance and region", () => {
    const config = parseEnv({ AWS_REGION: "eu-west-1", IC_INSTANCE_ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef" }, noFile);
    expect(config.aws).toEqual({ region: "eu-west-1", instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef" });
  });
});

describe("DATABASE_SCHEMA and the worker's requirements", () => {
  it("accepts a schema name and refuses anything else", () => {
    expect(parseEnv({ DATABASE_SCHEMA: "jitsudo_prod" }, noFile).databaseSchema).toBe("jitsudo_prod");
    expect(problemsOf({ DATABASE_SCHEMA: "Prod; drop" })).toEqual([
      'DATABASE_SCHEMA="Prod; drop" must be a lower-case PostgreSQL identifier (letters, digits, _; at most 63)',
    ]);
  });

  it("lets the server run without an instance, and tells the worker what it lacks", () => {
    expect(workerProblems(parseEnv({}, noFile))).toEqual([
      "IC_INSTANCE_ARN is not set; the worker needs the Identity Center instance to provision in (arn:aws:sso:::instance/ssoins-…)",
      "AWS_REGION is not set; the worker needs the region of the Identity Center instance, e.g. us-east-1",
    ]);
    expect(
      workerProblems(parseEnv({ IC_INSTANCE_ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", AWS_REGION: "eu-west-1" }, noFile)),
    ).toEqual([]);
  });
});

describe("JITSUDO_API_TOKEN", () => {
  it("turns the grants API on with a real secret, and refuses one too short to be one", () => {
    expect(parseEnv({ JITSUDO_API_TOKEN: "0123456789abcdef0123456789" }, noFile).apiToken).toBe("0123456789abcdef0123456789");
    expect(problemsOf({ JITSUDO_API_TOKEN: "secret" })).toEqual([
      "JITSUDO_API_TOKEN is too short to be a secret; use at least 20 random characters (e.g. openssl rand -hex 32), or unset it to turn the API off",
    ]);
  });
});
