/**
 * Security review 3: a tenant's drift claim on a permission set is handed to another tenant when
 * its owner merely spells the set differently.
 *
 * Claims (`drift_claims`) record how the owner's config spelled the set (`declared_as`), and
 * `claimsToRelease` (src/jobs/drift-plan.ts:188-191) releases every claim whose spelling the
 * owner's config no longer contains, at the start of each cycle (`releaseClaims`, drift.ts:119),
 * before any tenant sweeps. Writing `ReadOnlyAccess` as its ARN (or the reverse, or dropping one
 * of two spellings) is the same set to the owner, but the claim is released, and the tenants then
 * sweep in repository-id order as strings (drift-plan.ts:183): a tenant that lists the same set,
 * refused until now, and sorts first (or whose owner's sweep fails or is skipped that cycle)
 * claims it. From then on the owner's sweep is refused ("managed by another tenant"), its
 * `drift.unexpected: remove` never applies to its own set again, and the other tenant's mode does.
 */
import { describe, expect, it } from "vitest";
import type { Repository } from "../../src/sandbox/github.js";
import { INSTANCE_ARN, STAGING } from "../support/aws-world.js";
import { ACCESS_REPO, useSecurityWorld, tenantAws, acmeDriftPolicy } from "./support/security-world.js";
import { policyYaml } from "../support/policy-fixtures.js";

const INITECH_INSTALLATION = 7003;
/** Any repository whose id sorts before acme's (700001) as a string. */
const INITECH_REPO = { owner: "initech", name: "access", id: 600_001 } as const;
const INITECH_ROLE = "arn:aws:iam::333333333333:role/jitsudo-initech";
const ACME = String(ACCESS_REPO.id);

const acmePolicy = acmeDriftPolicy;

/** initech lists acme's set too (refused while acme holds it) and only flags. */
const INITECH_POLICY = policyYaml({
  aws: tenantAws(INITECH_ROLE),
  drift: { managed_permission_sets: ["ReadOnlyAccess"], unexpected: "flag" },
});

describe("a drift claim when its owner respells the permission set", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "initech/access"] });

  const pushConfig = async (repository: Repository, policy: string, pusher: string) => {
    const push = repository.directPush("main", { ".github/jitsudo.yml": policy }, pusher);
    expect(await world.harness.deliver("push", push)).toBe(200);
  };
  const owner = async (permissionSetArn: string) => {
    const row = (await world.db("drift_claims").where({ instance_arn: INSTANCE_ARN, permission_set_arn: permissionSetArn }).first()) as
      { repository_id: string } | undefined;
    return row ? String(row.repository_id) : undefined;
  };

  it("stays acme's, and acme's removal keeps working on it", async () => {
    const readOnly = world.aws.readOnly;
    // acme manages ReadOnlyAccess (by name) and removes what no grant explains.
    await pushConfig(world.access, acmePolicy("ReadOnlyAccess"), "admin");
    await world.worker.worker.drift.runOnce();
    expect(await owner(readOnly)).toBe(ACME);

    // initech arrives on the instance listing the same set: refused, as designed.
    world.aws.ic.addRole({
      roleArn: INITECH_ROLE,
      externalId: `jitsudo-${INITECH_INSTALLATION}-${INITECH_REPO.id}`,
      trustedInstances: [INSTANCE_ARN],
    });
    world.github.createInstallation({ account: INITECH_REPO.owner, id: INITECH_INSTALLATION });
    const initech = world.github.createRepository({ ...INITECH_REPO, installationId: INITECH_INSTALLATION });
    initech.setPermission("ian", "write");
    await pushConfig(initech, INITECH_POLICY, "ian");
    const refused = await world.worker.worker.drift.runOnce();
    expect(refused.find((report) => report.repositoryId === String(INITECH_REPO.id))?.refusedClaims).toEqual([
      { declaredAs: "ReadOnlyAccess", owner: ACME },
    ]);
    expect(await owner(readOnly)).toBe(ACME);

    // acme's admin writes the same set as its ARN: nothing about what acme manages changed.
    await pushConfig(world.access, acmePolicy(readOnly), "admin");
    await world.worker.worker.drift.runOnce();
    expect(await owner(readOnly), "acme still lists the set; its claim must not pass to initech").toBe(ACME);

    // And acme's removal still applies to its set.
    world.aws.ic.addAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId: STAGING,
      permissionSetArn: readOnly,
      principalType: "USER",
      principalId: world.aws.users.bob,
    });
    for (let cycle = 0; cycle < 3; cycle++) await world.worker.worker.drift.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      world.aws.ic
        .assignments()
        .some((a) => a.accountId === STAGING && a.permissionSetArn === readOnly && a.principalId === world.aws.users.bob),
    ).toBe(false);
  });
});
