/**
 * A jitsudo role (`server`, `worker`, `start`) as its own process, configured only through its
 * environment, as a container runs it: it listens on a port of its choosing (PORT=0) and says which
 * in its "listening" log line, which is how the test finds it.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface RoleProcess {
  child: ChildProcess;
  url: string;
  /** Every line the process wrote to stdout so far. */
  lines: string[];
  stop(): Promise<void>;
}

export async function startRole(role: "server" | "worker" | "start", env: Record<string, string>): Promise<RoleProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", role], {
    env: { PATH: process.env.PATH, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    let rest = "";
    const timer = setTimeout(() => reject(new Error(`${role} did not listen within 60 s:\n${lines.join("\n")}\n${stderr}`)), 60_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      rest += chunk;
      const complete = rest.split("\n");
      rest = complete.pop()!;
      for (const line of complete) {
        lines.push(line);
        const entry = parse(line);
        if (typeof entry?.msg === "string" && entry.msg.startsWith("listening") && typeof entry.port === "number") {
          clearTimeout(timer);
          resolve(entry.port);
        }
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited (${code}) before it listened:\n${lines.join("\n")}\n${stderr}`));
    });
  });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    lines,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
