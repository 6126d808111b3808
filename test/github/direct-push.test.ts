/**
 * Request files pushed to the default branch without a pull request grant nothing, and say so:
 * through Probot's real webhook pipeline, GitHub intercepted at HTTP, events in real PostgreSQL.
 */
import type { Knex } from "knex";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { filesPushed } from "../../src/github/direct-push.js";
import { startHarness, type Harness } from "../support/app-harness.js";
import { freshDatabase } from "../support/db.js";
import { BASE, FILE, MERGE, REPO, seed } from "../support/merge-world.js";
import { pushEvent } from "../support/payloads.js";

const PUSHED = "c".repeat(40);

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
  beforeEach(async () => {
    ({ db } = await freshDatabase());
    harness = await startHarness({ db });
    seed(harness.github);
  });
  afterEach(async () => {
    await harness.stop();
  });

  const push = (after: string, ref = "refs/heads/main") =>
    harness.deliver("push", pushEvent({ ref, before: BASE, after, pusher: "mallory", commits: [{ id: after, added: [FILE] }] }));

  it("grants nothing for a request file pushed without a pull request, and reports it on the commit", async () => {
    expect(await push(PUSHED)).toBe(200);

    expect(await db("grants").select("id")).toEqual([]);
    expect(await db("merge_verdicts").select("pr_number")).toEqual([]);
    const events = await db("grant_events").select("type", "actor", "grant_id", "pr_number", "reason", "details");
    expect(events).toEqual([
      {
        type: "direct_push",
        actor: "mallory",
        grant_id: null,
        pr_number: null,
        reason: `request files pushed to the default branch without a pull request: ${FILE}; nothing granted`,
        details: { before: BASE, after: PUSHED, request_files: [FILE], governance_files: [] },
      },
    ]);
    expect(harness.github.checkRuns).toHaveLength(1);
    const run = harness.github.checkRuns[0]!.body as { head_sha: string; conclusion: string; output: { title: string; summary: string } };
    expect([run.head_sha, run.conclusion, run.output.title]).toEqual([PUSHED, "failure", "Pushed without a pull request: nothing granted"]);
    expect(run.output.summary).toContain(`- \`${FILE}\``);
  });

  it("reports a redelivered push once", async () => {
    await push(PUSHED);
    await push(PUSHED);
    expect(await db("grant_events").where({ type: "direct_push" }).count({ n: "*" })).toEqual([{ n: "1" }]);
    expect(harness.github.checkRuns).toHaveLength(1);
  });

  it("leaves the push of a pull request's merge to the merge verdict", async () => {
    await push(MERGE);
    expect(await db("grant_events").select("type")).toEqual([]);
    expect(harness.github.callLines().filter((line) => !line.endsWith("/access_tokens"))).toEqual([`GET ${REPO}/commits/${MERGE}/pulls`]);
  });

  it("ignores pushes to other branches", async () => {
    await push(PUSHED, "refs/heads/feature");
    expect([await db("grant_events").select("type"), harness.github.calls]).toEqual([[], []]);
  });
});
