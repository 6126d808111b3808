/**
 * Security review (round 2) findings: `sameRepository` (src/grants/store.ts) still matches rows
 * recorded before repository ids were kept (`repository_id is null`, every live grant of an
 * upgraded deployment; see the README's "Upgrading") by NAME, and nothing ever backfills their id.
 *
 * 1. Revoke fails CLOSED after a rename. Once the access repository is renamed, its own legacy
 *    grants no longer match it: `/jitsudo revoke` on the pull request that granted them answers
 *    "nothing live" (and a merged deletion of the file ends nothing), so the access runs to its
 *    expiry. The round-1 fix promised revokes that fail open.
 * 2. Griefing: a NEW repository created under the old name (possible when no list is kept, which the
 *    README allows, or wherever a name is not pinned) matches the legacy rows by name. Its creator is
 *    its admin, so `mayRevoke` lets them `/jitsudo revoke` on their own PR of the same number and
 *    end other people's access in the real access repository (a merged deletion or edit of the same
 *    path there would end or supersede them too).
 *
 * Suggested fix: backfill `repository_id` of legacy rows the first time the repository that holds
 * them is seen under their name (before any rename can happen, e.g. when the name is pinned, or at
 * start-up from the installations' repositories), and after that match by id only.
 */
import { describe, expect, it } from "vitest";
import { ORG, INSTALLATION, useSecurityWorld } from "./support/security-world.js";

describe("a grant recorded before repository ids were kept, after the access repository is renamed", () => {
  const world = useSecurityWorld({ accessRepositories: ["700001"] });

  it("can still be revoked early from the pull request that granted it", async () => {
    const number = await world.grant();
    // As every grant approved before the upgrade: no repository id.
    await world.db("grants").where({ repository_id: world.access.id, pr_number: number }).update({ repository_id: null });

    world.access.rename("aws-access");
    await world.command(number, "dave", "/jitsudo revoke");
    const statuses = (await world.db("grants").where({ repo: "acme/access", pr_number: number })) as { status: string }[];
    expect(statuses).toHaveLength(1);
    expect(statuses.map((grant) => grant.status)).not.toContain("active");
  });
});

describe("a grant recorded before repository ids were kept, and a new repository under the old name", () => {
  const world = useSecurityWorld({ accessRepositories: null });

  it("cannot be revoked by the creator of a repository that took the access repository's name", async () => {
    const number = await world.grant();
    await world.db("grants").where({ repository_id: world.access.id, pr_number: number }).update({ repository_id: null });

    // The access repository is renamed; mallory creates a repository under the freed name.
    world.access.rename("aws-access");
    const squatter = world.github.createRepository({ owner: ORG, name: "access", id: 700_095, installationId: INSTALLATION });
    squatter.setPermission("mallory", "admin");
    squatter.commit("main", { files: { "README.md": "mine\n" }, author: "mallory", message: "init" });
    let theirs = 0;
    while (theirs < number)
      theirs = world.openPull({ repository: squatter, author: "mallory", commits: [{ files: { "notes.md": `n${theirs}\n` } }] });
    expect(theirs).toBe(number);

    squatter.conversation.comment(theirs, "mallory", "/jitsudo revoke");
    expect(await world.harness.deliverLatest("issue_comment.created")).toBe(200);
    await world.settle();
    const statuses = (await world.db("grants").where({ repo: "acme/access", pr_number: number })) as { status: string }[];
    expect(statuses.map((grant) => grant.status)).toEqual(["active"]);
  });
});
