/**
 * GitHub's webhook sender, as its own process. GitHub delivers webhooks from machines of its own,
 * not from the process that serves its API; in the benchmarks the local GitHub's API shares the
 * benchmark's process with the local Identity Center, so timing deliveries from there would count
 * that process's busy event loop (serving the very GitHub calls the replicas make while judging the
 * burst) as the replica's answer time. The parent sends a batch of signed deliveries with the
 * replica each goes to; this process fires them all at once, each on its own connection, and sends
 * back every status and answer time.
 */
import { fork, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { sendDelivery, type SignedDelivery } from "../../src/sandbox/webhooks.js";

export interface Shot {
  url: string;
  delivery: SignedDelivery;
}

/** Status 0: the connection failed (the replica was killed, say). */
export interface ShotResult {
  status: number;
  ms: number;
}

interface Batch {
  id: number;
  shots: Shot[];
}

interface Answer {
  id: number;
  results: ShotResult[];
}

export class Hookshot {
  private constructor(
    private readonly child: ChildProcess,
    private nextId = 0,
  ) {}

  static async start(): Promise<Hookshot> {
    const child = fork(fileURLToPath(import.meta.url), ["--hookshot"], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`hookshot exited at start (code ${code})`)));
    });
    return new Hookshot(child);
  }

  /** Fires every shot at once; resolves with each one's status and answer time, in order. */
  fire(shots: Shot[]): Promise<ShotResult[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const onMessage = (message: Answer) => {
        if (message.id !== id) return;
        this.child.off("message", onMessage);
        resolve(message.results);
      };
      this.child.on("message", onMessage);
      this.child.send({ id, shots } satisfies Batch);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill();
    await exited;
  }
}

/** In the hookshot process: fires one batch and sends back its results. */
async function fireBatch({ id, shots }: Batch): Promise<void> {
  const results = await Promise.all(
    shots.map(async ({ url, delivery }) => {
      const t0 = performance.now();
      const status = await sendDelivery(url, delivery).catch(() => 0);
      return { status, ms: performance.now() - t0 };
    }),
  );
  process.send!({ id, results } satisfies Answer);
}

if (process.argv.includes("--hookshot")) {
  // Batches are answered as they finish, each tagged with its id: nothing waits on the handler.
  process.on("message", (batch: Batch) => {
    void fireBatch(batch);
  });
  process.send!("ready");
}
