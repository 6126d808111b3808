/**
 * Request files pushed to the default branch without a pull request grant nothing, and say so:
 * through Probot's real webhook pipeline, GitHub intercepted at HTTP, events in real PostgreSQL.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesPushed } from "../../src/github/direct-push.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { FILE, REPO, REQUEST, seed, type SeededMerge } from "../support/merge-world.js";

describe("filesPushed", () => {
  it("collects request and governance files across commits, once each", () => {
    expect(
      filesPushed([
        { id: "1", added: ["access-requests/a.yaml", "README.md"], modified: [".github/CODEOWNERS"] },
        { id: "2", modified: ["access-requests/a.yaml"], removed: ["access-requests/b.yml", "notes/access-requests/c.yaml"] },
      ]),
    ).toEqual({ requests: ["access-requests/a.yaml", "access-requests/b.yml"], governance: [".github/CODEOWNERS"] });
  });
});

describe("pushes to the default branch", () => {
  let db: Knex;
  let harness: Harness;
  let world: SeededMerge;
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    world = seed(harness.github);
  });
  afterEach(async () => {
    await harness.stop();
  });

  /** mallory (who has write access) pushes a request file straight to a branch. */
  const pushRequest = (branch = "main") => world.repo.directPush(branch, { "access-requests/mallory.yaml": REQUEST }, "mallory");
  const MALLORY_FILE = "access-requests/mallory.yaml";

  it("grants nothing for a request file pushed without a pull request, and reports it on the commit", async () => {
    const before = world.repo.branch("main")!;
    const push = pushRequest();
    const pushed = push.after as string;
    expect(await harness.deliver("push", push)).toBe(200);

    expect(await db("grants").select("id")).toEqual([]);
    expect(await db("merge_verdicts").select("pr_number")).toEqual([]);
    const events = await db("grant_events").select("type", "actor", "grant_id", "pr_number", "reason", "details");
    expect(events).toEqual([
      {
        type: "direct_push",
        actor: "mallory",
        grant_id: null,
        pr_number: null,
        reason: `request files pushed to the default branch without a pull request: ${MALLORY_FILE}; nothing granted`,
        details: { before, after: pushed, request_files: [MALLORY_FILE], governance_files: [] },
      },
    ]);
    const runs = world.repo.conversation.checkRuns;
    expect(runs).toHaveLength(1);
    const run = runs[0]!.body as { head_sha: string; conclusion: string; output: { title: string; summary: string } };
    expect([run.head_sha, run.conclusion, run.output.title]).toEqual([pushed, "failure", "Pushed without a pull request: nothing granted"]);
    expect(run.output.summary).toContain(`- \`${MALLORY_FILE}\``);
  });

  it("reports a redelivered push once", async () => {
    const push = pushRequest();
    await harness.deliver("push", push);
    await harness.deliver("push", push);
    expect(await db("grant_events").where({ type: "direct_push" }).count({ n: "*" })).toEqual([{ n: "1" }]);
    expect(world.repo.conversation.checkRuns).toHaveLength(1);
  });

  it("leaves the push of a pull request's merge to the merge verdict", async () => {
    expect((world.push.commits as { added: string[] }[]).some((commit) => commit.added.includes(FILE))).toBe(true);
    await harness.deliver("push", world.push);
    expect(await db("grant_events").select("type")).toEqual([]);
    expect(harness.github.callLines().filter((line) => !line.endsWith("/access_tokens"))).toEqual([
      `GET ${REPO}/commits/${world.merge}/pulls`,
    ]);
  });

  it("ignores pushes to other branches", async () => {
    world.repo.createBranch("feature", "main", "mallory");
    await harness.deliver("push", pushRequest("feature"));
    expect([await db("grant_events").select("type"), harness.github.calls]).toEqual([[], []]);
  });
});
