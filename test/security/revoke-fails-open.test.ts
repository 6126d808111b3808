/**
 * Security review finding: the early revoke paths fail CLOSED, which for a revoke means the access
 * stays. `mayRevoke` (src/github/revoke-command.ts) refuses every code owner's `/jitsudo revoke`
 * while GitHub reports ANY error in CODEOWNERS at the default branch, on any line, and a merged PR
 * deleting the request file is judged like a grant, so it is rejected for the same reason
 * (`githubCodeownersBlockers` in the verdict). A requester who is listed as an owner of anything
 * (`/docs/ @alice`) can cause such an error after being granted access: leave the organisation,
 * lose write access, or rename the account (GitHub then reports "Unknown owner" for the line). From
 * then on security cannot end the access early through jitsudo; it runs until it expires.
 * Rulebook: "a revoke that can be blocked" is one of the fail-open paths to look for.
 */
import { describe, expect, it } from "vitest";
import { CODEOWNERS, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const WITH_DOCS_OWNER = `${CODEOWNERS}/docs/ @alice\n`;

describe("ending a live grant early while CODEOWNERS has an unrelated error", () => {
  const world = useSecurityWorld();

  it("still lets a code owner revoke alice's access after alice breaks an unrelated CODEOWNERS line", async () => {
    await world.withGovernance({ codeowners: WITH_DOCS_OWNER }, async () => {
      const path = world.newPath("alice");
      const number = await world.grant({ author: "alice", commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });

      // alice loses write access (leaves, is downgraded, or renames): GitHub now reports line 2 as an Unknown owner.
      world.access.setPermission("alice", "read");

      // Security asks jitsudo to end the access.
      await world.command(number, "dave", "/jitsudo revoke");
      expect((await world.grants(number)).map((grant) => grant.status)).not.toEqual(["active"]);
    });
  });

  it("still ends alice's access when a PR deleting her request file is approved by security, after she breaks an unrelated line", async () => {
    world.access.setPermission("alice", "write");
    await world.withGovernance({ codeowners: WITH_DOCS_OWNER }, async () => {
      const path = world.newPath("alice");
      const number = await world.grant({ author: "alice", commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });
      world.access.setPermission("alice", "read");

      const removal = world.openPull({ author: "dave", commits: [{ files: { [path]: null } }] });
      world.review(removal, "erin");
      await world.merge(removal, "merge", { by: "dave" });
      expect((await world.grants(number)).map((grant) => grant.status)).not.toEqual(["active"]);
    });
  });
});
