/**
 * Security review 3: another tenant decides which Identity Center user an approver of this tenant
 * is, and so brings back "the grantee approves their own access under another spelling".
 *
 * The worker compares approvers and grantee as Identity Center user ids (policy-recheck.ts:24-47),
 * looked up through `Directory.principalId`, cached for 10 minutes under `<instance ARN>|<name>`
 * (src/aws/directory.ts:66). The lookup runs with the identity store of the tenant that asked
 * first, and a tenant config names its `aws.identity_store_id` freely: globex names the shared
 * instance with the identity store of an instance of its own, where it created a user called
 * `frank`. One globex request by gus (whom globex maps to `frank`) caches globex's user id as acme's `frank`.
 *
 * acme's code owner frank (mapped `frank: frank`) then approves a request for
 * `principal: frank@example.com`, his own user under its e-mail. The merge compares spellings and
 * approves; the worker compares ids: frank@example.com is acme's real user, `frank` is globex's
 * user, they differ, frank's approval counts, and frank's access is created on his own approval.
 */
import { describe, expect, it } from "vitest";
import { IDENTITY_STORE_ID, eventually } from "../support/aws-world.js";
import { ORG, POLICY, READ_ONLY, tenantAws, useSecurityWorld } from "./support/security-world.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const GLOBEX_INSTALLATION = 7002;
const GLOBEX_REPO = { owner: "globex", name: "access", id: 800_001 } as const;
const GLOBEX_ROLE = "arn:aws:iam::555555555555:role/jitsudo-globex";

/** acme's policy: the catch-all lets people ask on someone else's behalf; frank is mapped to his user name. */
const ACME_ON_BEHALF = POLICY.replace(/    max_duration: 8h\n$/, "    max_duration: 8h\n    allow_other_principal: true\n").replace(
  "  bob: bob@example.com\n",
  "  bob: bob@example.com\n  frank: frank\n",
);

describe("the user id another tenant's identity store gave an approver's name", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "globex/access"] });

  it("does not let frank approve access for frank@example.com, his own Identity Center user", async () => {
    const { ic } = world.aws;
    world.github.setTeamMembership(ORG, "security", "frank", "active");
    ic.addUser(IDENTITY_STORE_ID, { userName: "frank", email: "frank@example.com" });

    // globex: an Identity Center instance of its own (its role reaches only that one), with a user named frank.
    const own = ic.addInstance({ name: "globex" });
    ic.addUser(own.identityStoreId, { userName: "frank" });
    ic.addRole({
      roleArn: GLOBEX_ROLE,
      externalId: `jitsudo-${GLOBEX_INSTALLATION}-${GLOBEX_REPO.id}`,
      trustedInstances: [own.instanceArn],
    });
    const globexPolicy = policyYaml({
      aws: { ...tenantAws(GLOBEX_ROLE), identity_store_id: own.identityStoreId },
      users: { gus: "frank" },
      rules: [ANY_RULE],
    });
    world.github.createInstallation({ account: GLOBEX_REPO.owner, id: GLOBEX_INSTALLATION });
    const globex = world.github.createRepository({ ...GLOBEX_REPO, installationId: GLOBEX_INSTALLATION });
    for (const login of ["gus", "gina"]) globex.setPermission(login, "write");
    globex.commit("main", {
      files: { ".github/CODEOWNERS": "* @gina\n", ".github/jitsudo.yml": globexPolicy },
      author: "gina",
      message: "globex's policy",
    });
    const number = world.openPull({
      repository: globex,
      author: "gus",
      commits: [{ files: { "access-requests/gus/frank.yaml": READ_ONLY } }],
    });
    world.review(number, "gina", "APPROVED", globex);
    await world.merge(number, "merge", { repository: globex, by: "gina" });
    await eventually(
      () => ic.calls.some((call) => call.roleArn === GLOBEX_ROLE && call.operation === "GetUserId" && call.outcome === "ok"),
      () => ic.calls.filter((call) => call.roleArn === GLOBEX_ROLE).map((call) => [call.operation, call.outcome]),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    // acme: mallory asks for frank@example.com; frank, a code owner, approves.
    await world.withGovernance({ policy: ACME_ON_BEHALF }, async () => {
      const mark = world.mark();
      const request = world.openPull({
        author: "mallory",
        commits: [{ files: { [world.newPath("mallory")]: `${READ_ONLY}principal: frank@example.com\n` } }],
      });
      world.review(request, "frank");
      await world.merge(request, "merge");
      const grants = await world.grants(request);
      expect(world.createsSince(mark), "frank's own access was created on frank's approval").toBe(0);
      expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
      expect(grants[0]!.last_error ?? "").toMatch(/not the grantee in Identity Center/);
    });
  });
});
