/**
 * Security review finding: merges, grants, verdicts and the catch-up cursor are keyed by the
 * repository's NAME (`merge_verdicts` (tenant, repo, pr_number, merge_commit_sha),
 * `merge_scan_cursors` (tenant, repo), `liveGrantsForPath(tenant, repo, path)`), not by its id.
 * After the access repository is renamed (and the operator lists the new name), the catch-up scan
 * starts a fresh cursor for the new name, finds the last hour's merges "without a verdict" and
 * judges them again: every approved merge of that hour is granted a SECOND time, including access
 * that security already revoked early with `/jitsudo revoke`. The rulebook: each merge is judged and
 * recorded exactly once; a revoked grant must not come back without a new approval.
 */
import { describe, expect, it } from "vitest";
import { useSecurityWorld } from "./support/security-world.js";

describe("renaming the access repository", () => {
  const world = useSecurityWorld();

  it("does not grant again, after a rename, access that was revoked early", async () => {
    const number = await world.grant();

    // Security ends it early.
    await world.command(number, "dave", "/jitsudo revoke");
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["revoked"]);
    const mark = world.mark();

    // The admin renames acme/access to acme/aws-access (same id); the operator lists the new name.
    world.access.rename("aws-access");
    await world.catchUp({ accessRepositories: ["acme/aws-access"] });
    await world.settle();

    const everyGrant = (await world.db("grants").where({ pr_number: number })) as { repo: string; status: string }[];
    expect(everyGrant.filter((grant) => grant.status !== "revoked").map((grant) => [grant.repo, grant.status])).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
  });
});
