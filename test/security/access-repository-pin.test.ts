/**
 * Security review (round 2) findings: the name pins of JITSUDO_ACCESS_REPOSITORIES
 * (`AccessRepositories.decide` in src/config/access-repositories.ts) protect a listed name only
 * while a pin row for that name exists, and two ordinary paths leave a listed name without one:
 *
 * 1. The pin MOVES with a rename. When the pinned repository is seen under a new listed name, its
 *    row's `full_name` is updated, so the OLD name is no longer pinned to anything. An operator who
 *    adds the new name to the list (acme/access,acme/aws-access) rather than replacing the old one,
 *    or an organisation renamed the same way, leaves the old name listed and free: the next
 *    repository created under it is pinned on first sight and allowed.
 * 2. A repository listed by id is allowed before any pin is written (`isListedById` returns
 *    first), so when the operator lists both the id and the name of the access repository
 *    ("700001,acme/access", belt and braces), the name is never pinned; after a rename the name is
 *    free to be taken.
 *
 * Either way the squatter's repository is an access repository whose policy may omit
 * `aws.role_arn`: `ownCredentialsServe` then finds the squatter's own fresh pin under a listed name
 * and lets jitsudo's own AWS credentials create the assignment, which is exactly the attack the pin
 * was added to stop (first review, finding 3/6: test/security/access-repository-name.test.ts).
 *
 * Suggested fix: never free a name once pinned (keep the old name's row when a pinned repository
 * shows up under a new name: pins are name → id, several names may point at one id; drop the
 * UNIQUE on repository_id), and pin every listed name to the id that is listed (or refuse a
 * name-listed repository whose name is also covered by an id entry with another id).
 */
import { describe, expect, it } from "vitest";
import { squatAccessName, useSecurityWorld } from "./support/security-world.js";

describe("a pinned access repository renamed while its old name stays listed", () => {
  const world = useSecurityWorld({ accessRepositories: ["acme/access", "acme/aws-access"] });

  it("keeps the old name pinned: a new repository under it grants nothing with jitsudo's own credentials", async () => {
    // The access repository in use under acme/access: pinned.
    await world.grant({}, "squash");

    // An admin renames it to acme/aws-access (listed too); it keeps working, and its pin moves with it.
    world.access.rename("aws-access");
    await world.grant();

    const mark = world.mark();
    const { number, squatter } = await squatAccessName(world, 700_097);
    expect((await world.grants(number, squatter)).map((grant) => [grant.status, grant.permission_set_ref])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});

describe("an access repository listed by both its id and its name", () => {
  const world = useSecurityWorld({ accessRepositories: ["700001", "acme/access"] });

  it("does not let a new repository that took the name grant with jitsudo's own credentials", async () => {
    await world.grant();

    world.access.rename("aws-access");
    const mark = world.mark();
    const { number, squatter } = await squatAccessName(world, 700_096);
    expect((await world.grants(number, squatter)).map((grant) => [grant.status, grant.permission_set_ref])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});
