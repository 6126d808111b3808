/**
 * The world the multi-process benchmarks share: a schema of their own, the local Identity Center
 * at AWS's limits, the local GitHub over HTTP with one access repository (alice requests, bob owns
 * `access-requests/`), one account per merge, and `jitsudo start` replicas as their own processes.
 */
import { generateKeyPairSync } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { startLocalGitHub } from "../../src/sandbox/github-server.js";
import { WallClock } from "../../src/sandbox/github.js";
import { sendDelivery, signDelivery, type SignedDelivery } from "../../src/sandbox/webhooks.js";
import { startAwsWorld, type AwsWorld } from "../../test/support/aws-world.js";
import { INSTALLATION_ID } from "../../test/support/fake-github.js";
import { benchDatabase, type BenchDatabase } from "./database.js";
import { startReplicaProcess, type ReplicaProcess } from "./replica-process.js";

export const WEBHOOK_SECRET = "bench-webhook-secret";

export interface ReplicaWorld {
  database: BenchDatabase;
  world: AwsWorld;
  /** One account id per merge, in order. */
  accounts: string[];
  startReplicas(count: number, accessKeyPrefix: string): Promise<ReplicaProcess[]>;
  /** Opens, approves and merges alice's request for `accounts[index]`; returns its `pull_request.closed` delivery, signed as GitHub sends it. */
  approvedMerge(index: number, duration: string): { number: number; delivery: SignedDelivery };
  deliver(replica: ReplicaProcess, delivery: SignedDelivery): Promise<number>;
  /** Resolves once every stored delivery has been handled (or given up), within two minutes. */
  inboxEmpty(): Promise<void>;
  stop(): Promise<void>;
}

export async function startReplicaWorld(
  name: string,
  options: { merges: number; accountPrefix: string; provisioningDelayMs: number },
): Promise<ReplicaWorld> {
  const database = await benchDatabase(name);
  const world = await startAwsWorld({ provisioningDelayMs: options.provisioningDelayMs });
  const local = await startLocalGitHub({ clock: new WallClock(), defaultRepository: false });
  const { github } = local;
  github.createInstallation({ account: "acme", id: INSTALLATION_ID });
  const repo = github.createRepository({ owner: "acme", name: "access", id: 424242 });
  for (const login of ["alice", "bob"]) repo.setPermission(login, "write");
  repo.commit("main", {
    files: {
      ".github/jitsudo.yml": `rules:\n  - permission_sets: [ReadOnlyAccess]\n    accounts: ["*"]\n    max_duration: 8h\n`,
      ".github/CODEOWNERS": "/access-requests/ @bob\n",
    },
    author: "acme",
  });
  world.ic.addUser("d-aaaaaaaaaa", { userName: "alice" });
  // One account per merge: every grant has an assignment of its own.
  const accounts = Array.from(
    { length: options.merges },
    (_, index) => `${options.accountPrefix}${String(index).padStart(12 - options.accountPrefix.length, "0")}`,
  );
  for (const [index, id] of accounts.entries()) world.ic.addAccount({ id, name: `${name}-${index}` });
  const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const replicas: ReplicaProcess[] = [];

  return {
    database,
    world,
    accounts,
    async startReplicas(count, accessKeyPrefix) {
      const started: ReplicaProcess[] = [];
      for (let index = 0; index < count; index++) {
        const replica = await startReplicaProcess({
          databaseUrl: database.url,
          schema: database.schema,
          githubHost: local.host,
          privateKey,
          webhookSecret: WEBHOOK_SECRET,
          awsEndpoint: world.url,
          accessKeyId: `${accessKeyPrefix}${index}`,
          accessRepositories: "acme/access",
        });
        started.push(replica);
        replicas.push(replica);
      }
      return started;
    },
    approvedMerge(index, duration) {
      const branch = `alice/${name}-${index}`;
      repo.createBranch(branch, "main", "alice");
      const file = `account: "${accounts[index]}"\npermission_set: ReadOnlyAccess\nduration: ${duration}\nreason: "Incident ${index}"\n`;
      repo.commit(branch, { files: { [`access-requests/alice/${name}-${index}.yaml`]: file }, author: "alice" });
      const number = repo.openPull({ head: branch, author: "alice" });
      repo.review(number, "bob", "APPROVED");
      return { number, delivery: signDelivery(WEBHOOK_SECRET, "pull_request", repo.merge(number, { by: "bob" }).closed) };
    },
    deliver: (replica, delivery) => sendDelivery(replica.url, delivery),
    async inboxEmpty() {
      const deadline = Date.now() + 120_000;
      const open = async () =>
        Number((await database.db("webhook_inbox").whereIn("status", ["pending", "processing"]).count({ n: "*" }))[0]?.n ?? 0);
      while ((await open()) > 0) {
        if (Date.now() > deadline) throw new Error("benchmark: the inbox did not empty within two minutes");
        await sleep(200);
      }
    },
    async stop() {
      for (const replica of replicas) await replica.stop();
      await local.stop();
      await world.stop();
      await database.close();
    },
  };
}
