/**
 * Security review finding: the worker's re-check on canonical ids counts the approvals of a
 * RENAMED request file as the union of the new path's and the old path's owners
 * (`approvals: grant.approvers.length` in src/jobs/policy-recheck.ts; `approvers` is the union in
 * `countApprovals`, src/approval/approval.ts). So a request that spells the production account by
 * name (landing on the loose 1-approval rule) and is renamed in from another owner's folder gets
 * AdministratorAccess on production with ONE security approval, although its canonical rule asks
 * for two code-owner approvals of its path.
 */
import { describe, expect, it } from "vitest";
import { CODEOWNERS, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const ADMIN_BY_NAME_WITH_TICKET = `${READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess").replace('"123456789012"', "production")}ticket: INC-4711\n`;
/** Security owns requests; carol owns a sandbox folder of them (a team's own corner). */
const WITH_SANDBOX = `${CODEOWNERS}/access-requests/sandbox/ @carol\n`;

describe("canonical re-check of a renamed request", () => {
  const world = useSecurityWorld();

  it("does not let the old path's owner stand in for the second security approval the canonical rule needs", async () => {
    await world.withGovernance({ codeowners: WITH_SANDBOX }, async () => {
      // An earlier request in carol's folder (already on main).
      const oldPath = "access-requests/sandbox/prod-by-name.yaml";
      world.access.commit("main", { files: { [oldPath]: ADMIN_BY_NAME_WITH_TICKET }, author: "admin", message: "an earlier request" });
      const mark = world.mark();
      const newPath = world.newPath("alice");
      // alice moves it into the security-owned folder, unchanged: GitHub lists it as renamed.
      const number = world.openPull({ commits: [{ files: { [oldPath]: null, [newPath]: ADMIN_BY_NAME_WITH_TICKET } }] });
      world.review(number, "dave"); // the only security approval
      world.review(number, "carol"); // owner of the OLD path only
      await world.merge(number, "merge");

      const grants = await world.grants(number);
      // rules[0] (AdministratorAccess on 123456789012) needs 2 code-owner approvals of the request's
      // path; only dave owns it. Nothing must be created.
      expect(world.createsSince(mark)).toBe(0);
      expect(
        grants.filter((grant) => grant.status === "active").map((grant) => [grant.account_id, grant.permission_set_ref, grant.approvers]),
      ).toEqual([]);
    });
  });

  it("the same rename spelled by id is refused at the merge (the control: rules[0] applies there)", async () => {
    await world.withGovernance({ codeowners: WITH_SANDBOX }, async () => {
      const byId = ADMIN_BY_NAME_WITH_TICKET.replace("production", '"123456789012"');
      const oldPath = "access-requests/sandbox/prod-by-id.yaml";
      world.access.commit("main", { files: { [oldPath]: byId }, author: "admin", message: "an earlier request" });
      const mark = world.mark();
      const number = world.openPull({ commits: [{ files: { [oldPath]: null, [world.newPath("alice")]: byId } }] });
      world.review(number, "dave");
      world.review(number, "carol");
      await world.merge(number, "merge");
      expect(await world.grants(number)).toEqual([]);
      expect(world.createsSince(mark)).toBe(0);
      expect((await world.verdict(number))?.verdict).toBe("rejected");
    });
  });
});
