/**
 * jitsudo's Probot app for a benchmark: the real webhook pipeline and Octokit, GitHub answered by
 * the local GitHub through nock (only loopback traffic, such as the local Identity Center, leaves).
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import nock from "nock";
import { Probot } from "probot";
import { createApp, type AppOptions } from "../../src/app.js";
import { inboxEntryFor } from "../../src/inbox/deliveries.js";
import { storeDelivery } from "../../src/inbox/inbox-store.js";
import { createLogger } from "../../src/observability/logger.js";
import { APP_ID, type FakeGitHub } from "../../test/support/fake-github.js";
import { UnthrottledOctokit } from "../../test/support/octokit.js";

export interface BenchApp {
  /** Runs one event through the app, as a delivery from GitHub would. */
  receive(name: string, payload: unknown): Promise<void>;
  stop(): Promise<void>;
}

export async function benchApp(github: FakeGitHub, options: AppOptions = {}): Promise<BenchApp> {
  // Intercepting lasts as long as the app: every later benchmark's HTTP (the SDK's calls to the
  // local Identity Center) would otherwise go through nock's interceptor, which production has not.
  if (!nock.isActive()) nock.activate();
  nock.disableNetConnect();
  nock.enableNetConnect((host) => host.startsWith("127.0.0.1"));
  github.start();
  const probot = new Probot({
    appId: APP_ID,
    privateKey: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    secret: "bench",
    log: createLogger({ level: "silent" }),
    Octokit: UnthrottledOctokit,
  });
  // As an operator would: the local GitHub's default repository is the one access repository.
  const jitsudo = createApp({ accessRepositories: ["codertocat/hello-world"], ...options });
  await probot.load(jitsudo.app);
  return {
    // With a database, a delivery is what the webhook door makes of it: a row in the inbox, which
    // the inbox processor handles (the door's HTTP and signature check are the burst benchmark's).
    // Without one, Probot's own receiver runs the handlers.
    async receive(name, payload) {
      const delivery = { id: randomUUID(), name, payload };
      const entry = options.db ? inboxEntryFor(delivery) : undefined;
      if (options.db && entry) await storeDelivery(options.db, entry);
      else await probot.receive(delivery as never);
      await jitsudo.settle();
    },
    async stop() {
      await jitsudo.stop();
      github.stop();
      nock.enableNetConnect();
      nock.restore();
    },
  };
}
