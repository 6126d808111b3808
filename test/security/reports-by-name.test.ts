/**
 * Security review (round 2) finding: the worker's pull request reports still address a grant's
 * repository by the NAME recorded with the grant. `PullRequestReporter.report`
 * (src/github/grant-comments.ts) builds its gateway from `grant.repo` through
 * `installationGateways` (src/github/installation-gateway.ts). The round-1 fix keyed rows by
 * repository id, but not this.
 *
 * After the access repository is renamed, GitHub's API redirects requests for the old name to the
 * renamed repository, until a new repository takes the name ("Repository redirects", GitHub's
 * developer changelog of 2015-04-17: a request with the old name gets a 301 or 307 to the new
 * location). Once someone creates a repository under the old name in the same organisation (the
 * installation covers it), every later report for the real grants (provisioned, active, revoked,
 * expired, drift repaired) is written as jitsudo's sticky comment on the NEW repository's pull
 * request of the same number: who has access (principal), to which account and permission set,
 * until when, approved by whom, and the `/jitsudo revoke` help. The squatter learns the access map
 * and people's Identity Center names; readers of their PR see a jitsudo comment about access that
 * has nothing to do with it.
 *
 * (The local GitHub answers 404 for an old name instead of redirecting, so before the squatter
 * exists these reports fail here where GitHub would deliver them: a fidelity gap of the sandbox.)
 *
 * Suggested fix: address reports by repository id (`GET /repositories/{id}`, or keep the current
 * name from the id), never by the recorded name.
 */
import { describe, expect, it } from "vitest";
import { STICKY_MARKER } from "../../src/github/sticky-comment.js";
import { ORG, INSTALLATION, useSecurityWorld } from "./support/security-world.js";

describe("reports on a renamed access repository's grants", () => {
  const world = useSecurityWorld({ accessRepositories: ["700001"] });

  it("are not written on the pull request of a new repository that took the old name", async () => {
    const number = await world.grant();

    world.access.rename("aws-access");
    const squatter = world.github.createRepository({ owner: ORG, name: "access", id: 700_094, installationId: INSTALLATION });
    squatter.setPermission("mallory", "admin");
    squatter.commit("main", { files: { "README.md": "mine\n" }, author: "mallory", message: "init" });
    let theirs = 0;
    while (theirs < number)
      theirs = world.openPull({ repository: squatter, author: "mallory", commits: [{ files: { "notes.md": `n${theirs}\n` } }] });

    // Security ends alice's access from the real (renamed) repository; the worker reports it.
    await world.command(number, "dave", "/jitsudo revoke");
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["revoked"]);

    const leaked = squatter.conversation.commentsOn(theirs).filter((comment) => comment.body.startsWith(STICKY_MARKER));
    expect(leaked.map((comment) => comment.body.slice(0, 200))).toEqual([]);
  });
});
