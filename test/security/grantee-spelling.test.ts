/**
 * Security review finding: "A grantee approves their own access under another spelling. Under
 * allow_other_principal, 'the grantee cannot approve' compares strings: code owner `sam` approved
 * `principal: sam@example.com` (his own Identity Center user); mapped `frank` approved
 * `principal: frank`."
 *
 * One Identity Center user has two spellings jitsudo accepts: its user name and its e-mail address
 * (jitsudo looks up a name holding "@" by user name, then by e-mail; the local Identity Center
 * finds a user by either, exactly, as AWS does). An approver's login stands for a user too: the
 * name `users:` maps it to, or the login itself. Compared as strings, `sam` is not
 * `sam@example.com` and `frank` is not `frank@example.com`, so the grantee's own approval counted.
 *
 * Each attack merges a request whose grantee approved it under the other spelling, through the
 * real webhook pipeline and the real worker against the local Identity Center, and asserts that
 * nothing is created and that the refusal is on the record: a rejected merge, or a grant that
 * failed with its reason. A control grants the same request approved by someone else.
 */
import { GetUserIdCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { beforeAll, describe, expect, it } from "vitest";
import { IDENTITY_STORE_ID } from "../support/aws-world.js";
import { ORG, POLICY, READ_ONLY, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

/** The catch-all rule lets people ask on someone else's behalf (an on-call hand-over, say). */
const ON_BEHALF = POLICY.replace(/    max_duration: 8h\n$/, "    max_duration: 8h\n    allow_other_principal: true\n");
/** ON_BEHALF with more of `users:`. */
const withUsers = (policy: string, lines: string) => policy.replace("  bob: bob@example.com\n", `  bob: bob@example.com\n${lines}`);

describe("the grantee approving their own access under another spelling", () => {
  const world = useSecurityWorld();
  const users: Record<string, string> = {};

  beforeAll(() => {
    // sam and frank are security engineers (code owners of access-requests/ through @acme/security);
    // erin is one too. Each is one Identity Center user with a user name and an e-mail address.
    for (const login of ["sam", "frank"]) world.github.setTeamMembership(ORG, "security", login, "active");
    world.access.setPermission("sam-work", "write");
    users.sam = world.aws.ic.addUser(IDENTITY_STORE_ID, { userName: "sam", email: "sam@example.com" });
    users.frank = world.aws.ic.addUser(IDENTITY_STORE_ID, { userName: "frank", email: "frank@example.com" });
    world.aws.ic.addUser(IDENTITY_STORE_ID, { userName: "erin@example.com", email: "erin@example.com" });
  });

  /** mallory's request for `principal`, approved by `approver` and merged under `policy`; returns the PR. */
  const mergeFor = (policy: string, principal: string | undefined, approver: string, author = "mallory") =>
    world.withGovernance({ policy }, async () => {
      const request = principal === undefined ? READ_ONLY : `${READ_ONLY}principal: ${principal}\n`;
      const number = world.openPull({ author, commits: [{ files: { [world.newPath(author)]: request } }] });
      world.review(number, approver);
      await world.merge(number, "merge");
      return number;
    });

  /** Nothing created, and the refusal on the record: a rejected merge, or a failed grant with its reason on the PR. */
  const expectNothingGranted = async (number: number, mark: number, reason: RegExp) => {
    expect(world.createsSince(mark)).toBe(0);
    const grants = await world.grants(number);
    expect(grants.filter((grant) => grant.active_at !== null)).toEqual([]);
    const verdict = await world.verdict(number);
    if (verdict?.verdict === "rejected") {
      expect(grants).toEqual([]);
      expect(
        verdict.reasons.some((candidate) => reason.test(candidate)),
        JSON.stringify(verdict.reasons),
      ).toBe(true);
      expect(world.comment(number)).toContain("merge not approved, nothing was granted");
      return;
    }
    expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
    expect(grants[0]!.last_error ?? "").toMatch(reason);
    expect(world.comment(number)).toContain("**failed**");
  };

  /** One user, two spellings: the local Identity Center finds the same user id by user name and by e-mail. */
  const expectSameUser = async (world: SecurityWorld, userName: string, email: string, id: string) => {
    const client = new IdentitystoreClient({
      endpoint: world.aws.url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDPROBE", secretAccessKey: "probe" },
      maxAttempts: 1,
    });
    try {
      const lookUp = async (path: string, value: string) =>
        (
          await client.send(
            new GetUserIdCommand({
              IdentityStoreId: IDENTITY_STORE_ID,
              AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } },
            }),
          )
        ).UserId;
      expect([await lookUp("userName", userName), await lookUp("emails.value", email)]).toEqual([id, id]);
    } finally {
      client.destroy();
    }
  };

  it("does not count unmapped sam's approval of access for sam@example.com, his own user's e-mail", async () => {
    await expectSameUser(world, "sam", "sam@example.com", users.sam!);
    const mark = world.mark();
    const number = await mergeFor(ON_BEHALF, "sam@example.com", "sam");
    // Refused at the merge: on someone else's behalf, an unmapped login says nothing about who its user is.
    await expectNothingGranted(number, mark, /@sam is not mapped to an Identity Center user .* cannot show they are not the grantee/);
  });

  it("does not count sam's approval of sam-work's request, both logins of one Identity Center user", async () => {
    // sam-work is mapped to sam@example.com; sam is not mapped, so he stands for the user named "sam": the same user.
    const mark = world.mark();
    const number = await mergeFor(withUsers(ON_BEHALF, "  sam-work: sam@example.com\n"), undefined, "sam", "sam-work");
    await expectNothingGranted(number, mark, /^refused on its canonical ids: .*not the grantee in Identity Center/);
  });

  it("does not count frank's approval of access for frank@example.com when users: maps frank to the user name frank", async () => {
    await expectSameUser(world, "frank", "frank@example.com", users.frank!);
    const mark = world.mark();
    const number = await mergeFor(withUsers(ON_BEHALF, "  frank: frank\n"), "frank@example.com", "frank");
    await expectNothingGranted(number, mark, /^refused on its canonical ids: .*not the grantee in Identity Center/);
  });

  it("does not count frank's approval of access for frank when users: maps frank to frank@example.com", async () => {
    const mark = world.mark();
    const number = await mergeFor(withUsers(ON_BEHALF, "  frank: frank@example.com\n"), "frank", "frank");
    await expectNothingGranted(number, mark, /^refused on its canonical ids: .*not the grantee in Identity Center/);
  });

  it("counts sam's approval of alice's own request and frank's of access for erin (the controls: both approvals count when they are not the grantee's)", async () => {
    const mark = world.mark();
    const forAlice = await mergeFor(ON_BEHALF, undefined, "sam", "alice");
    expect((await world.grants(forAlice)).map((grant) => [grant.principal, grant.approvers, grant.status])).toEqual([
      ["alice@example.com", ["sam"], "active"],
    ]);
    const forErin = await mergeFor(withUsers(ON_BEHALF, "  frank: frank\n"), "erin@example.com", "frank");
    expect((await world.grants(forErin)).map((grant) => [grant.principal, grant.approvers, grant.status])).toEqual([
      ["erin@example.com", ["frank"], "active"],
    ]);
    expect(world.createsSince(mark)).toBe(2);
  });

  it("grants access for frank@example.com approved by erin, another mapped code owner (the control)", async () => {
    const mark = world.mark();
    const number = await mergeFor(withUsers(ON_BEHALF, "  frank: frank\n  erin: erin@example.com\n"), "frank@example.com", "erin");
    expect((await world.grants(number)).map((grant) => [grant.principal, grant.status])).toEqual([["frank@example.com", "active"]]);
    expect(world.createsSince(mark)).toBe(1);
  });
});
