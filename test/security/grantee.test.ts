/**
 * Security review finding: "the reviewer is not ... the grantee" is enforced only through the
 * `users:` map (`exclusion` in src/approval/approval.ts compares `principalFor(config, login)`
 * with the grantee). A code owner whose GitHub login is not in `users:` maps to an Identity Center
 * user named like the login, so when a rule allows requesting for someone else, a friend's PR
 * naming the code owner's real Identity Center user is approved by that very code owner.
 */
import { describe, expect, it } from "vitest";
import { IDENTITY_STORE_ID } from "../support/aws-world.js";
import { POLICY, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

/** The catch-all rule lets people ask on someone else's behalf (an on-call hand-over, say). */
const ON_BEHALF = POLICY.replace(/    max_duration: 8h\n$/, "    max_duration: 8h\n    allow_other_principal: true\n");

describe("the grantee approving their own access", () => {
  const world = useSecurityWorld();

  it("does not count dave's approval of access for dave's own Identity Center user", async () => {
    // dave (security, a code owner) is dave@example.com in Identity Center; `users:` maps only alice and bob.
    world.aws.ic.addUser(IDENTITY_STORE_ID, { userName: "dave@example.com" });
    await world.withGovernance({ policy: ON_BEHALF }, async () => {
      const mark = world.mark();
      const number = world.openPull({
        author: "mallory",
        commits: [{ files: { [world.newPath("mallory")]: `${READ_ONLY}principal: dave@example.com\n` } }],
      });
      world.review(number, "dave");
      await world.merge(number, "merge");
      // dave is the grantee: his approval must not count, so nothing may be granted.
      expect((await world.grants(number)).map((grant) => [grant.principal, grant.approvers, grant.status])).toEqual([]);
      expect(world.createsSince(mark)).toBe(0);
    });
  });
});
