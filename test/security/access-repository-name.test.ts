/**
 * Security review finding: JITSUDO_ACCESS_REPOSITORIES pins access repositories by NAME
 * (`isListedRepository` in src/config/env.ts compares `full_name`), and the name is the only thing
 * that lets a repository use jitsudo's own AWS credentials (a policy without `aws.role_arn`:
 * `credentialReasons` in src/approval/approval.ts, the provisioning check in src/jobs/provision.ts).
 * Names are not stable: when the access repository is renamed (acme/access → acme/aws-access), any
 * organisation member who may create repositories can create a NEW acme/access, write their own
 * `.github/jitsudo.yml` (no role_arn) and CODEOWNERS naming a friend, and be granted anything on
 * the instance with jitsudo's own credentials. The ExternalId names the repository by id precisely
 * because ids survive renames; the allowlist should too (or pin the id it first saw for a name).
 */
import { describe, expect, it } from "vitest";
import { squatAccessName, useSecurityWorld } from "./support/security-world.js";

describe("an access repository listed by name, after a rename", () => {
  const world = useSecurityWorld();

  it("does not let a new repository that took the old name grant with jitsudo's own credentials", async () => {
    // The access repository in use: jitsudo has seen it (and pinned its name to its id).
    await world.grant({}, "squash");
    const mark = world.mark();
    // An admin renames the real access repository (GitHub keeps its id; the operator has not edited the list yet).
    world.access.rename("aws-access");
    // mallory creates a repository with the freed name.
    const { number, squatter } = await squatAccessName(world, 700_099);

    expect((await world.grants(number, squatter)).map((grant) => [grant.status, grant.permission_set_ref, grant.account_ref])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});

describe("an access repository listed by id", () => {
  const world = useSecurityWorld({ accessRepositories: ["700001"] });

  it("refuses a repository that took the name even if jitsudo never saw the real one", async () => {
    const mark = world.mark();
    world.access.rename("aws-access");
    const { number, squatter } = await squatAccessName(world, 700_098);
    expect(await world.grants(number, squatter)).toEqual([]);
    expect(await world.verdict(number, squatter)).toBeUndefined();
    expect(world.createsSince(mark)).toBe(0);

    // The renamed access repository still grants: the id is what was listed.
    await world.grant({}, "rebase");
  });
});
