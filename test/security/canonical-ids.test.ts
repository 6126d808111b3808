/**
 * Rulebook: "the same account or permission set spelled another way (the account's name instead of
 * its id, a permission-set ARN instead of its name) to land on a looser policy rule: rules are
 * matched on canonical ids".
 *
 * The policy says AdministratorAccess on 123456789012 needs two approvals and a ticket, and a
 * catch-all after it needs one. The merge verdict cannot ask AWS what `production` is, so it
 * matches the spelling; the worker judges the request again on the ids before it creates anything,
 * and refuses it when the canonical rule asks for more than the merge had.
 */
import { describe, expect, it } from "vitest";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { POLICY_FIXTURE, READ_ONLY, useSecurityWorld } from "./support/security-world.js";
import { ANY_RULE, policyYaml } from "../support/policy-fixtures.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];
const ADMIN_BY_NAME = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess").replace('"123456789012"', "production");
/** The same policy with a catch-all for any permission set, which an ARN spelling falls to. */
const WITH_ANY_SET = policyYaml({ ...POLICY_FIXTURE, rules: [...POLICY_FIXTURE.rules, ANY_RULE] });

describe("the same account or permission set spelled another way", () => {
  const world = useSecurityWorld();

  const refusedOnCanonicalIds = async (number: number, mark: number, reason: string) => {
    const grants = await world.grants(number);
    expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
    expect(grants[0]!.last_error).toBe(reason);
    expect(world.createsSince(mark)).toBe(0);
    expect(world.aws.ic.assignments().filter((assignment) => assignment.permissionSetArn === world.aws.admin)).toEqual([]);
    expect(world.comment(number)).toContain("refused on its canonical ids");
  };

  it.each(METHODS)("refuses the production account named by name to dodge its strict rule, merged with %s", async (method) => {
    const mark = world.mark();
    const number = world.openPull({ commits: [{ files: { [world.newPath()]: ADMIN_BY_NAME } }] });
    world.review(number, "dave");
    await world.merge(number, method);
    await refusedOnCanonicalIds(
      number,
      mark,
      "refused on its canonical ids: on its canonical ids (AdministratorAccess on account 123456789012) rules[0] decides this request, not rules[1] that its spelling matched, and rules[0] requires 2 code-owner approvals (the merge had 1), a ticket; ask again naming the account by id and the permission set by name",
    );
  });

  it("refuses a permission set named by its ARN to dodge the rule for its name", async () => {
    await world.withGovernance({ policy: WITH_ANY_SET }, async () => {
      const mark = world.mark();
      const request = READ_ONLY.replace("ReadOnlyAccess", world.aws.admin);
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: request } }] });
      world.review(number, "dave");
      await world.merge(number, "squash");
      await refusedOnCanonicalIds(
        number,
        mark,
        "refused on its canonical ids: on its canonical ids (AdministratorAccess on account 123456789012) rules[0] decides this request, not rules[2] that its spelling matched, and rules[0] requires 2 code-owner approvals (the merge had 1), a ticket; ask again naming the account by id and the permission set by name",
      );
    });
  });

  it("grants a request by name that meets its canonical rule (the control)", async () => {
    const mark = world.mark();
    const number = world.openPull({ commits: [{ files: { [world.newPath()]: `${ADMIN_BY_NAME}ticket: INC-4711\n` } }] });
    world.review(number, "dave");
    world.review(number, "erin");
    await world.merge(number, "merge");
    expect((await world.grants(number)).map((grant) => [grant.status, grant.account_id])).toEqual([["active", "123456789012"]]);
    expect(world.createsSince(mark)).toBe(1);
  });

  it("tells the requester on the pull request check that a name is matched on its id", async () => {
    world.openPull({ commits: [{ files: { [world.newPath()]: ADMIN_BY_NAME } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    const run = world.access.conversation.checkRuns.at(-1)!;
    expect(run.annotations.map((annotation) => annotation.message)).toContain(
      'account "production" is a name; policy rules are matched on the account\'s 12-digit id, which jitsudo looks up and checks again before provisioning (if the rule for that id asks for more, nothing is granted); write the id to see now which rule applies',
    );
  });
});
