/**
 * Two tenants on one Identity Center instance: acme (acme/access) and globex (globex/access, another
 * installation), each with its own role. globex's code owners control globex's config entirely and
 * try to steer acme's drift through it. Configs arrive as GitHub sends them (push webhooks through
 * Probot); drift runs against the local Identity Center.
 *
 * Before: every config naming an instance joined one shared list; managed sets were inferred from
 * every tenant's rules; any tenant's `flag` switched everyone's `remove` off; the sweep used one
 * tenant's role for all; and one unusable role failed the instance's whole sweep.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Repository } from "../../src/sandbox/github.js";
import type { SweepReport } from "../../src/jobs/drift.js";
import { IDENTITY_STORE_ID, INSTANCE_ARN, PRODUCTION, STAGING } from "../support/aws-world.js";
import { ACCESS_REPO, POLICY_FIXTURE, READ_ONLY, TENANT_ROLE, useSecurityWorld, tenantAws } from "./support/security-world.js";
import { policyYaml, READ_ONLY_RULE } from "../support/policy-fixtures.js";

const GLOBEX_INSTALLATION = 7002;
const GLOBEX_REPO = { owner: "globex", name: "access", id: 800_001 } as const;
const GLOBEX_ROLE = "arn:aws:iam::222222222222:role/jitsudo-globex";
const ACME = String(ACCESS_REPO.id);
const GLOBEX = String(GLOBEX_REPO.id);

const acmePolicy = (unexpected: "flag" | "remove") =>
  policyYaml({
    aws: tenantAws(TENANT_ROLE),
    users: { alice: "alice@example.com" },
    rules: [{ ...READ_ONLY_RULE, permission_sets: ["ReadOnlyAccess", "Billing"] }],
    drift: { managed_permission_sets: ["ReadOnlyAccess"], unexpected },
  });

/** globex lists acme's set as its own, names BreakGlass (which nobody manages) in its rules, and removes. */
const globexPolicy = (unexpected: "flag" | "remove", role = GLOBEX_ROLE) =>
  policyYaml({
    aws: tenantAws(role),
    users: { gus: "bob@example.com" },
    rules: [{ ...READ_ONLY_RULE, permission_sets: ["Billing", "BreakGlass", "ReadOnlyAccess"] }],
    drift: { managed_permission_sets: ["ReadOnlyAccess", "Billing"], unexpected },
  });

