/**
 * The world every attack in test/security runs in, with real parts wherever a user has them:
 *
 * - the local GitHub (a model of GitHub's repositories, merges, reviews and API) behind nock, with
 *   an organisation `acme` whose installation of jitsudo covers its access repository `acme/access`
 *   and a second repository `acme/playground`, as "All repositories" installations do;
 * - jitsudo's real server (Probot's webhook pipeline, signed deliveries) and real PostgreSQL;
 * - the local Identity Center over HTTP with the real AWS SDK, where the tenant role trusts only
 *   the ExternalId that names the access repository;
 * - jitsudo's real worker, reporting each state on the pull request.
 *
 * Each attack then asserts what a security reviewer would check: no grant row (or a grant that
 * failed before anything was created), no CreateAccountAssignment in the Identity Center's own call
 * log, and the reason on the pull request. Each family also runs the same steps without the attack
 * and sees the access granted, so every refusal is one the test could have missed.
 */
import type { Knex } from "knex";
import { afterAll, beforeAll, expect } from "vitest";
import { PullRequestReporter } from "../../../src/github/grant-comments.js";
import { installationGateways } from "../../../src/github/installation-gateway.js";
import { STICKY_MARKER } from "../../../src/github/sticky-comment.js";
import type { GrantRow } from "../../../src/grants/grant-repository.js";
import { catchUpMerges } from "../../../src/jobs/catch-up.js";
import {
  gitBlobId,
  SimulatedClock,
  type FileSpec,
  type MergeMethod,
  type PersonSpec,
  type Repository,
  type ReviewState,
} from "../../../src/sandbox/github.js";
import { startHarness, type Harness } from "../../support/app-harness.js";
import {
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  startAwsWorld,
  startTestWorker,
  type AwsWorld,
  type RunningWorker,
} from "../../support/aws-world.js";
import { freshDatabase } from "../../support/db.js";
import { FakeGitHub } from "../../support/fake-github.js";
import { ANY_RULE, policyYaml, READ_ONLY_RULE, requestYaml, strictAdminRule, type PolicyFixture } from "../../support/policy-fixtures.js";

export const ORG = "acme";
export const INSTALLATION = 7001;
export const ACCESS_REPO = { owner: ORG, name: "access", id: 700_001 } as const;
export const PLAYGROUND_REPO = { owner: ORG, name: "playground", id: 700_002 } as const;
/** The ExternalId the tenant role's trust policy names: this installation and the access repository, by id. */
export const EXTERNAL_ID = `jitsudo-${INSTALLATION}-${ACCESS_REPO.id}`;
export const TENANT_ROLE = "arn:aws:iam::111111111111:role/jitsudo-acme";
export const PRODUCTION = "123456789012";

/** The `aws:` section of a tenant's policy: its role in the shared instance and identity store. */
export const tenantAws = (roleArn: string, region = "us-east-1") => ({
  role_arn: roleArn,
  region,
  instance_arn: INSTANCE_ARN,
  identity_store_id: IDENTITY_STORE_ID,
});

/** acme's policy for the drift tests: alice may have ReadOnlyAccess anywhere; acme manages `managed` and removes what no grant explains. */
export const acmeDriftPolicy = (managed = "ReadOnlyAccess") =>
  policyYaml({
    aws: tenantAws(TENANT_ROLE),
    users: { alice: "alice@example.com" },
    drift: { managed_permission_sets: [managed], unexpected: "remove" },
  });

/** The tenant's policy: AdministratorAccess on production is strict; a loose catch-all follows it. */
export const POLICY_FIXTURE: PolicyFixture = {
  aws: tenantAws(TENANT_ROLE),
  users: { alice: "alice@example.com", bob: "bob@example.com" },
  rules: [strictAdminRule(PRODUCTION), { ...READ_ONLY_RULE, permission_sets: ["ReadOnlyAccess", "AdministratorAccess"] }],
};
export const POLICY = policyYaml(POLICY_FIXTURE);
/** Security reviews every request; dave is a security engineer, paula's invitation is pending. */
/** A squatter's policy: jitsudo's own credentials, anything on any account, one approval. */
export const SQUATTER_POLICY = policyYaml({
  aws: { region: "us-east-1", instance_arn: INSTANCE_ARN, identity_store_id: IDENTITY_STORE_ID },
  users: { mallory: "alice@example.com" },
  rules: [ANY_RULE],
});

