/**
 * The local Identity Center with a small organisation in it, and jitsudo's worker pointed at it
 * over HTTP with the real AWS SDK clients: what the provisioning, revoke and drift tests use.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Knex } from "knex";
import { AwsConnections } from "../../src/aws/connections.js";
import type { Directory } from "../../src/aws/directory.js";
import { SharedRateLimiter, type RateLimitOptions } from "../../src/aws/rate-limiter.js";
import type { WorkerSettings } from "../../src/jobs/context.js";
import { GrantWorker } from "../../src/jobs/worker.js";
import { recordMerge, type NewGrant } from "../../src/grants/grant-repository.js";
import type { GrantReporter, ReminderPoster, ReviewReminderPoster } from "../../src/grants/reporter.js";
import type { ReminderOptions } from "../../src/jobs/expiry-reminders.js";
import { Metrics } from "../../src/observability/metrics.js";
import {
  startLocalIdentityCenter,
  type LocalIdentityCenterServerOptions,
  type RunningLocalIdentityCenter,
} from "../../src/sandbox/index.js";
import { ANY_RULE, policyYaml } from "./policy-fixtures.js";

export const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-aaaaaaaaaaaaaaaa";
export const IDENTITY_STORE_ID = "d-aaaaaaaaaa";
export const ROLE_ARN = "arn:aws:iam::111111111111:role/jitsudo";
export const PRODUCTION = "123456789012";
export const STAGING = "210987654321";
export const SUSPENDED = "333333333333";
/** The access repository the grants here come from (GitHub's numeric id), and the ExternalId its tenant role expects. */
export const ACCESS_REPOSITORY_ID = 424242;
export const EXTERNAL_ID = `jitsudo-1-${ACCESS_REPOSITORY_ID}`;
/**
 * The policy approveGrant's merges are judged under: anything, for anyone, for up to a day, with
 * bob (the approver) mapped to his Identity Center user, as requests on someone's behalf need.
 */
