/**
 * `jitsudo worker` as its own process, configured only through its environment as in production:
 * the database (a schema of the test's), the local Identity Center through AWS_ENDPOINT_URL, and
 * an access key of its own so the simulator's call log tells processes apart.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { INSTANCE_ARN } from "./aws-world.js";

export interface WorkerProcessOptions {
  databaseUrl: string;
  schema: string;
  awsEndpoint: string;
  accessKeyId: string;
  reconciliationInterval?: string;
  /** Default: the TypeScript sources through tsx (tests); the benchmarks run the build (`dist/cli.js`). */
  entry?: "source" | "build";
  /** Log at info and watch for the worker's start, so `started(child)` can tell when it works (slow machines start slowly). */
  watchStart?: boolean;
  /** DATABASE_POOL_MAX (default 4: several workers run beside other test files); "unset" leaves the worker its own default. */
  databasePoolMax?: number | "unset";
}

const STARTED = new WeakMap<ChildProcess, Promise<void>>();

export function startWorkerProcess(options: WorkerProcessOptions): ChildProcess {
  const args = options.entry === "build" ? ["dist/cli.js", "worker"] : ["--import", "tsx", "src/cli.ts", "worker"];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: options.databaseUrl,
      DATABASE_SCHEMA: options.schema,
      // Several of these run beside other test files on one PostgreSQL (100 connections): a worker
      // needs few (its session lock has its own connection).
      ...(options.databasePoolMax === "unset" ? {} : { DATABASE_POOL_MAX: String(options.databasePoolMax ?? 4) }),
      IC_INSTANCE_ARN: INSTANCE_ARN,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL: options.awsEndpoint,
      AWS_ACCESS_KEY_ID: options.accessKeyId,
      AWS_SECRET_ACCESS_KEY: "not-a-secret",
      // The test world's access repository: its grants without a tenant role use these credentials.
      JITSUDO_ACCESS_REPOSITORIES: "acme/access",
      LOG_LEVEL: options.watchStart ? "info" : "error",
      LOG_FORMAT: "json",
      // Its operator endpoints on a port of its own choosing: several run at once on one machine.
      PORT: "0",
      HOST: "127.0.0.1",
      ...(options.reconciliationInterval ? { RECONCILIATION_INTERVAL: options.reconciliationInterval } : {}),
    },
    stdio: ["ignore", options.watchStart ? "pipe" : "ignore", "inherit"],
  });
  if (options.watchStart) {
    STARTED.set(
      child,
      new Promise<void>((resolve) => {
        let seen = "";
        child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
          // Read to the end either way, so the pipe never fills and stalls the worker.
          if (seen.length < 100_000) seen += chunk;
          if (seen.includes('"msg":"grant worker started"')) resolve();
        });
        child.once("exit", () => resolve());
      }),
    );
  }
  return child;
}

/** Resolves once a worker started with `watchStart` has begun its work, or has exited. */
export function started(child: ChildProcess): Promise<void> {
  const watched = STARTED.get(child);
  if (!watched) throw new Error("started() needs a worker started with watchStart: true");
  return watched;
}

/** Resolves once the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}