describe("two tenants on one Identity Center instance", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "globex/access"] });
  let globex: Repository;
  let billing: string;
  let breakGlass: string;
  let carol: string;
  const users = () => world.aws.users;
  const has = (accountId: string, permissionSetArn: string, principalId: string) =>
    world.aws.ic
      .assignments()
      .some((a) => a.accountId === accountId && a.permissionSetArn === permissionSetArn && a.principalId === principalId);
  const outOfBand = (accountId: string, permissionSetArn: string, principalId: string) =>
    world.aws.ic.addAssignmentOutOfBand({ instanceArn: INSTANCE_ARN, accountId, permissionSetArn, principalType: "USER", principalId });

  /** A config change pushed to the default branch, delivered as GitHub sends it. */
  const pushConfig = async (repository: Repository, policy: string, pusher: string) => {
    const push = repository.directPush("main", { ".github/jitsudo.yml": policy }, pusher);
    expect(await world.harness.deliver("push", push)).toBe(200);
  };
  /** Drift cycles until every tenant's sweep has finished a pass; the reports of the last cycle by tenant. */
  const fullPass = async (): Promise<Map<string, SweepReport>> => {
    const done = new Set<string>();
    let last = new Map<string, SweepReport>();
    for (let cycle = 0; cycle < 6; cycle++) {
      const reports = await world.worker.worker.drift.runOnce();
      last = new Map(reports.map((report) => [report.repositoryId, report]));
      for (const report of reports) if (report.completedRotation || report.error) done.add(report.repositoryId);
      if (done.size === reports.length) break;
    }
    await world.settle();
    // Deletions and re-creations settle in AWS a moment later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return last;
  };
  const deletesSince = (mark: number) =>
    world.aws.ic.calls
      .slice(mark)
      .filter((call) => call.operation === "DeleteAccountAssignment" && call.outcome === "ok")
      .map((call) => [call.roleArn, call.input.PermissionSetArn, call.input.PrincipalId]);

  beforeAll(async () => {
    const { ic } = world.aws;
    billing = ic.addPermissionSet(INSTANCE_ARN, { name: "Billing", provisionedTo: [PRODUCTION, STAGING] });
    breakGlass = ic.addPermissionSet(INSTANCE_ARN, { name: "BreakGlass", provisionedTo: [PRODUCTION] });
    carol = ic.addUser(IDENTITY_STORE_ID, { userName: "carol@example.com" });
    ic.addRole({ roleArn: GLOBEX_ROLE, externalId: `jitsudo-${GLOBEX_INSTALLATION}-${GLOBEX_REPO.id}`, trustedInstances: [INSTANCE_ARN] });

    // acme has been using jitsudo: its config lists ReadOnlyAccess as managed, it flags (keeps) what no grant explains.
    await pushConfig(world.access, acmePolicy("flag"), "admin");
    await world.grant();
    await fullPass();

    // globex arrives on the same instance.
    world.github.createInstallation({ account: GLOBEX_REPO.owner, id: GLOBEX_INSTALLATION });
    globex = world.github.createRepository({ ...GLOBEX_REPO, installationId: GLOBEX_INSTALLATION });
    for (const login of ["gus", "gina"]) globex.setPermission(login, "write");
    globex.commit("main", { files: { ".github/CODEOWNERS": "* @gina\n" }, author: "gina", message: "code owners" });
    await pushConfig(globex, globexPolicy("remove"), "gina");
    const request = READ_ONLY.replace("ReadOnlyAccess", "Billing").replace(`"${PRODUCTION}"`, `"${STAGING}"`);
    const number = world.openPull({
      repository: globex,
      author: "gus",
      commits: [{ files: { "access-requests/gus/billing.yaml": request } }],
    });
    world.review(number, "gina", "APPROVED", globex);
    await world.merge(number, "merge", { repository: globex, by: "gina" });
    expect((await world.grants(number, globex)).map((grant) => grant.status)).toEqual(["active"]);
  });

  it("gives globex no say over the set acme manages: acme keeps what it flags, and a standing assignment nobody manages stays", async () => {
    outOfBand(STAGING, world.aws.readOnly, users().bob); // acme's set, no grant: acme flags it
    outOfBand(PRODUCTION, breakGlass, carol); // standing break-glass access, managed by nobody
    outOfBand(PRODUCTION, billing, users().bob); // globex's set, no grant: globex removes it
    const mark = world.aws.ic.calls.length;

    const reports = await fullPass();

    expect(reports.get(GLOBEX)?.refusedClaims).toEqual([{ declaredAs: "ReadOnlyAccess", owner: ACME }]);
    expect(has(STAGING, world.aws.readOnly, users().bob)).toBe(true);
    expect(has(PRODUCTION, breakGlass, carol)).toBe(true);
    expect(has(PRODUCTION, world.aws.readOnly, users().alice)).toBe(true); // acme's grant
    expect(has(STAGING, billing, users().bob)).toBe(true); // globex's grant
    expect(has(PRODUCTION, billing, users().bob)).toBe(false);
    // The only deletion: globex's own set, through globex's own role.
    expect(deletesSince(mark)).toEqual([[GLOBEX_ROLE, billing, users().bob]]);
    const findings = await world
      .db("drift_findings")
      .whereNull("resolved_at")
      .select("permission_set_arn", "principal_id", "repository_id", "action")
      .orderBy("permission_set_arn");
    expect(findings.map((row) => [row.permission_set_arn, row.principal_id, String(row.repository_id), row.action])).toContainEqual([
      world.aws.readOnly,
      users().bob,
      ACME,
      "flagged",
    ]);
  });

  it("keeps each tenant's own mode: acme's remove works through acme's role whatever globex says, and globex's flag keeps globex's", async () => {
    await pushConfig(world.access, acmePolicy("remove"), "admin");
    await pushConfig(globex, globexPolicy("flag"), "gina");
    outOfBand(STAGING, billing, carol); // globex's set: globex now flags it
    const mark = world.aws.ic.calls.length;

    await fullPass();

    expect(has(STAGING, world.aws.readOnly, users().bob)).toBe(false);
    expect(has(STAGING, billing, carol)).toBe(true);
    expect(has(PRODUCTION, breakGlass, carol)).toBe(true);
    expect(deletesSince(mark)).toEqual([[TENANT_ROLE, world.aws.readOnly, users().bob]]);
  });

  it("never lets globex's removal take an assignment that acme's grant explains, in a set globex manages", async () => {
    await pushConfig(globex, globexPolicy("remove"), "gina");
    const request = READ_ONLY.replace("ReadOnlyAccess", "Billing");
    await world.grant({ commits: [{ files: { [world.newPath("alice")]: request } }] });
    const mark = world.aws.ic.calls.length;

    await fullPass();

    expect(has(PRODUCTION, billing, users().alice)).toBe(true);
    expect(deletesSince(mark).filter(([, set, principal]) => set === billing && principal === users().alice)).toEqual([]);
  });

  it("does not let globex stall acme: a role globex cannot use fails globex's sweep alone, and acme's deleted assignment comes back", async () => {
    await pushConfig(globex, globexPolicy("remove", "arn:aws:iam::222222222222:role/not-trusting-jitsudo"), "gina");
    world.aws.ic.deleteAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId: PRODUCTION,
      permissionSetArn: world.aws.readOnly,
      principalType: "USER",
      principalId: users().alice,
    });

    const reports = await fullPass();

    expect(reports.get(GLOBEX)?.error).toMatch(/AWS refused jitsudo/);
    expect(reports.get(ACME)?.error).toBeUndefined();
    expect(has(PRODUCTION, world.aws.readOnly, users().alice)).toBe(true);
  });

  it("keeps acme's claim while globex's config is unusable, and releases globex's claims only when globex stops listing them", async () => {
    const claims = async () =>
      (await world.db("drift_claims").select("permission_set_arn", "repository_id").orderBy("permission_set_arn")).map((row) => [
        row.permission_set_arn,
        String(row.repository_id),
      ]);
    expect(await claims()).toEqual(
      [
        [billing, GLOBEX],
        [world.aws.readOnly, ACME],
      ].sort(([a], [b]) => a!.localeCompare(b!)),
    );
    await pushConfig(globex, globexPolicy("remove").replace("[ReadOnlyAccess, Billing]", "[ReadOnlyAccess]"), "gina");
    await world.worker.worker.drift.runOnce();
    expect(await claims()).toEqual([[world.aws.readOnly, ACME]]);
  });
});

