/**
 * Security review 3: one tenant poisons the name directory another tenant's grants are resolved
 * through.
 *
 * The worker's `Directory` (src/aws/directory.ts) caches user name → user id for 10 minutes under
 * the key `<instance ARN>|<user name>` (line 66), and remembers "not found" (`undefined`) like any
 * other answer. The lookup itself runs through the session of whichever tenant asked first, with
 * that tenant's `aws.identity_store_id` (or `aws.region`), which its config sets freely. So globex,
 * whose config names the shared instance together with an identity store that does not exist
 * (or the instance in another region: identity stores are regional), merges one request for
 * `alice@example.com`: its own lookup answers ResourceNotFoundException ("not found"), which the
 * directory keeps for the instance. For the next 10 minutes every acme grant for alice fails
 * with "Identity Center has no user", without a call to AWS; globex repeats it by scheduling
 * requests (`starts_at`) every few minutes. No AWS permission beyond its own role is needed.
 */
import { describe, expect, it } from "vitest";
import type { Repository } from "../../src/sandbox/github.js";
import { INSTANCE_ARN } from "../support/aws-world.js";
import { READ_ONLY, tenantAws, useSecurityWorld } from "./support/security-world.js";
import { policyYaml } from "../support/policy-fixtures.js";

const GLOBEX_INSTALLATION = 7002;
const GLOBEX_REPO = { owner: "globex", name: "access", id: 800_001 } as const;
const GLOBEX_ROLE = "arn:aws:iam::222222222222:role/jitsudo-globex";

/** globex's own config: its own role on the shared instance, and an identity store that is not the instance's. */
const GLOBEX_POLICY = policyYaml({
  aws: { ...tenantAws(GLOBEX_ROLE), identity_store_id: "d-0000000000" },
  users: { gus: "alice@example.com" },
});

describe("the name directory shared by the tenants of one instance", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "globex/access"] });

  it("does not let globex's lookup through an identity store of its choosing decide who acme's user is", async () => {
    world.aws.ic.addRole({
      roleArn: GLOBEX_ROLE,
      externalId: `jitsudo-${GLOBEX_INSTALLATION}-${GLOBEX_REPO.id}`,
      trustedInstances: [INSTANCE_ARN],
    });
    world.github.createInstallation({ account: GLOBEX_REPO.owner, id: GLOBEX_INSTALLATION });
    const globex: Repository = world.github.createRepository({ ...GLOBEX_REPO, installationId: GLOBEX_INSTALLATION });
    for (const login of ["gus", "gina"]) globex.setPermission(login, "write");
    globex.commit("main", {
      files: { ".github/CODEOWNERS": "* @gina\n", ".github/jitsudo.yml": GLOBEX_POLICY },
      author: "gina",
      message: "globex's policy",
    });

    // globex asks for alice's name (gus maps to it) once; its own grant fails, as it expects.
    const poison = world.openPull({
      repository: globex,
      author: "gus",
      commits: [{ files: { "access-requests/gus/readonly.yaml": READ_ONLY } }],
    });
    world.review(poison, "gina", "APPROVED", globex);
    await world.merge(poison, "merge", { repository: globex, by: "gina" });
    expect((await world.grants(poison, globex)).map((grant) => grant.status)).toEqual(["failed"]);

    // acme's own request for alice, approved by acme's security team, through acme's own role.
    const number = world.openPull();
    world.review(number, "dave");
    await world.merge(number, "merge");
    const [grant] = await world.grants(number);
    expect(grant?.last_error ?? null, "acme's grant failed on globex's cached answer").toBeNull();
    expect(grant?.status).toBe("active");
  });
});
