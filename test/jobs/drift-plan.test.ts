import { describe, expect, it } from "vitest";
import { parseTenantConfig } from "../../src/config/tenant.js";
import type { TenantSnapshot } from "../../src/config/tenant-snapshots.js";
import { claimsToRelease, compare, liveGrantScopes, nextSlice, planTenantSweeps, type DriftGrant } from "../../src/jobs/drift-plan.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const READ = "arn:aws:sso:::permissionSet/ssoins-1/ps-read";
const ADMIN = "arn:aws:sso:::permissionSet/ssoins-1/ps-admin";
const BILLING = "arn:aws:sso:::permissionSet/ssoins-1/ps-billing";
const T = new Date("2026-11-25T12:00:00Z");

const grant = (id: string, overrides: Partial<DriftGrant> = {}): DriftGrant => ({
  id,
  repositoryId: "700001",
  status: "active",
  accountId: "111111111111",
  permissionSetArn: READ,
  principalId: "u-alice",
  activeAt: new Date(T.getTime() - 60_000),
  expiresAt: new Date(T.getTime() + 3_600_000),
  endedAt: null,
  held: false,
  createSent: true,
  failed: false,
  ...overrides,
});
const assignment = (
  principalId: string,
  permissionSetArn = READ,
  principalType: "USER" | "GROUP" = "USER",
  accountId = "111111111111",
) => ({ accountId, permissionSetArn, principalType, principalId });
const options = { managed: new Set([READ, ADMIN]), includeGroups: false, lookedAt: T, settleMs: 60_000 };
const pair = { kind: "pair" as const, accountId: "111111111111", permissionSetArn: READ };

describe("drift compare", () => {
  it("finds the active grant whose assignment is gone", () => {
    expect(compare(pair, [], [grant("g1")], options)).toEqual({ missing: [grant("g1")], unexpected: [] });
  });

  it("never calls missing what may just be arriving, is being worked on, or has ended", () => {
    const grants = [
      grant("confirmed-after-the-look", { activeAt: new Date(T.getTime() + 1) }),
      grant("provisioning", { status: "provisioning", activeAt: null }),
      grant("held", { held: true }),
      grant("other-pair", { accountId: "222222222222" }),
      grant("ended-a-moment-ago", { expiresAt: new Date(T.getTime() - 1) }),
    ];
    expect(compare(pair, [], grants, options).missing).toEqual([]);
  });

  it("flags assignments of managed sets no grant explains: users always, groups only when configured", () => {
    const observed = [assignment("u-alice"), assignment("u-bob"), assignment("g-ops", READ, "GROUP"), assignment("u-carol", BILLING)];
    expect(compare(pair, observed, [grant("g1")], options).unexpected).toEqual([assignment("u-bob")]);
    expect(compare(pair, observed, [grant("g1")], { ...options, includeGroups: true }).unexpected).toEqual([
      assignment("u-bob"),
      assignment("g-ops", READ, "GROUP"),
    ]);
  });

  it("counts provisioning, revoking and just-ended grants as explanations", () => {
    const observed = [assignment("u-a"), assignment("u-b"), assignment("u-c"), assignment("u-d")];
    const grants = [
      grant("a", { principalId: "u-a", status: "provisioning", activeAt: null }),
      grant("b", { principalId: "u-b", status: "revoking" }),
      grant("c", { principalId: "u-c", status: "revoked", endedAt: new Date(T.getTime() - 1000) }),
      grant("d", { principalId: "u-d", status: "revoked", endedAt: new Date(T.getTime() - 120_000) }),
    ];
    expect(compare(pair, observed, grants, options).unexpected).toEqual([assignment("u-d")]);
  });

  it("never counts a grant given up while provisioning, or one whose create was never sent, as an explanation", () => {
    const observed = [assignment("u-a"), assignment("u-b"), assignment("u-c")];
    const grants = [
      // AWS refused its create; its delete waits (and may be refused too) in revoking.
      grant("a", { principalId: "u-a", status: "revoking", activeAt: null, failed: true }),
      // Still resolving names: nothing was sent, so the assignment is not its.
      grant("b", { principalId: "u-b", status: "provisioning", activeAt: null, createSent: false }),
      grant("c", { principalId: "u-c", status: "provisioning", activeAt: null }),
    ];
    expect(compare(pair, observed, grants, options).unexpected).toEqual([assignment("u-a"), assignment("u-b")]);
  });

  it("never counts a grant that ended just now without ever holding the assignment as an explanation", () => {
    const observed = [assignment("u-a"), assignment("u-b")];
    const justNow = new Date(T.getTime() - 1000);
    const grants = [
      // AWS refused its create at once: it failed a moment ago, nothing was ever assigned by it.
      grant("a", { principalId: "u-a", status: "failed", activeAt: null, failed: true, endedAt: justNow }),
      // Revoked while still waiting to start: no create was ever sent.
      grant("b", { principalId: "u-b", status: "revoked", activeAt: null, createSent: false, endedAt: justNow }),
    ];
    expect(compare(pair, observed, grants, options).unexpected).toEqual([assignment("u-a"), assignment("u-b")]);
  });

  it("looks at a principal's assignments across accounts and sets", () => {
    const scope = { kind: "principal" as const, principalId: "u-alice" };
    const grants = [grant("read"), grant("admin", { permissionSetArn: ADMIN, accountId: "222222222222" })];
    const observed = [assignment("u-alice"), assignment("u-alice", BILLING)];
    expect(compare(scope, observed, grants, options)).toEqual({ missing: [grants[1]], unexpected: [] });
  });
});

