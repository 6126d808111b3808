/**
 * Attacks on break-glass (README "Break-glass"), through the real webhook pipeline, the real
 * PostgreSQL, the local Identity Center and jitsudo's real worker (test/security/support).
 *
 * The invariant: nobody gets access, or takes access away, without either the code owners'
 * approval or a legitimate break-glass: the PR author an ACTIVE member of the rule's team, every
 * commit their own, their own principal, a ticket, within break-glass max_duration, no starts_at,
 * and a code owner who can review it after the merge.
 *
 * Each `it` asserts the secure behaviour. Those named "attack" failed on break-glass's first
 * version (an independent review found them): forged commit authors (now every push to the branch
 * must be the requester's, by GitHub's activity records), reviews by a contributor or the grantee,
 * break-glass over another grant's file, and a file nobody can review. The "guard" tests pin what
 * the worker's canonical recheck must refuse, now that it lets break-glass stand in for approvals.
 */
import { describe, expect, it } from "vitest";
import { ORG, POLICY, PRODUCTION, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const BREAK_GLASS_ONCALL = '    break_glass: { teams: ["@acme/oncall"], max_duration: 1h, review_within: 12h }\n';

/** The world's policy (strict AdministratorAccess on production, then a loose catch-all) with break-glass on the strict rule. */
const BG_POLICY = POLICY.replace("    require_ticket: true\n", `    require_ticket: true\n${BREAK_GLASS_ONCALL}`);

/** alice's emergency request: AdministratorAccess on production for 1h, by break-glass. */
const bgRequest = (account = `"${PRODUCTION}"`, duration = "1h") =>
  `account: ${account}\npermission_set: AdministratorAccess\nduration: ${duration}\nreason: "Database is down, restoring from backup"\nticket: INC-4711\nbreak_glass: true\n`;

describe("break-glass attacks", () => {
  const world = useSecurityWorld();
  let branches = 0;

  const oncall = (login = "alice") => world.github.setTeamMembership(ORG, "oncall", login, "active");

  /** A pull request by alice whose branch also receives commits pushed by someone else. */
  function hijackedPull(path: string, pushes: { content: string; author: string; committer?: string; pusher: string }[]): number {
    const branch = `alice/incident-${++branches}`;
    world.access.createBranch(branch, "main", "alice");
    const [first, ...rest] = pushes;
    world.access.commit(branch, {
      files: { [path]: first!.content },
      author: first!.author,
      ...(first!.committer ? { committer: first!.committer } : {}),
      pusher: first!.pusher,
    });
    const number = world.access.openPull({ head: branch, author: "alice", title: "Incident access" });
    for (const push of rest)
      world.access.commit(branch, {
        files: { [path]: push.content },
        author: push.author,
        ...(push.committer ? { committer: push.committer } : {}),
        pusher: push.pusher,
      });
    return number;
  }

  const reviewedEvents = async (): Promise<{ actor: string; pr_number: number }[]> =>
    world.db("grant_events").where({ type: "break_glass_reviewed" }).select("actor", "pr_number");

  // ---------------------------------------------------------------------------------------------
  // The canonical-id recheck in the worker does not know about break-glass.
  // ---------------------------------------------------------------------------------------------

  it("a legitimate break-glass grant is provisioned (the worker's canonical recheck must not refuse it for its 0 approvals)", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const mark = world.mark();
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: bgRequest() } }] });
      await world.merge(number, "merge", { by: "alice" });
      const grants = await world.grants(number);
      expect(grants.map((grant) => (grant as { break_glass_team?: string }).break_glass_team)).toEqual(["@acme/oncall"]);
      // Today: ["failed", "refused on its canonical ids: rules[0] requires 2 code-owner approvals (the merge had 0), ..."]
      expect(grants.map((grant) => [grant.status, grant.last_error])).toEqual([["active", null]]);
      expect(world.createsSince(mark)).toBe(1);
    });
  });

  it("guard: break-glass under a rule reached by spelling the account by name is refused when the canonical rule has no break-glass", async () => {
    oncall();
    // rules[0]: strict AdministratorAccess on 123456789012, NO break-glass; rules[1]: "*" with break-glass for @acme/oncall.
    const policy = POLICY.replace("    max_duration: 8h\n", `    max_duration: 8h\n${BREAK_GLASS_ONCALL}`);
    await world.withGovernance({ policy }, async () => {
      const mark = world.mark();
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: bgRequest("production") } }] });
      await world.merge(number, "merge", { by: "alice" });
      const grants = await world.grants(number);
      expect(grants.map((grant) => grant.status)).toEqual(["failed"]);
      expect(grants[0]!.last_error).toContain("refused on its canonical ids");
      expect(world.createsSince(mark)).toBe(0);
    });
  });

  it("guard: ... and when the canonical rule's break-glass is for another team, with a shorter maximum", async () => {
    oncall();
    const policy = POLICY.replace(
      "    require_ticket: true\n",
      '    require_ticket: true\n    break_glass: { teams: ["@acme/dba"], max_duration: 30m }\n',
    ).replace("    max_duration: 8h\n", `    max_duration: 8h\n${BREAK_GLASS_ONCALL}`);
    await world.withGovernance({ policy }, async () => {
      const mark = world.mark();
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: bgRequest("production") } }] });
      await world.merge(number, "merge", { by: "alice" });
      expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["failed"]);
      expect(world.createsSince(mark)).toBe(0);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // "Every commit is the author's own" is read from e-mail-linked commit metadata.
  // ---------------------------------------------------------------------------------------------

  it("attack: mallory pushes a commit committed by herself (author set to alice) into alice's PR", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const number = hijackedPull(world.newPath(), [
        { content: READ_ONLY, author: "alice", pusher: "alice" },
        // git commit --author="alice <alice's address>": GitHub links the author to @alice; the committer is mallory.
        { content: bgRequest(), author: "alice", committer: "mallory", pusher: "mallory" },
      ]);
      await world.merge(number, "merge", { by: "mallory" });
      const verdict = await world.verdict(number);
      expect(verdict?.verdict, JSON.stringify(verdict?.reasons)).toBe("rejected");
      expect(await world.grants(number)).toEqual([]);
    });
  });

  it("attack: mallory pushes a commit whose author AND committer are alice's e-mail (only the push is hers)", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const number = hijackedPull(world.newPath(), [
        { content: READ_ONLY, author: "alice", pusher: "alice" },
        { content: bgRequest(), author: "alice", committer: "alice", pusher: "mallory" },
      ]);
      await world.merge(number, "merge", { by: "mallory" });
      const verdict = await world.verdict(number);
      expect(verdict?.verdict, JSON.stringify(verdict?.reasons)).toBe("rejected");
      expect(await world.grants(number)).toEqual([]);
    });
  });

  it("attack: a code owner who committed to the break-glass PR reviews it afterwards with /jitsudo ack", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const number = hijackedPull(world.newPath(), [
        { content: bgRequest(), author: "alice", pusher: "alice" },
        // dave (an active member of @acme/security, the code owners) commits into it.
        { content: bgRequest().replace("INC-4711", "INC-4712"), author: "alice", committer: "dave", pusher: "dave" },
      ]);
      await world.merge(number, "merge", { by: "alice" });
      await world.command(number, "dave", "/jitsudo ack");
      // The rulebook: an author or committer of any commit in the PR never counts as the approval.
      expect((await reviewedEvents()).filter((event) => event.pr_number === number)).toEqual([]);
    });
  });

  it("attack: the post-merge review is accepted from a code owner who IS the grantee in Identity Center", async () => {
    oncall();
    // dave's login maps to alice's Identity Center user (her second GitHub account, say).
    const policy = BG_POLICY.replace("  bob: bob@example.com\n", "  bob: bob@example.com\n  dave: alice@example.com\n");
    expect(policy).toContain("dave: alice@example.com");
    await world.withGovernance({ policy }, async () => {
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: bgRequest() } }] });
      await world.merge(number, "merge", { by: "alice" });
      expect((await world.verdict(number))?.verdict).toBe("approved");
      await world.command(number, "dave", "/jitsudo ack");
      // The verdict never counts the grantee's approval (granteeExclusion); the review after the merge must not either.
      expect((await reviewedEvents()).filter((event) => event.pr_number === number)).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------------
  // What else the break-glass PR touches.
  // ---------------------------------------------------------------------------------------------

  it("attack: a break-glass PR that rewrites bob's live request file ends bob's access without any approval", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const bobPath = world.newPath("bob");
      const bobPull = await world.grant({ author: "bob", commits: [{ files: { [bobPath]: READ_ONLY } }] });
      // alice, on call, "uses" bob's file for her break-glass request (principal: her own).
      const number = world.openPull({ commits: [{ files: { [bobPath]: bgRequest() } }] });
      await world.merge(number, "merge", { by: "alice" });
      // Editing someone else's live request replaces (ends) their grant: that needs the code owners.
      expect((await world.grants(bobPull)).map((grant) => grant.status)).toEqual(["active"]);
      expect((await world.verdict(number))?.verdict).toBe("rejected");
    });
  });

  it("attack: break-glass is granted for a request file no code owner can ever review afterwards", async () => {
    oncall();
    // CODEOWNERS at the base owns nothing under access-requests/.
    await world.withGovernance({ policy: BG_POLICY, codeowners: "/README.md @acme/security\n" }, async () => {
      const number = world.openPull({ commits: [{ files: { [world.newPath()]: bgRequest() } }] });
      await world.merge(number, "merge", { by: "alice" });
      const verdict = await world.verdict(number);
      expect(verdict?.verdict, JSON.stringify(verdict?.reasons)).toBe("rejected");
    });
  });

  it("attack (policy): a second break-glass (an extension of the first) while the first is unreviewed", async () => {
    oncall();
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const path = world.newPath();
      const first = world.openPull({ commits: [{ files: { [path]: bgRequest() } }] });
      await world.merge(first, "merge", { by: "alice" });
      expect((await world.verdict(first))?.verdict).toBe("approved");
      // The same file, asking again (an extension when the first is active), nobody having reviewed the first.
      const second = world.openPull({ commits: [{ files: { [path]: bgRequest(`"${PRODUCTION}"`, "59m") } }] });
      await world.merge(second, "merge", { by: "alice" });
      // max_duration (1h) is meant to bound break-glass access until a code owner looked at it.
      expect((await world.verdict(second))?.verdict).toBe("rejected");
    });
  });

  it("control: mallory, not on call, cannot break the glass for herself", async () => {
    await world.withGovernance({ policy: BG_POLICY }, async () => {
      const number = world.openPull({ author: "mallory", commits: [{ files: { [world.newPath("mallory")]: bgRequest() } }] });
      await world.merge(number, "merge", { by: "mallory" });
      expect((await world.verdict(number))?.verdict).toBe("rejected");
    });
  });
});
