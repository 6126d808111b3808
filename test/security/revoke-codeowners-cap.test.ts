/**
 * Security review 3: the CODEOWNERS cap makes early revokes fail closed.
 *
 * `parseCodeowners` stops reading after MAX_CODEOWNERS_RULES (1,000) rules (src/approval/codeowners.ts,
 * the `result.rules.length >= MAX_CODEOWNERS_RULES` break) and records an error. Approvals fail
 * closed on that error, as they should. But revoking is meant to fail OPEN ("an owner under any
 * reading of CODEOWNERS may /jitsudo revoke; a merged deletion needs one such owner, whatever else
 * is wrong with CODEOWNERS"): `mayRevoke` (src/github/revoke-command.ts:129-133) and `judgeRevoke`
 * (src/approval/approval.ts:414-416) ignore the error and look for owners only among the first
 * 1,000 rules. GitHub reads the whole file and the LAST matching line decides, so when the line
 * owning `access-requests/` comes after rule 1,000 (1,000 lines for other paths added above it
 * after the grant), GitHub still shows security as the owners, while jitsudo refuses every
 * security engineer's `/jitsudo revoke` (👎) and every merged deletion they approve: the access
 * runs to its end unless an admin or the requester ends it.
 */
import { describe, expect, it } from "vitest";
import { CODEOWNERS, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

/** 1,000 rules for other parts of the repository, then the access requests' owners, as before. */
const LONG_CODEOWNERS = `${Array.from({ length: 1000 }, (_, index) => `/docs/area-${index}/ @acme/security`).join("\n")}\n${CODEOWNERS}`;

describe("ending a live grant early when CODEOWNERS is longer than jitsudo reads", () => {
  const world = useSecurityWorld();

  it("still lets a code owner of the request file revoke it with /jitsudo revoke", async () => {
    const path = world.newPath("alice");
    const number = await world.grant({ author: "alice", commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });
    await world.withGovernance({ codeowners: LONG_CODEOWNERS }, async () => {
      await world.command(number, "dave", "/jitsudo revoke");
      expect((await world.grants(number)).map((grant) => grant.status)).not.toEqual(["active"]);
    });
  });

  it("still ends it when a pull request deleting the request file is approved by a code owner", async () => {
    const path = world.newPath("alice");
    const number = await world.grant({ author: "alice", commits: [{ files: { [path]: READ_ONLY.replace("2h", "8h") } }] });
    await world.withGovernance({ codeowners: LONG_CODEOWNERS }, async () => {
      const removal = world.openPull({ author: "dave", commits: [{ files: { [path]: null } }] });
      world.review(removal, "erin");
      await world.merge(removal, "merge", { by: "dave" });
      expect((await world.grants(number)).map((grant) => grant.status)).not.toEqual(["active"]);
    });
  });
});
