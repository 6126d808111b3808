/**
 * Security review 3: one tenant's role decides, for every tenant of the instance, which account a
 * name is, and so defeats the canonical-ids re-check.
 *
 * The worker's `Directory` caches the organisation's account list (Organizations ListAccounts)
 * for 10 minutes under the INSTANCE ARN alone (src/aws/directory.ts:74 and :106), loaded through
 * the session of whichever tenant asked first. Organizations is not Identity Center: the call
 * names no instance, so the role answering it need not reach the instance at all. A tenant config
 * may name any role that trusts jitsudo's runtime identity with its ExternalId; globex's admins
 * create one in an AWS organisation of their own (any new AWS account can be one), whose account
 * list they write. One globex request naming an account by name (or a name not in the list, which
 * reloads it after 60 s, directory.ts:78) loads globex's list into the cache of acme's instance.
 *
 * acme's policy then reads wrong everywhere: `recheckOnCanonicalIds` (src/requests/policy.ts:147,
 * fed by `directory.accountNames`, src/jobs/policy-recheck.ts:74) no longer knows that
 * 123456789012 is `production`, so a request that spells the id to dodge the strict rule written
 * for `production` (2 approvals and a ticket) is provisioned under the catch-all with one approval:
 * the attack the README's "canonical-ids" row says is refused. (Requests naming accounts by name
 * resolve to globex's ids, or fail, in the same way.)
 */
import { describe, expect, it } from "vitest";
import type { JsonObject, ServiceRequest } from "../../src/sandbox/index.js";
import { eventually } from "../support/aws-world.js";
import { POLICY, PRODUCTION, READ_ONLY, useSecurityWorld, type SecurityWorld, tenantAws } from "./support/security-world.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const GLOBEX_INSTALLATION = 7002;
const GLOBEX_REPO = { owner: "globex", name: "access", id: 800_001 } as const;
/** A role in globex's own AWS organisation: it reaches no Identity Center instance of acme's. */
const GLOBEX_ROLE = "arn:aws:iam::555555555555:role/jitsudo-globex";

/** acme's policy as the README allows it: the strict rule names the account by its name. */
const ACME_POLICY = POLICY.replace(`accounts: ["${PRODUCTION}"]`, "accounts: [production]");

const GLOBEX_POLICY = policyYaml({ aws: tenantAws(GLOBEX_ROLE), users: { gus: "gus@example.com" }, rules: [ANY_RULE] });

/** alice asks for AdministratorAccess on production spelled as its id, with one approval and no ticket. */
const ADMIN_BY_ID = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess");

async function adminByIdWithOneApproval(world: SecurityWorld) {
  const mark = world.mark();
  const number = world.openPull({ commits: [{ files: { [world.newPath()]: ADMIN_BY_ID } }] });
  world.review(number, "dave");
  await world.merge(number, "merge");
  return { grants: await world.grants(number), creates: world.createsSince(mark) };
}

describe("the canonical-ids re-check of a rule that names an account (the control)", () => {
  const world = useSecurityWorld();

  it("refuses production spelled as its id under the catch-all", async () => {
    await world.withGovernance({ policy: ACME_POLICY }, async () => {
      const { grants, creates } = await adminByIdWithOneApproval(world);
      expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
      expect(grants[0]!.last_error).toContain("refused on its canonical ids");
      expect(creates).toBe(0);
    });
  });
});

describe("the account list another tenant's role loaded for the instance", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "globex/access"] });

  it("does not decide acme's canonical rule", async () => {
    const { ic } = world.aws;
    // globex's role lives in globex's own organisation: no instance here trusts it, and its
    // Organizations answers with globex's accounts.
    ic.addRole({ roleArn: GLOBEX_ROLE, externalId: `jitsudo-${GLOBEX_INSTALLATION}-${GLOBEX_REPO.id}`, trustedInstances: [] });
    const invoke = ic.invoke.bind(ic);
    ic.invoke = (request: ServiceRequest): JsonObject => {
      const output = invoke(request);
      const caller = ic.calls.at(-1);
      if (request.service === "organizations" && request.operation === "ListAccounts" && caller?.roleArn === GLOBEX_ROLE) {
        return { Accounts: [{ Id: "999999999999", Name: "globex-sandbox", Status: "ACTIVE", State: "ACTIVE" }] };
      }
      return output;
    };

    world.github.createInstallation({ account: GLOBEX_REPO.owner, id: GLOBEX_INSTALLATION });
    const globex = world.github.createRepository({ ...GLOBEX_REPO, installationId: GLOBEX_INSTALLATION });
    for (const login of ["gus", "gina"]) globex.setPermission(login, "write");
    globex.commit("main", {
      files: { ".github/CODEOWNERS": "* @gina\n", ".github/jitsudo.yml": GLOBEX_POLICY },
      author: "gina",
      message: "globex's policy",
    });
    // One globex request that names an account by name: the worker looks the name up through globex's role.
    const request = READ_ONLY.replace(/account: "\d+"/, "account: globex-sandbox");
    const number = world.openPull({
      repository: globex,
      author: "gus",
      commits: [{ files: { "access-requests/gus/sandbox.yaml": request } }],
    });
    world.review(number, "gina", "APPROVED", globex);
    await world.merge(number, "merge", { repository: globex, by: "gina" });
    await eventually(
      () => ic.calls.some((call) => call.roleArn === GLOBEX_ROLE && call.operation === "ListAccounts" && call.outcome === "ok"),
      () => ic.calls.filter((call) => call.roleArn === GLOBEX_ROLE).map((call) => [call.operation, call.outcome]),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));

    await world.withGovernance({ policy: ACME_POLICY }, async () => {
      const { grants, creates } = await adminByIdWithOneApproval(world);
      expect(creates, "AdministratorAccess on production was created with one approval and no ticket").toBe(0);
      expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
    });
  });
});