export const PERMISSIVE_POLICY = policyYaml({
  users: { bob: "bob@example.com" },
  rules: [{ ...ANY_RULE, max_duration: "24h", allow_other_principal: true }],
});
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** A clock the tests can move forward; the simulator and the worker both read it. */
export class TestClock {
  offsetMs = 0;
  readonly nowMs = (): number => Date.now() + this.offsetMs;
  readonly now = (): Date => new Date(this.nowMs());
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface AwsWorld extends RunningLocalIdentityCenter {
  clock: TestClock;
  readOnly: string;
  admin: string;
  users: { alice: string; bob: string };
}

export async function startAwsWorld(options: LocalIdentityCenterServerOptions = {}): Promise<AwsWorld> {
  const clock = new TestClock();
  const running = await startLocalIdentityCenter({ provisioningDelayMs: 100, now: clock.nowMs, ...options });
  const { ic } = running;
  ic.addInstance({ instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID, ownerAccountId: "111111111111" });
  const readOnly = ic.addPermissionSet(INSTANCE_ARN, { name: "ReadOnlyAccess" });
  const admin = ic.addPermissionSet(INSTANCE_ARN, { name: "AdministratorAccess" });
  ic.addAccount({ id: PRODUCTION, name: "production" });
  ic.addAccount({ id: STAGING, name: "staging" });
  ic.addAccount({ id: SUSPENDED, name: "retired", status: "SUSPENDED" });
  const alice = ic.addUser(IDENTITY_STORE_ID, { userName: "alice@example.com", email: "alice@example.com" });
  const bob = ic.addUser(IDENTITY_STORE_ID, { userName: "bob@example.com" });
  ic.addRole({ roleArn: ROLE_ARN, externalId: EXTERNAL_ID, trustedInstances: [INSTANCE_ARN] });
  return { ...running, clock, readOnly, admin, users: { alice, bob } };
}

export interface TestWorkerOptions {
  settings?: Partial<WorkerSettings>;
  reporter?: GrantReporter;
  /** Where expiry reminders are posted; unset, a reminder is only its grant event. */
  reminders?: ReminderPoster;
  reminderOptions?: ReminderOptions;
  /** Where break-glass review reminders are posted; unset, a reminder is only its grant event. */
  reviewReminders?: ReviewReminderPoster;
  rateLimit?: RateLimitOptions;
  metrics?: Metrics;
  /** Drift runs on its own this often; unset, tests call worker.drift.runOnce() themselves. */
  reconciliationIntervalMs?: number;
  /** JITSUDO_ACCESS_REPOSITORIES (default: the test worlds' access repositories, whose grants may use jitsudo's own credentials). */
  accessRepositories?: readonly string[];
  /** The name and session-duration caches (default: the worker's own, on real time). */
  directory?: Directory;
}

export interface RunningWorker {
  worker: GrantWorker;
  metrics: Metrics;
  stop(): Promise<void>;
}

export async function startTestWorker(db: Knex, world: AwsWorld, options: TestWorkerOptions = {}): Promise<RunningWorker> {
  const metrics = options.metrics ?? new Metrics();
  const connections = new AwsConnections({
    limiter: new SharedRateLimiter(db, options.rateLimit),
    endpoint: world.url,
    credentials: { accessKeyId: "AKIDJITSUDOTEST", secretAccessKey: "not-a-secret" },
    metrics,
  });
  const worker = await GrantWorker.start({
    db,
    log: silent,
    aws: connections,
    defaults: { region: "us-east-1", instanceArn: INSTANCE_ARN },
    accessRepositories: options.accessRepositories ?? ["acme/access", "codertocat/hello-world"],
    now: world.clock.now,
    metrics,
    ...(options.reporter ? { reporter: options.reporter } : {}),
    ...(options.reminders ? { reminders: options.reminders } : {}),
    ...(options.reviewReminders ? { reviewReminders: options.reviewReminders } : {}),
    ...(options.reminderOptions ? { reminderOptions: options.reminderOptions } : {}),
    ...(options.reconciliationIntervalMs !== undefined ? { reconciliationIntervalMs: options.reconciliationIntervalMs } : {}),
    ...(options.directory ? { directory: options.directory } : {}),
    // Lists are exact in the simulator unless a test makes them lag (and says so in its settings).
    settings: { pollTimeoutMs: 60_000, initialPollMs: 100, retryBaseMs: 50, listSettleMs: 0, ...options.settings },
  });
  return {
    worker,
    metrics,
    async stop() {
      await worker.stop(1000);
      connections.close();
    },
  };
}

let mergeCounter = 0;

/** An approved merge of one request (the merge path itself is tested in test/github). */
export async function approveGrant(
  db: Knex,
  world: AwsWorld,
  grant: Partial<NewGrant> & { prNumber?: number; policy?: string; repositoryId?: number } = {},
): Promise<string> {
  const now = world.clock.now();
  const { prNumber = 7, policy = PERMISSIVE_POLICY, repositoryId = ACCESS_REPOSITORY_ID, ...fields } = grant;
  mergeCounter += 1;
  const outcome = await recordMerge(db, {
    tenant: 1,
    repositoryId,
    repo: "acme/access",
    policy,
    prNumber,
    mergeCommitSha: mergeCounter.toString(16).padStart(40, "0"),
    mergedAt: now,
    verdict: "approved",
    reasons: [],
    actor: "jitsudo",
    details: {},
    revokedPaths: [],
    grants: [
      {
        filePath: `access-requests/alice-${mergeCounter}.yaml`,
        blobSha: "b".repeat(40),
        requester: "alice",
        principal: "alice@example.com",
        accountRef: PRODUCTION,
        permissionSetRef: "ReadOnlyAccess",
        startsAt: now,
        expiresAt: new Date(now.getTime() + 3_600_000),
        reason: "Investigate the latency alarms",
        approvers: ["bob"],
        approverSets: [{ path: `access-requests/alice-${mergeCounter}.yaml`, approvers: ["bob"] }],
        policyRule: 0,
        aws: { roleArn: ROLE_ARN, region: "us-east-1", instanceArn: INSTANCE_ARN, identityStoreId: IDENTITY_STORE_ID },
        ...fields,
      },
    ],
  });
  return outcome.grantIds[0]!;
}

/** Polls until `check` holds (the worker runs on its own); fails with `describe`'s view when it never does. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  describe: () => unknown,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; state: ${JSON.stringify(await describe(), null, 1)}`);
    await sleep(25);
  }
}