export const CODEOWNERS = "/access-requests/ @acme/security\n";
export const READ_ONLY = requestYaml({ account: PRODUCTION });

export interface CommitStep {
  files: Record<string, FileSpec>;
  author?: PersonSpec;
  committer?: PersonSpec;
}

export interface PullSpec {
  /** The commits of the pull request, in order (default: one commit adding READ_ONLY at a new path). */
  commits?: CommitStep[];
  author?: string;
  base?: string;
  repository?: Repository;
}

export interface SecurityWorld {
  db: Knex;
  github: FakeGitHub;
  harness: Harness;
  aws: AwsWorld;
  worker: RunningWorker;
  access: Repository;
  playground: Repository;
  /** A request file path no earlier test used (main keeps every merged request). */
  newPath(owner?: string): string;
  /** Opens a pull request from a new branch with the given commits; returns its number. */
  openPull(spec?: PullSpec): number;
  review(number: number, login: string, state?: ReviewState, repository?: Repository): void;
  /** Merges on GitHub, delivers the webhooks GitHub sends (closed, then push) and lets the worker act. */
  merge(number: number, method: MergeMethod, options?: { by?: string; repository?: Repository }): Promise<string>;
  /** A request dave (security) approves and bob merges, checked to be active: the starting point of revoke and rename attacks. */
  grant(spec?: PullSpec, method?: MergeMethod): Promise<number>;
  /** `login` comments `body` on a pull request; the webhook is delivered and the worker settles. */
  command(number: number, login: string, body: string, repository?: Repository): Promise<void>;
  /** Lets the worker claim and finish whatever is due, then writes the PR comments. */
  settle(): Promise<void>;
  /** One run of the catch-up scan for merges whose webhook never arrived; what it judged in the access repository. */
  catchUp(options?: { accessRepositories?: readonly string[] }): Promise<{ number: number; outcome: string }[]>;
  /** The grants recorded for one pull request. */
  grants(number: number, repository?: Repository): Promise<GrantRow[]>;
  verdict(number: number, repository?: Repository): Promise<{ verdict: string; reasons: string[] } | undefined>;
  /** How many calls the local Identity Center has had: a mark to count creates from. */
  mark(): number;
  /** CreateAccountAssignment calls the local Identity Center received since `mark`. */
  createsSince(mark: number): number;
  /** Commits new governance to main (as an admin's own merged PR would), runs `work`, then puts the original back. */
  withGovernance<T>(changes: { policy?: string; codeowners?: string }, work: () => Promise<T>): Promise<T>;
  /** Puts main's governance files back as the world began (after a test whose merge changed them). */
  restoreGovernance(): void;
  /** jitsudo's sticky comment on a pull request ("" when none). */
  comment(number: number, repository?: Repository): string;
  stop(): Promise<void>;
}

export interface SecurityWorldOptions {
  /** JITSUDO_ACCESS_REPOSITORIES; null leaves it unset (every repository may record merges). */
  accessRepositories?: readonly string[] | null;
}

