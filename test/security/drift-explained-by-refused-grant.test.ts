/**
 * Security review 3: another tenant's grant that AWS refused to create shields, for good, an
 * assignment in a permission set this tenant manages from this tenant's `drift.unexpected: remove`.
 *
 * Drift treats an assignment as explained when ANY tenant's grant for it is `provisioning`,
 * `active` or `revoking` (src/jobs/drift-plan.ts:70-74, and the re-check before a delete in
 * src/jobs/drift.ts:321-325). With tenant roles scoped as the README asks ("scope each tenant
 * role's sso:CreateAccountAssignment / sso:DeleteAccountAssignment to that tenant's permission
 * sets"), globex cannot create an assignment of acme's ReadOnlyAccess. But globex's code owners can
 * approve a globex request for it: the worker resolves it (ids recorded), records the create intent,
 * AWS answers AccessDenied, the grant is given up into `revoking` (provision.ts:244-246, a create
 * "may have been sent"), and its DeleteAccountAssignment is refused too, so it stays `revoking`,
 * retried forever (revoke.ts:127-149). For as long as it exists, an out-of-band assignment of
 * acme's managed set for the same user and account (standing access someone added in the console,
 * exactly what acme's `remove` is for) is "explained", and acme's drift never removes it.
 * (The same stuck grants also send a DeleteAccountAssignment at top "revoke" priority every
 * ≤ 60 s each, ahead of every other tenant's provisioning calls at the shared rate limiter.)
 */
import { describe, expect, it } from "vitest";
import { AwsError, type ServiceRequest } from "../../src/sandbox/index.js";
import { IDENTITY_STORE_ID, INSTANCE_ARN, STAGING } from "../support/aws-world.js";
import { READ_ONLY, useSecurityWorld, tenantAws, acmeDriftPolicy } from "./support/security-world.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const GLOBEX_INSTALLATION = 7002;
const GLOBEX_REPO = { owner: "globex", name: "access", id: 800_001 } as const;
const GLOBEX_ROLE = "arn:aws:iam::222222222222:role/jitsudo-globex";

const ACME_POLICY = acmeDriftPolicy("ReadOnlyAccess");

/** globex's own policy: its code owners approve anything, for carol (gus's Identity Center user). */
const GLOBEX_POLICY = policyYaml({ aws: tenantAws(GLOBEX_ROLE), users: { gus: "carol@example.com" }, rules: [ANY_RULE] });

interface FrontDoor {
  admit(request: ServiceRequest, caller: { session?: { roleArn: string } }, now: number): void;
}

describe("an assignment in acme's managed set, and a globex grant AWS refused", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "globex/access"] });

  it("does not keep acme's drift from removing it", async () => {
    const { ic } = world.aws;
    const readOnly = world.aws.readOnly;
    const billing = ic.addPermissionSet(INSTANCE_ARN, { name: "Billing", provisionedTo: [STAGING] });
    const carol = ic.addUser(IDENTITY_STORE_ID, { userName: "carol@example.com" });

    // globex's role, scoped as the README asks: it may assign and unassign only globex's own set.
    ic.addRole({ roleArn: GLOBEX_ROLE, externalId: `jitsudo-${GLOBEX_INSTALLATION}-${GLOBEX_REPO.id}`, trustedInstances: [INSTANCE_ARN] });
    const door = (ic as unknown as { frontDoor: FrontDoor }).frontDoor;
    const admit = door.admit.bind(door);
    door.admit = (request, caller, now) => {
      const mutating = request.operation === "CreateAccountAssignment" || request.operation === "DeleteAccountAssignment";
      if (caller.session?.roleArn === GLOBEX_ROLE && mutating && request.input.PermissionSetArn !== billing) {
        throw new AwsError(
          "AccessDeniedException",
          `User: ${GLOBEX_ROLE} is not authorized to perform: sso:${request.operation} on resource: ${String(request.input.PermissionSetArn)}`,
        );
      }
      admit(request, caller, now);
    };

    // acme manages ReadOnlyAccess and removes what no grant explains.
    const push = world.access.directPush("main", { ".github/jitsudo.yml": ACME_POLICY }, "admin");
    expect(await world.harness.deliver("push", push)).toBe(200);
    await world.worker.worker.drift.runOnce();

    // globex's code owners approve a globex request for acme's set, for carol in staging.
    world.github.createInstallation({ account: GLOBEX_REPO.owner, id: GLOBEX_INSTALLATION });
    const globex = world.github.createRepository({ ...GLOBEX_REPO, installationId: GLOBEX_INSTALLATION });
    for (const login of ["gus", "gina"]) globex.setPermission(login, "write");
    globex.commit("main", {
      files: { ".github/CODEOWNERS": "* @gina\n", ".github/jitsudo.yml": GLOBEX_POLICY },
      author: "gina",
      message: "globex's policy",
    });
    const request = READ_ONLY.replace(/account: "\d+"/, `account: "${STAGING}"`);
    const number = world.openPull({
      repository: globex,
      author: "gus",
      commits: [{ files: { "access-requests/gus/readonly.yaml": request } }],
    });
    world.review(number, "gina", "APPROVED", globex);
    await world.merge(number, "merge", { repository: globex, by: "gina" });
    // AWS refused globex's role the create at once (a 4xx): nothing was ever assigned by it, so the grant failed with nothing to remove.
    expect((await world.grants(number, globex)).map((grant) => grant.status)).toEqual(["failed"]);
    expect(
      ic.calls.filter((call) => call.roleArn === GLOBEX_ROLE && call.operation === "CreateAccountAssignment").map((call) => call.outcome),
    ).toEqual(["AccessDeniedException"]);

    // Standing access added in the console: acme's managed set, no acme grant.
    ic.addAssignmentOutOfBand({
      instanceArn: INSTANCE_ARN,
      accountId: STAGING,
      permissionSetArn: readOnly,
      principalType: "USER",
      principalId: carol,
    });
    for (let cycle = 0; cycle < 3; cycle++) await world.worker.worker.drift.runOnce();
    await world.settle();
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(
      ic.assignments().some((a) => a.accountId === STAGING && a.permissionSetArn === readOnly && a.principalId === carol),
      "acme's drift.unexpected: remove must remove an assignment of its set that only a refused globex grant names",
    ).toBe(false);
  });
});
