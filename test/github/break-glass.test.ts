/**
 * Break-glass: a request with `break_glass: true`, under a rule that allows it, from an active
 * member of one of its teams, is granted at the merge WITHOUT code-owner approval, loudly; every
 * other rule still holds. Through Probot's real webhook pipeline, GitHub intercepted at HTTP, the
 * grants in the real PostgreSQL.
 *
 * The attacks: someone outside the team (or only invited to it) breaking the glass; a rule that
 * does not allow it; asking for longer than break-glass allows, for someone else, or for later; a
 * friend's commit carrying the request in the member's pull request.
 */
import type { Knex } from "knex";
import { beforeEach, describe, expect, it } from "vitest";
import { useHarnessWithDatabase, type Harness } from "../support/app-harness.js";
import { seed, type Setup } from "../support/merge-world.js";

const BREAK_GLASS_POLICY = `users:
  alice: alice@example.com
rules:
  - permission_sets: [AdministratorAccess]
    accounts: ["123456789012"]
    max_duration: 4h
    approvals: 2
    require_ticket: true
    break_glass: { teams: ["@acme/oncall"], max_duration: 1h, review_within: 12h }
  - permission_sets: [ReadOnlyAccess]
    accounts: ["*"]
    max_duration: 8h
`;

const request = (extra: string, duration = "1h", permissionSet = "AdministratorAccess") =>
  `account: "123456789012"\npermission_set: ${permissionSet}\nduration: ${duration}\nreason: "Database is down, restoring from backup"\n${extra}`;
const BREAK_GLASS = request("ticket: INC-4711\nbreak_glass: true\n");

