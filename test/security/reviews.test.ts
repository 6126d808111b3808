/**
 * Rulebook: approvals that must not count. "a review submitted after the merge (it does not count,
 * also for the catch-up scan)", "an approval given while the PR targeted another branch, then the
 * PR retargeted to the default branch (an approval before the last base change does not count)",
 * "approval given, then more commits pushed (stale approval)", "requester approves their own
 * request, directly or through a second account that authored a commit", "an admin merges with no
 * qualifying approval", and a later CHANGES_REQUESTED or DISMISSED cancelling an approval.
 */
import { describe, expect, it } from "vitest";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { expectRefused, READ_ONLY, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];

describe("reviews that do not count", () => {
  const world = useSecurityWorld();

  it.each(METHODS)("refuses an approval given after an admin merged with %s, delivered late", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    const merged = world.access.merge(number, { method, by: "admin" });
    // A code owner approves the merged pull request (GitHub accepts it), then the webhook arrives.
    world.review(number, "dave");
    expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
    await world.settle();
    await expectRefused(
      world,
      number,
      mark,
      `${path}: @dave's review (approved) was submitted after the merge, and only reviews given before a merge count`,
    );
  });

  it.each(METHODS)(
    "refuses an approval given after a merge with %s whose webhook was lost, when the catch-up scan finds it",
    async (method) => {
      const mark = world.mark();
      const path = world.newPath();
      const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
      world.access.merge(number, { method, by: "admin" });
      world.review(number, "dave");
      expect(await world.catchUp()).toContainEqual({ number, outcome: "rejected" });
      await world.settle();
      await expectRefused(
        world,
        number,
        mark,
        `${path}: @dave's review (approved) was submitted after the merge, and only reviews given before a merge count`,
      );
    },
  );

  it.each(METHODS)(
    "refuses an approval given before the pull request was retargeted to the default branch, merged with %s",
    async (method) => {
      // A feature branch already holds another request; the approver sees only alice's file in the
      // diff against it. Retargeted to main, the merge would carry both.
      const mark = world.mark();
      const hidden = world.newPath("mallory");
      world.access.createBranch(`feature-${method}`, "main", "mallory");
      world.access.commit(`feature-${method}`, {
        files: { [hidden]: READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess") },
        author: "mallory",
      });
      const path = world.newPath();
      const number = world.openPull({ base: `feature-${method}`, commits: [{ files: { [path]: READ_ONLY } }] });
      world.review(number, "dave");
      world.access.retarget(number, "main", "alice");
      await world.merge(number, method);

      const lastChange = lastBaseChange(world, number);
      await expectRefused(
        world,
        number,
        mark,
        `${path}: @dave approved before the pull request's base last changed (${lastChange}), when it showed a different diff; approvals count only when given after the last base change`,
      );
    },
  );

  it("counts an approval given after the retarget (the control)", async () => {
    const mark = world.mark();
    world.access.createBranch("feature-control", "main", "alice");
    const number = world.openPull({ base: "feature-control" });
    world.access.retarget(number, "main", "alice");
    world.review(number, "dave");
    await world.merge(number, "squash");
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
    expect(world.createsSince(mark)).toBe(1);
  });

  it.each(METHODS)("refuses a stale approval: more commits pushed after it, merged with %s", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    world.review(number, "dave");
    const branch = world.access.pull(number).headRef;
    const approved = world.access.pull(number).headSha;
    world.access.commit(branch, {
      files: { [path]: READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess").replace("2h", "8h") },
      author: "alice",
    });
    await world.merge(number, method);
    await expectRefused(
      world,
      number,
      mark,
      `${path}: @dave approved ${approved.slice(0, 7)}, not the merged head ${world.access.pull(number).headSha.slice(0, 7)}`,
    );
  });

  it.each(["CHANGES_REQUESTED", "DISMISSED"] as const)("refuses an approval withdrawn by a later %s", async (state) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    world.review(number, "dave");
    if (state === "DISMISSED") world.access.dismissReview(number, world.access.pull(number).reviews.at(-1)!.id, "admin");
    else world.review(number, "dave", "CHANGES_REQUESTED");
    await world.merge(number, "merge");
    await expectRefused(
      world,
      number,
      mark,
      state === "DISMISSED"
        ? `${path}: @dave's latest review was dismissed, so it does not count`
        : `${path}: @dave requested changes after approving, which withdraws the approval`,
    );
  });

  it("refuses the requester's own approval: GitHub rejects it, and the admin merge that follows grants nothing", async () => {
    const mark = world.mark();
    const path = world.newPath("dave");
    const number = world.openPull({ author: "dave", commits: [{ files: { [path]: READ_ONLY } }] });
    expect(() => world.review(number, "dave")).toThrow(/Can not approve your own pull request/);
    await world.merge(number, "merge", { by: "admin" });
    await expectRefused(world, number, mark, `${path}: needs 1 code-owner approval, has 0`);
  });

  it.each(METHODS)("refuses an approver who authored a commit of the pull request (a second account), merged with %s", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({
      commits: [
        { files: { [path]: READ_ONLY } },
        { files: { "access-requests/notes.md": "context\n" }, author: "erin", committer: "alice" },
      ],
    });
    world.review(number, "erin");
    await world.merge(number, method);
    const commit = world.access.changes(world.access.pull(number)).commits[1]!.sha.slice(0, 7);
    await expectRefused(world, number, mark, `${path}: @erin authored a commit in this pull request (${commit})`);
  });

  it("refuses a merge with a commit whose author is linked to no GitHub account", async () => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({
      commits: [
        { files: { [path]: READ_ONLY }, author: { name: "Alice (laptop)", email: "alice@laptop.local", login: null }, committer: "alice" },
      ],
    });
    world.review(number, "dave");
    await world.merge(number, "merge");
    const commit = world.access.pull(number).headSha.slice(0, 7);
    await expectRefused(
      world,
      number,
      mark,
      `commit ${commit}'s author is not linked to a GitHub account, so jitsudo cannot tell whether an approver wrote it`,
    );
  });
});

function lastBaseChange(world: SecurityWorld, number: number): string {
  const event = world.access
    .pull(number)
    .timeline.filter((item) => item.type === "BaseRefChangedEvent")
    .at(-1);
  if (!event) throw new Error("no base change recorded");
  return event.createdAt.toISOString();
}