describe("live grant scopes", () => {
  it("lists per principal or per pair, whichever is fewer, least recently checked first", () => {
    const manyPrincipalsOnePair = ["u-a", "u-b", "u-c"].map((principalId) => grant(principalId, { principalId }));
    expect(liveGrantScopes(manyPrincipalsOnePair)).toEqual([pair]);
    const onePrincipalManyPairs = ["1", "2", "3"].map((n) => grant(n, { accountId: n.repeat(12) }));
    expect(liveGrantScopes(onePrincipalManyPairs)).toEqual([{ kind: "principal", principalId: "u-alice" }]);
    const two = [
      grant("a", { principalId: "u-a", accountId: "1".repeat(12) }),
      grant("b", { principalId: "u-b", accountId: "2".repeat(12) }),
    ];
    const checked = new Map([
      ["principal:u-a", 2],
      ["principal:u-b", 1],
    ]);
    expect(liveGrantScopes(two, checked).map((scope) => scope.kind === "principal" && scope.principalId)).toEqual(["u-b", "u-a"]);
    expect(liveGrantScopes([grant("x", { status: "revoking" })])).toEqual([]);
  });
});

describe("nextSlice", () => {
  it("walks the pass in slices and wraps", () => {
    const items = [1, 2, 3, 4, 5];
    expect(nextSlice(items, 0, 2)).toEqual({ slice: [1, 2], next: 2, wrapped: false });
    expect(nextSlice(items, 4, 2)).toEqual({ slice: [5], next: 0, wrapped: true });
    expect(nextSlice(items, 9, 2)).toEqual({ slice: [1, 2], next: 2, wrapped: false });
    expect(nextSlice([], 0, 2)).toEqual({ slice: [], next: 0, wrapped: true });
  });
});

describe("planning each tenant's sweep", () => {
  const INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111";
  const OTHER = "arn:aws:sso:::instance/ssoins-2222222222222222";
  const defaults = { region: "us-east-1", instanceArn: INSTANCE };
  const snapshot = (repositoryId: string, yaml: string): TenantSnapshot => {
    const parsed = parseTenantConfig(new TextEncoder().encode(yaml));
    return {
      tenant: "7001",
      repositoryId,
      repo: `acme/${repositoryId}`,
      commitSha: "c".repeat(40),
      ...(parsed.ok ? { config: parsed.config } : {}),
    };
  };
  it("gives each tenant its own role, mode and declared sets, and splits the instance between them", () => {
    const { scopes } = planTenantSweeps(
      [
        snapshot(
          "1",
          policyYaml({
            aws: { role_arn: "arn:aws:iam::111111111111:role/one" },
            rules: [ANY_RULE],
            drift: { managed_permission_sets: ["BreakGlass"], unexpected: "remove" },
          }),
        ),
        snapshot(
          "2",
          policyYaml({ aws: { role_arn: "arn:aws:iam::222222222222:role/two" }, rules: [ANY_RULE], drift: { unexpected: "flag" } }),
        ),
      ],
      [],
      defaults,
    );
    expect(scopes.map((scope) => [scope.repositoryId, scope.target.roleArn, scope.declared, scope.remove, scope.sharers])).toEqual([
      ["1", "arn:aws:iam::111111111111:role/one", ["BreakGlass"], true, 2],
      ["2", "arn:aws:iam::222222222222:role/two", [], false, 2],
    ]);
  });

  it('never infers managed sets from rules, even a "*" rule', () => {
    const { scopes } = planTenantSweeps([snapshot("1", policyYaml({ rules: [ANY_RULE], drift: { unexpected: "remove" } }))], [], defaults);
    expect(scopes[0]!.declared).toEqual([]);
  });

  it("keeps repairing live grants on an instance the config no longer names, through the role that provisioned them, managing nothing there", () => {
    const { scopes } = planTenantSweeps(
      [
        snapshot(
          "1",
          policyYaml({
            aws: { instance_arn: OTHER, role_arn: "arn:aws:iam::111111111111:role/new" },
            rules: [ANY_RULE],
            drift: { managed_permission_sets: ["BreakGlass"], unexpected: "remove" },
          }),
        ),
      ],
      [
        {
          tenant: "7001",
          repository_id: "1",
          repo: "acme/1",
          instance_arn: INSTANCE,
          aws_region: "us-east-1",
          aws_role_arn: "arn:aws:iam::111111111111:role/old",
          identity_store_id: null,
        },
      ],
      defaults,
    );
    expect(scopes.map((scope) => [scope.target.instanceArn, scope.target.roleArn, scope.declared, scope.remove])).toEqual([
      [INSTANCE, "arn:aws:iam::111111111111:role/old", [], false],
      [OTHER, "arn:aws:iam::111111111111:role/new", ["BreakGlass"], true],
    ]);
  });

  it("sweeps nothing for a config that does not parse", () => {
    expect(planTenantSweeps([snapshot("1", "rules: nope\n")], [], defaults).scopes).toEqual([]);
  });

  it("before any sweep, releases only the claims of a tenant whose valid config left the claim's instance; a broken config keeps them", () => {
    const plan = planTenantSweeps(
      [
        snapshot("1", policyYaml({ rules: [ANY_RULE], drift: { managed_permission_sets: ["BreakGlass"] } })),
        snapshot("3", "rules: nope\n"),
      ],
      [],
      defaults,
    );
    const claims = [
      // Still on its instance: its own sweep decides, by ARN (a respelling keeps the claim).
      { instance_arn: INSTANCE, repository_id: "1" },
      // Its config left this instance.
      { instance_arn: OTHER, repository_id: "1" },
      // No config recorded at all: nothing says it gave the set up.
      { instance_arn: INSTANCE, repository_id: "2" },
      // A config that does not parse: kept, never handed to another tenant by a broken push.
      { instance_arn: INSTANCE, repository_id: "3" },
    ];
    expect(claimsToRelease(claims, plan)).toEqual([claims[1]]);
  });
});
