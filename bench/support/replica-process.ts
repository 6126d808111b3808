/**
 * `jitsudo start` (server and worker) as its own process, configured only through its environment
 * as in production: the database (a schema of the benchmark's), GitHub as a GitHub Enterprise
 * Server on loopback (the local GitHub over HTTP), and the local Identity Center through
 * AWS_ENDPOINT_URL. Benchmarks start two to stand for two replicas, watch their memory, scrape
 * their /metrics, and kill one mid-burst.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../src/net.js";
import { INSTANCE_ARN } from "../../test/support/aws-world.js";
import { APP_ID } from "../../test/support/fake-github.js";

export interface ReplicaOptions {
  databaseUrl: string;
  schema: string;
  githubHost: string;
  privateKey: string;
  webhookSecret: string;
  awsEndpoint: string;
  accessKeyId: string;
  accessRepositories: string;
}

export interface ReplicaProcess {
  child: ChildProcess;
  url: string;
  /** Resident set size, in MB (from /proc). */
  rssMb(): number | undefined;
  /**
   * The live JavaScript heap after each full collection so far: V8's `--trace-gc` line for a
   * Mark-Compact gives the heap before and after it, and after a full collection only what is
   * still reachable is left. Unlike RSS, which grows while V8 has room to, this grows only with a
   * leak. Reading it costs the replica nothing (no snapshot, no pause).
   */
  fullCollections(): { at: number; liveMb: number }[];
  /** How many of this replica's log lines so far reported a database pool timeout (knex's "Timeout acquiring a connection"). */
  poolTimeouts(): number;
  /** The first lines of this replica's /metrics that name `metric`. */
  scrape(metric: string): Promise<string[]>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startReplicaProcess(options: ReplicaOptions): Promise<ReplicaProcess> {
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    DATABASE_URL: options.databaseUrl,
    DATABASE_SCHEMA: options.schema,
    APP_ID: String(APP_ID),
    PRIVATE_KEY: options.privateKey,
    WEBHOOK_SECRET: options.webhookSecret,
    GHE_HOST: options.githubHost,
    GHE_PROTOCOL: "http",
    PORT: String(port),
    HOST: "127.0.0.1",
    IC_INSTANCE_ARN: INSTANCE_ARN,
    AWS_REGION: "us-east-1",
    AWS_ENDPOINT_URL: options.awsEndpoint,
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: "not-a-secret",
    JITSUDO_ACCESS_REPOSITORIES: options.accessRepositories,
    LOG_LEVEL: process.env.JITSUDO_BENCH_LOG_LEVEL ?? "error",
    // e.g. --max-old-space-size=100, to tell a leak (it dies) from a heap that grows because it may;
    // flags NODE_OPTIONS refuses (--cpu-prof --cpu-prof-dir=…) go in JITSUDO_BENCH_NODE_ARGS.
    ...(process.env.JITSUDO_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.JITSUDO_BENCH_NODE_OPTIONS } : {}),
  };
  const child = spawn(
    process.execPath,
    ["--trace-gc", ...(process.env.JITSUDO_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), "dist/cli.js", "start"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  // Logs are read, not shown: the benchmark counts pool timeouts in them (an error at any level).
  let poolTimeouts = 0;
  let errors = 0;
  const fullCollections: { at: number; liveMb: number }[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = "";
    stream?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes("Timeout acquiring a connection")) poolTimeouts += 1;
        // e.g. "[123:0x…]  61234 ms: Mark-Compact 58.1 (75.0) -> 41.2 (74.3) MB, …"
        const fullGc = /: Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
        if (fullGc) fullCollections.push({ at: Date.now(), liveMb: Number(fullGc[1]) });
        if (/^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: /.test(line)) continue;
        if (process.env.JITSUDO_BENCH_LOG_FILE) appendFileSync(process.env.JITSUDO_BENCH_LOG_FILE, `${child.pid} ${line}\n`);
        else if (line.startsWith("{") && errors++ < 5) process.stderr.write(`replica: ${line.slice(0, 400)}\n`);
      }
    });
  }
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the replica exited at start (code ${child.exitCode})`);
    const ready = await fetch(`${url}/readyz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error("the replica did not become ready within 60 s");
    await sleep(200);
  }
  return {
    child,
    url,
    rssMb() {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      return rss ? Number(rss) / 1024 : undefined;
    },
    poolTimeouts: () => poolTimeouts,
    fullCollections: () => [...fullCollections],
    async scrape(metric) {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.split("\n").filter((line) => line.startsWith(metric));
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill(signal);
      await exited;
    },
  };
}
