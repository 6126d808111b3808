/**
 * Rulebook: "an admin merges with no qualifying approval (record and report; no grant)", "a
 * webhook with a bad signature (Probot rejects it; make sure nothing is recorded)", "direct pushes
 * to the default branch that add request files (no PR, no approval, no grant)", "the PR was merged
 * into the repository's default branch", and the base of a squash or rebase merge: "when it cannot
 * be proved, grant nothing".
 */
import { describe, expect, it } from "vitest";
import { BASE_RECORD_WAIT_MS } from "../../src/github/process-merge.js";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { WEBHOOK_SECRET } from "../support/app-harness.js";
import { READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];

describe("merges and deliveries that grant nothing", () => {
  const world = useSecurityWorld();

  it.each(METHODS)("records and reports an admin merge with %s and no approval, granting nothing", async (method) => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({ commits: [{ files: { [path]: READ_ONLY } }] });
    await world.merge(number, method, { by: "admin" });
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    expect(await world.verdict(number)).toEqual({ verdict: "rejected", reasons: [`${path}: needs 1 code-owner approval, has 0`] });
    expect(world.comment(number)).toContain("Merged as");
    expect(world.comment(number)).toContain("by @admin");
  });

  it("records nothing for a merge webhook with a bad signature", async () => {
    const number = world.openPull();
    world.review(number, "dave");
    const merged = world.access.merge(number, { method: "merge", by: "bob" });
    expect(await world.harness.deliver("pull_request", merged.closed, { secret: `${WEBHOOK_SECRET}-forged` })).toBe(400);
    expect(await world.verdict(number)).toBeUndefined();
    expect(await world.grants(number)).toEqual([]);
    // The genuine delivery still grants: the refusal was the signature's.
    expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
    await world.settle();
    expect((await world.grants(number)).map((grant) => grant.status)).toEqual(["active"]);
  });

  it("grants nothing for a request file pushed straight to the default branch", async () => {
    const mark = world.mark();
    const path = world.newPath("mallory");
    const push = world.access.directPush("main", { [path]: READ_ONLY.replace("ReadOnlyAccess", "AdministratorAccess") }, "mallory");
    expect(await world.harness.deliver("push", push)).toBe(200);
    await world.settle();
    expect(await world.db("grants").where({ file_path: path })).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    const run = world.access.conversation.checkRuns.at(-1)!;
    expect(run).toMatchObject({
      headSha: world.access.branch("main"),
      conclusion: "failure",
      output: { title: "Pushed without a pull request: nothing granted" },
    });
  });

  it.each(METHODS)("grants nothing for a pull request merged with %s into another branch", async (method) => {
    const mark = world.mark();
    world.access.createBranch(`release-${method}`, "main", "admin");
    const number = world.openPull({ base: `release-${method}` });
    world.review(number, "dave");
    await world.merge(number, method);
    expect(await world.grants(number)).toEqual([]);
    expect(world.createsSince(mark)).toBe(0);
    expect((await world.verdict(number))?.reasons).toEqual([
      `this pull request was merged into release-${method}, not the default branch main; only merges into main grant or revoke access`,
    ]);
  });

  it("waits for GitHub's record of a squash merge of several commits, then refuses it when none comes", async () => {
    // The repository activity API is unavailable (as on an older GitHub Enterprise Server): nothing
    // else proves which commit main was before a squash of two commits.
    world.github.failures.push({ method: "GET", path: /\/activity$/, status: 404 });
    try {
      const mark = world.mark();
      const path = world.newPath();
      const number = world.openPull({ commits: [{ files: { "access-requests/notes.md": "why\n" } }, { files: { [path]: READ_ONLY } }] });
      world.review(number, "dave");
      const merged = world.access.merge(number, { method: "squash", by: "bob" });
      // GitHub's activity cannot be read here at all, so the verdict does not wait: it refuses at once.
      expect(await world.harness.deliver("pull_request", merged.closed)).toBe(200);
      await world.settle();
      expect(await world.grants(number)).toEqual([]);
      expect(world.createsSince(mark)).toBe(0);
      expect((await world.verdict(number))?.reasons).toEqual([
        `the merge commit ${merged.sha.slice(0, 7)} has one parent and the pull request has 2 commits (a squash or rebase merge), and GitHub's record of the merge cannot be read here, so jitsudo cannot prove which commit was the default branch before the merge and which policy and code owners applied`,
      ]);
    } finally {
      world.github.failures.length = 0;
    }
  });

  it("keeps a merge whose record has not appeared for the next look, and refuses it once the wait is over", async () => {
    // The activity API answers, but without this merge yet (a record that lags behind the webhook).
    const path = world.newPath();
    const number = world.openPull({
      commits: [{ files: { "access-requests/notes.md": "why, again\n" } }, { files: { [path]: READ_ONLY } }],
    });
    world.review(number, "dave");
    world.access.activity.withhold();
    world.access.merge(number, { method: "rebase", by: "bob" });
    try {
      expect(await world.catchUp()).toContainEqual({ number, outcome: "not judged yet" });
      expect(await world.verdict(number)).toBeUndefined();

      // GitHub's simulated clock ticks a second per event, so it may run ahead of the worker's.
      const merged = world.access.pull(number).merged!.at.getTime();
      world.aws.clock.advance(Math.max(0, merged - world.aws.clock.nowMs()) + BASE_RECORD_WAIT_MS + 1000);
      expect(await world.catchUp()).toContainEqual({ number, outcome: "rejected" });
      expect((await world.verdict(number))?.reasons[0]).toMatch(
        /GitHub has no record of the branch update yet, so jitsudo cannot prove which commit was the default branch before the merge/,
      );
      expect(await world.grants(number)).toEqual([]);
    } finally {
      world.access.activity.release();
      world.aws.clock.offsetMs = 0;
    }
  });
});
