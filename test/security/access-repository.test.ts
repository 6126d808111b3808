/**
 * Rulebook: "a second repository in the same installation with its own .github/jitsudo.yml and
 * CODEOWNERS: only the tenant's designated access repository can ever grant, and AWS itself must
 * refuse the others (the role's ExternalId names the repository, not only the installation)".
 *
 * The hole: apps are installed on "All repositories"; anyone who can create a repository wrote a
 * policy and CODEOWNERS naming a friend there, and the merge was granted with the tenant's role
 * (or jitsudo's own credentials).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CHECK_NAME } from "../../src/github/check-run.js";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { EXTERNAL_ID, governance, INSTALLATION, PLAYGROUND_REPO, POLICY, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];
/** The attacker's own governance in their own repository: their friend owns the requests. */
const FRIEND = governance({ codeowners: "/access-requests/ @mallory\n", policy: POLICY.replace("max_duration: 8h", "max_duration: 24h") });
const ADMIN_REQUEST = READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess");

describe("a second repository of the installation, listed access repositories", () => {
  const world = useSecurityWorld();
  beforeAll(() => {
    world.playground.commit("main", { files: FRIEND, author: "alice", message: "My own rules" });
  });

  it.each(METHODS)("records nothing and grants nothing for a merge with %s outside the access repository", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ repository: world.playground, commits: [{ files: { [path]: ADMIN_REQUEST } }] });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    world.review(number, "mallory", "APPROVED", world.playground);
    await world.merge(number, method, { repository: world.playground });

    expect(await world.grants(number, world.playground)).toEqual([]);
    expect(await world.verdict(number, world.playground)).toBeUndefined();
    expect(await world.db("grant_events").where({ repo: world.playground.fullName })).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    // The pull request was told, with a neutral check, instead of silence.
    const run = world.playground.conversation.checkRuns.filter((candidate) => candidate.name === CHECK_NAME).at(-1);
    expect(run).toMatchObject({ conclusion: "neutral", output: { title: "Not an access repository: nothing here is granted" } });
    expect(world.comment(number, world.playground)).toBe("");
  });
});

describe("a second repository of the installation, no list of access repositories", () => {
  const world = useSecurityWorld({ accessRepositories: null });
  beforeAll(() => {
    world.playground.commit("main", { files: FRIEND, author: "alice", message: "My own rules" });
  });

  it("lets AWS refuse the tenant role for any repository its trust policy does not name", async () => {
    const mark = world.mark();
    const number = world.openPull({
      repository: world.playground,
      commits: [{ files: { [world.newPath()]: ADMIN_REQUEST.replace('"123456789012"', '"210987654321"') } }],
    });
    world.review(number, "mallory", "APPROVED", world.playground);
    await world.merge(number, "squash", { repository: world.playground });

    // The merge looked approved by the repository's own rules, so it was recorded...
    const [grant] = await world.grants(number, world.playground);
    // ...but the role's ExternalId names installation and repository by id, and AWS said no.
    expect(grant?.status).toBe("failed");
    expect(grant?.last_error).toMatch(/AccessDenied/);
    const assume = world.aws.ic.calls.slice(mark).filter((call) => call.operation === "AssumeRole");
    expect(assume.map((call) => [call.input.ExternalId, call.outcome])).toEqual([
      [`jitsudo-${INSTALLATION}-${PLAYGROUND_REPO.id}`, "AccessDenied"],
    ]);
    expect(world.createsSince(mark)).toBe(0);
    expect(world.comment(number, world.playground)).toMatch(/failed[\s\S]*AccessDenied/);
  });

  it("still grants from the access repository, whose id the trust policy names (the control)", async () => {
    const mark = world.mark();
    await world.grant({}, "rebase");
    const assume = world.aws.ic.calls.slice(mark).filter((call) => call.operation === "AssumeRole");
    expect(assume.map((call) => [call.input.ExternalId, call.outcome])).toEqual([[EXTERNAL_ID, "ok"]]);
    expect(world.createsSince(mark)).toBe(1);
  });

  it("never uses jitsudo's own AWS credentials for a repository the operator did not list", async () => {
    const mark = world.mark();
    const ownCredentials = POLICY.replace(/ {2}role_arn: .*\n/, "");
    world.playground.commit("main", {
      files: governance({ codeowners: "/access-requests/ @mallory\n", policy: ownCredentials }),
      author: "alice",
    });
    const number = world.openPull({ repository: world.playground });
    world.review(number, "mallory", "APPROVED", world.playground);
    await world.merge(number, "merge", { repository: world.playground });
    expect(await world.grants(number, world.playground)).toEqual([]);
    expect((await world.verdict(number, world.playground))?.reasons).toContain(
      ".github/jitsudo.yml names no aws.role_arn, and jitsudo's own AWS credentials serve only the repositories listed in JITSUDO_ACCESS_REPOSITORIES; set aws.role_arn to a role whose trust policy names this repository, or ask the operator to list it",
    );
    expect(world.createsSince(mark)).toBe(0);
  });
});