describe("a tenant without a role", () => {
  const world = useSecurityWorld();

  it("cannot borrow jitsudo's own credentials for an instance other than the deployment's", async () => {
    const other = world.aws.ic.addInstance({ name: "another" });
    const otherSet = world.aws.ic.addPermissionSet(other.instanceArn, { name: "ReadOnlyAccess" });
    world.aws.ic.addAccount({ id: "444444444444", name: "elsewhere" });
    // jitsudo's own identity can reach that instance (it would in AWS too, with broad permissions).
    world.aws.ic.addUser(other.identityStoreId, { userName: "alice@example.com" });
    const roleless = policyYaml({
      aws: { region: "us-east-1", instance_arn: other.instanceArn, identity_store_id: other.identityStoreId },
      users: { alice: "alice@example.com" },
    });
    await world.withGovernance({ policy: roleless }, async () => {
      const mark = world.mark();
      const number = world.openPull();
      world.review(number, "dave");
      await world.merge(number, "merge");
      const [grant] = await world.grants(number);
      expect(grant?.status).toBe("failed");
      expect(grant?.last_error).toContain("jitsudo's own AWS credentials act only on the deployment's instance");
      expect(world.createsSince(mark)).toBe(0);
      expect(world.aws.ic.assignments().some((a) => a.permissionSetArn === otherSet)).toBe(false);
    });
  });
});

describe("the tenant config drift reads", () => {
  const world = useSecurityWorld();

  it("is the one a merge put in place, whichever of GitHub's two webhooks for the merge arrives last", async () => {
    const next = policyYaml({ ...POLICY_FIXTURE, drift: { managed_permission_sets: ["ReadOnlyAccess"], unexpected: "remove" } });
    // A pull request that changes the policy along with a request, approved by security.
    const number = world.openPull({ commits: [{ files: { [world.newPath("alice")]: READ_ONLY, ".github/jitsudo.yml": next } }] });
    world.review(number, "dave");
    world.review(number, "erin");
    const merged = world.access.merge(number, { method: "merge", by: "bob" });
    // The push first, then the pull request's closed event (GitHub does not order webhooks).
    expect(await world.harness.deliver("push", merged.push)).toBe(200);
    expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
    const row = (await world.db("tenant_configs").where({ repository_id: world.access.id }).first()) as {
      content: string;
      commit_sha: string;
    };
    expect(row.commit_sha).toBe(merged.sha);
    expect(row.content).toBe(next);
    world.restoreGovernance();
  });
});