export async function startSecurityWorld(options: SecurityWorldOptions = {}): Promise<SecurityWorld> {
  const listed = options.accessRepositories === undefined ? [`${ACCESS_REPO.owner}/${ACCESS_REPO.name}`] : options.accessRepositories;
  const { db } = await freshDatabase();
  const aws = await startAwsWorld({ provisioningDelayMs: 50 });
  // The tenant role: trusted only with the ExternalId naming the access repository.
  aws.ic.addRole({ roleArn: TENANT_ROLE, externalId: EXTERNAL_ID, trustedInstances: [INSTANCE_ARN] });
  // GitHub's clock starts where the worker's does, on a whole second as GitHub's timestamps are.
  const github = new FakeGitHub({ clock: new SimulatedClock(new Date(Math.floor(aws.clock.nowMs() / 1000) * 1000)) });
  github.createInstallation({ account: ORG, id: INSTALLATION });
  const access = github.createRepository({ ...ACCESS_REPO, installationId: INSTALLATION });
  const playground = github.createRepository({ ...PLAYGROUND_REPO, installationId: INSTALLATION });
  for (const repository of [access, playground]) seedPeople(github, repository);
  access.commit("main", { files: governance(), author: "admin", message: "Access policy and code owners" });

  // The harness lists Codertocat/Hello-World by default; an empty value unsets the list.
  const harness = await startHarness({
    github,
    db,
    now: aws.clock.now,
    env: { JITSUDO_ACCESS_REPOSITORIES: listed ? listed.join(",") : "" },
  });
  const reporter = new PullRequestReporter({ db, gatewayFor: installationGateways(harness.probot), log: silent, coalesceMs: 5 });
  const worker = await startTestWorker(db, aws, { reporter, accessRepositories: listed ?? [] });

  let branches = 0;
  let paths = 0;
  const world: SecurityWorld = {
    db,
    github,
    harness,
    aws,
    worker,
    access,
    playground,
    newPath: (owner = "alice") => `access-requests/${owner}/request-${++paths}.yaml`,
    openPull(spec = {}) {
      const repository = spec.repository ?? access;
      const author = spec.author ?? "alice";
      const branch = `${author}/request-${++branches}`;
      repository.createBranch(branch, spec.base ?? repository.defaultBranch, author);
      for (const step of spec.commits ?? [{ files: { [world.newPath(author)]: READ_ONLY } }]) {
        repository.commit(branch, {
          files: step.files,
          author: step.author ?? author,
          ...(step.committer !== undefined ? { committer: step.committer } : {}),
          pusher: author,
        });
      }
      return repository.openPull({ head: branch, ...(spec.base ? { base: spec.base } : {}), author, title: "Access request" });
    },
    review(number, login, state = "APPROVED", repository = access) {
      repository.review(number, login, state);
    },
    async merge(number, method, options = {}) {
      const repository = options.repository ?? access;
      const merged = repository.merge(number, { method, by: options.by ?? "bob" });
      await expectDelivered(harness, "pull_request", merged.closed);
      await expectDelivered(harness, "push", merged.push);
      await world.settle();
      return merged.sha;
    },
    async grant(spec = {}, method = "merge") {
      const number = world.openPull(spec);
      world.review(number, "dave", "APPROVED", spec.repository);
      await world.merge(number, method, spec.repository ? { repository: spec.repository } : {});
      expect((await world.grants(number, spec.repository)).map((grant) => grant.status)).toEqual(["active"]);
      return number;
    },
    async command(number, login, body, repository = access) {
      repository.conversation.comment(number, login, body);
      expect(await harness.deliverLatest("issue_comment.created")).toBe(200);
      await world.settle();
    },
    async settle() {
      // Twice: a create that finished may have freed a slot, or a failure may need its revoke.
      for (let round = 0; round < 2; round++) {
        await worker.worker.provision.claimAndStart();
        await worker.worker.provision.drain();
        await worker.worker.revoke.claimAndStart();
        await worker.worker.revoke.drain();
      }
      await reporter.flush();
    },
    async catchUp(overrides = {}) {
      const list = overrides.accessRepositories ?? listed;
      const options = {
        db,
        now: aws.clock.now,
        log: silent,
        ...(list ? { accessRepositories: list.map((name) => name.toLowerCase()) } : {}),
      };
      const scans = await catchUpMerges(harness.probot, options);
      // What the scan queued is judged in the inbox (a retry waiting there too, as if its time had come).
      await harness.settle({ retriesNow: true });
      const found = scans.find((scan) => scan.repo === access.fullName)?.found ?? [];
      return Promise.all(
        found.map(async ({ number }) => ({ number, outcome: (await world.verdict(number))?.verdict ?? "not judged yet" })),
      );
    },
    // By repository id: names move (a renamed repository, a new one taking the old name).
    grants: async (number, repository = access) =>
      (await db("grants").where({ repository_id: repository.id, pr_number: number }).orderBy("created_at")) as GrantRow[],
    async verdict(number, repository = access) {
      const row = (await db("merge_verdicts").where({ repository_id: repository.id, pr_number: number }).first()) as
        { verdict: string; reasons: string[] } | undefined;
      return row ? { verdict: row.verdict, reasons: row.reasons } : undefined;
    },
    mark: () => aws.ic.calls.length,
    createsSince: (mark) => aws.ic.calls.slice(mark).filter((call) => call.operation === "CreateAccountAssignment").length,
    async withGovernance(changes, work) {
      access.commit("main", { files: governance(changes), author: "admin", message: "Governance for this test" });
      try {
        return await work();
      } finally {
        world.restoreGovernance();
      }
    },
    restoreGovernance() {
      const tree = access.require("main").tree;
      const wanted = governance();
      const changes: Record<string, FileSpec> = {};
      for (const path of [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".github/jitsudo.yml"]) {
        const entry = tree.get(path);
        const want = wanted[path];
        if (want === undefined && entry) changes[path] = null;
        else if (typeof want === "string" && entry?.sha !== gitBlobId(new TextEncoder().encode(want))) changes[path] = want;
      }
      if (Object.keys(changes).length > 0) access.commit("main", { files: changes, author: "admin", message: "Governance restored" });
    },
    comment(number, repository = access) {
      const sticky = repository.conversation.commentsOn(number).find((comment) => comment.body.startsWith(STICKY_MARKER));
      return sticky?.body ?? "";
    },
    async stop() {
      await worker.stop();
      await harness.stop();
      await aws.stop();
    },
  };
  return world;
}