describe("break-glass", () => {
  const current = useHarnessWithDatabase();
  let db: Knex;
  let harness: Harness;
  beforeEach(() => {
    ({ db, harness } = current);
  });

  /** Merges alice's request with no review at all, alice an active member of @acme/oncall unless told otherwise. */
  async function mergeUnreviewed(setup: Setup & { membership?: "active" | "pending" | "none" } = {}) {
    const { membership = "active", ...rest } = setup;
    if (membership !== "none") harness.github.setTeamMembership("acme", "oncall", "alice", membership);
    const world = seed(harness.github, { policy: BREAK_GLASS_POLICY, request: BREAK_GLASS, reviews: [], ...rest });
    expect(await harness.deliver("pull_request", world.closed)).toBe(200);
    const comment = harness.github.repo.conversation.commentsOn(world.number)[0]?.body ?? "";
    const reasons = ((await db("grant_events").where({ type: "rejected" }).first())?.details.reasons ?? []) as string[];
    return { world, comment, reasons, grants: await db("grants").select("*") };
  }

  it("grants an active on-call member at the merge without approval, loudly, and records it for review", async () => {
    const { world, comment, grants } = await mergeUnreviewed();
    expect(grants).toHaveLength(1);
    const [grant] = grants;
    expect([grant.status, grant.approvers, grant.break_glass_team, grant.break_glass_reviewed_at]).toEqual([
      "approved",
      [],
      "@acme/oncall",
      null,
    ]);
    // Review due 12 h (review_within) after the access started.
    expect(grant.break_glass_review_due_at.getTime() - grant.starts_at.getTime()).toBe(12 * 3_600_000);
    // Said first, above everything, calling the file's code owners.
    // The first line after the sticky marker.
    expect(comment.split("\n").find((line) => !line.startsWith("<!--"))).toBe(
      "## :rotating_light: BREAK-GLASS: access granted WITHOUT code-owner approval",
    );
    expect(comment).toContain("@bob, @acme/platform: please review it within 12h");
    expect(comment).toContain("`/jitsudo ack`");
    expect(comment).toContain("| Approved by | break-glass (@acme/oncall), without code-owner approval |");
    const events = await db("grant_events").where({ grant_id: grant.id }).orderBy("id").select("type", "actor", "reason");
    expect(events.map((event) => event.type)).toEqual(["approved", "break_glass"]);
    expect(events[1]).toMatchObject({ actor: "alice" });
    expect(events[1].reason).toContain("without code-owner approval");
    expect(world.number).toBeGreaterThan(0);
  });

  it.each(["squash", "rebase"] as const)("grants a member through a %s merge alike", async (method) => {
    const granted = await mergeUnreviewed({ method });
    expect(granted.grants.map((grant) => grant.break_glass_team)).toEqual(["@acme/oncall"]);
    expect(granted.comment).toContain("BREAK-GLASS");
  });

  it.each(["squash", "rebase"] as const)("refuses a non-member through a %s merge", async (method) => {
    const { grants, reasons } = await mergeUnreviewed({ method, membership: "none" });
    expect(grants).toEqual([]);
    expect(reasons.join("\n")).toContain("is only for active members of @acme/oncall, and @alice is not one");
  });

  it("is an ordinary grant when the code owners approved enough anyway", async () => {
    harness.github.setTeamMembership("acme", "platform", "carol", "active");
    const { grants, comment } = await mergeUnreviewed({
      reviews: [
        { login: "bob", state: "APPROVED" },
        { login: "carol", state: "APPROVED" },
      ],
    });
    expect(grants.map((grant) => [grant.status, grant.break_glass_team, grant.approvers])).toEqual([["approved", null, ["bob", "carol"]]]);
    expect(comment).not.toContain("BREAK-GLASS");
  });

  const refusals: [string, Setup & { membership?: "active" | "pending" | "none" }, string][] = [
    [
      "someone outside the team",
      { membership: "none" },
      "break-glass under rules[0] is only for active members of @acme/oncall, and @alice is not one",
    ],
    ["an invited (pending) member", { membership: "pending" }, "@alice is not one (their membership of @acme/oncall is pending)"],
    [
      "a rule that does not allow it",
      { request: request("break_glass: true\n", "1h", "ReadOnlyAccess") },
      "rules[1] (.github/jitsudo.yml line 10) does not allow break-glass",
    ],
    [
      "longer than break-glass allows",
      { request: request("ticket: INC-4711\nbreak_glass: true\n", "2h") },
      "longer than the 1h that break-glass under rules[0]",
    ],
    ["no ticket", { request: request("break_glass: true\n") }, "a break-glass request must name the incident"],
    [
      "access starting later",
      { request: request('ticket: INC-4711\nbreak_glass: true\nstarts_at: "2026-11-25T18:00:00Z"\n') },
      "break-glass access starts when the pull request is merged",
    ],
    [
      "someone else's access",
      { request: request("ticket: INC-4711\nbreak_glass: true\nprincipal: mallory@example.com\n") },
      "break-glass access is only for the requester themselves",
    ],
    [
      "a commit another person wrote",
      { author: "mallory" },
      "break-glass needs every commit of the pull request to be the requester's own",
    ],
  ];
  it.each(refusals)("refuses %s, and grants nothing", async (_, setup, reason) => {
    const { grants, comment, reasons } = await mergeUnreviewed(setup);
    expect(grants).toEqual([]);
    expect(reasons.join("\n")).toContain(reason);
    expect(comment).toContain("merge not approved, nothing was granted");
    expect(comment).not.toContain("BREAK-GLASS");
  });

  it("refuses a pull request from a fork, whose pushes jitsudo cannot see", async () => {
    harness.github.setTeamMembership("acme", "oncall", "alice", "active");
    const world = seed(harness.github, { policy: BREAK_GLASS_POLICY, request: BREAK_GLASS, reviews: [] });
    // The same merge, its head branch in another repository (the webhook names the head's repository).
    const closed = structuredClone(world.closed) as { pull_request: { head: { repo: { id: number } } } };
    closed.pull_request.head.repo.id += 1;
    expect(await harness.deliver("pull_request", closed)).toBe(200);
    expect(await db("grants").select("id")).toEqual([]);
    const reasons = ((await db("grant_events").where({ type: "rejected" }).first())?.details.reasons ?? []) as string[];
    expect(reasons.join("\n")).toContain("the pull request's branch is not in this repository (a fork)");
  });

  describe("the review after the merge", () => {
    const unreviewed = async () =>
      (await db("grants").whereNull("break_glass_reviewed_at").whereNotNull("break_glass_team").pluck("id")) as string[];
    const reviewEvents = () => db("grant_events").where({ type: "break_glass_reviewed" }).select("actor", "reason");

    it("counts a code owner's approval of the merged pull request", async () => {
      const { world } = await mergeUnreviewed();
      world.repo.review(world.number, "bob", "APPROVED");
      expect(await harness.deliverLatest("pull_request_review.submitted")).toBe(200);
      expect(await unreviewed()).toEqual([]);
      const [grant] = await db("grants").select("*");
      expect(grant.break_glass_reviewed_by).toBe("bob");
      expect(await reviewEvents()).toEqual([{ actor: "bob", reason: expect.stringContaining("approved the merged pull request") }]);
      expect(
        harness.github.repo.conversation
          .commentsOn(world.number)
          .map((comment) => comment.body)
          .join("\n"),
      ).toContain("break-glass reviewed");
    });

    it("counts `/jitsudo ack` from an active member of an owning team, once", async () => {
      harness.github.setTeamMembership("acme", "platform", "carol", "active");
      const { world } = await mergeUnreviewed();
      const { id } = world.repo.conversation.comment(world.number, "carol", "/jitsudo ack");
      expect(await harness.deliverLatest("issue_comment.created")).toBe(200);
      expect(world.repo.conversation.reactionsOn(id)).toContain("+1");
      expect(await unreviewed()).toEqual([]);
      // A second ack finds nothing left to review.
      world.repo.conversation.comment(world.number, "bob", "/jitsudo ack");
      expect(await harness.deliverLatest("issue_comment.created")).toBe(200);
      expect(await reviewEvents()).toEqual([{ actor: "carol", reason: expect.stringContaining("/jitsudo ack") }]);
    });

    const strangers: [string, () => void, string][] = [
      ["the requester", () => undefined, "alice"],
      ["someone who is not a code owner", () => undefined, "mallory"],
      ["a pending member of an owning team", () => harness.github.setTeamMembership("acme", "platform", "carol", "pending"), "carol"],
      ["a code owner without write access", () => harness.github.repo.setPermission("bob", "read"), "bob"],
    ];
    it.each(strangers)("does not count an ack or approval by %s", async (_, arrange, login) => {
      const { world } = await mergeUnreviewed();
      arrange();
      const { id } = world.repo.conversation.comment(world.number, login, "/jitsudo ack");
      expect(await harness.deliverLatest("issue_comment.created")).toBe(200);
      expect(world.repo.conversation.reactionsOn(id)).toContain("-1");
      if (login !== "alice") {
        world.repo.review(world.number, login, "APPROVED");
        expect(await harness.deliverLatest("pull_request_review.submitted")).toBe(200);
      }
      expect(await unreviewed()).toHaveLength(1);
      expect(await reviewEvents()).toEqual([]);
    });

    it("lists unreviewed break-glass grants in the API and the gauge", async () => {
      await mergeUnreviewed();
      const { countUnreviewed } = await import("../../src/grants/break-glass-store.js");
      expect(await countUnreviewed(db)).toBe(1);
      const { findGrants } = await import("../../src/grants/grant-repository.js");
      expect((await findGrants(db, { unreviewed: true }, 10)).map((grant) => grant.break_glass_team)).toEqual(["@acme/oncall"]);
    });
  });
});