/** The policy and CODEOWNERS an admin commits to main (a test may change one of them). */
export function governance(changes: { policy?: string; codeowners?: string } = {}): Record<string, FileSpec> {
  return {
    ".github/jitsudo.yml": changes.policy ?? POLICY,
    ".github/CODEOWNERS": changes.codeowners ?? CODEOWNERS,
    "README.md": "# Access requests\n",
  };
}

function seedPeople(github: FakeGitHub, repository: Repository): void {
  for (const login of ["alice", "bob", "carol", "dave", "mallory", "paula"]) repository.setPermission(login, "write");
  repository.setPermission("admin", "admin");
  github.setTeamMembership(ORG, "security", "dave", "active");
  github.setTeamMembership(ORG, "security", "erin", "active");
  github.setTeamMembership(ORG, "security", "paula", "pending");
  github.grantTeam(ORG, "security", repository, "write");
  repository.setPermission("erin", "write");
}

async function expectDelivered(harness: Harness, name: string, payload: unknown): Promise<void> {
  const status = await harness.deliver(name, payload);
  // A verdict that must wait (GitHub's record of the merge not there yet) answers 500; nothing else may.
  if (status !== 200) throw new Error(`jitsudo answered ${status} to the ${name} webhook`);
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/**
 * One world for a test file: started before its first test, stopped after its last. The tests of a
 * file share it (each uses its own pull requests and request paths), which keeps the suite fast.
 */
export function useSecurityWorld(options: SecurityWorldOptions = {}): SecurityWorld {
  let world: SecurityWorld | undefined;
  beforeAll(async () => {
    world = await startSecurityWorld(options);
  });
  afterAll(async () => {
    await world?.stop();
  });
  return new Proxy({} as SecurityWorld, {
    get(_target, key) {
      if (!world) throw new Error("the security world is used before it started (outside a test)");
      return Reflect.get(world, key);
    },
  });
}

/**
 * What every refused attack must show: no grant for the pull request, no CreateAccountAssignment
 * since `mark`, a recorded rejection whose reasons satisfy `reason`, and the refusal on the PR.
 */
export async function expectRefused(
  world: SecurityWorld,
  number: number,
  mark: number,
  reason: string | ((reason: string) => boolean),
): Promise<void> {
  expect(await world.grants(number)).toEqual([]);
  expect(world.createsSince(mark)).toBe(0);
  const verdict = await world.verdict(number);
  expect(verdict?.verdict).toBe("rejected");
  const matches = typeof reason === "string" ? (candidate: string) => candidate === reason : reason;
  expect(verdict?.reasons.some(matches), JSON.stringify(verdict?.reasons)).toBe(true);
  expect(world.comment(number)).toContain("### jitsudo: merge not approved, nothing was granted :no_entry:");
}

/** mallory creates acme/access (the name the real one left) with her own policy and CODEOWNERS, and merges a request carol approves. */
export async function squatAccessName(world: SecurityWorld, id: number): Promise<{ number: number; squatter: Repository }> {
  const squatter = world.github.createRepository({ owner: ORG, name: "access", id, installationId: INSTALLATION });
  for (const login of ["mallory", "carol"]) squatter.setPermission(login, "write");
  squatter.commit("main", {
    files: { ".github/jitsudo.yml": SQUATTER_POLICY, ".github/CODEOWNERS": "* @carol\n" },
    author: "mallory",
    message: "my access repository",
  });
  const request = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess");
  const number = world.openPull({
    repository: squatter,
    author: "mallory",
    commits: [{ files: { "access-requests/mallory/admin.yaml": request } }],
  });
  world.review(number, "carol", "APPROVED", squatter);
  await world.merge(number, "merge", { repository: squatter, by: "mallory" });
  return { number, squatter };
}
