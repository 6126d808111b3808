/**
 * Hole: CODEOWNERS patterns were compiled to backtracking regular expressions. `*a*a*a*a*a*a*b`
 * against `access-requests/aaa…a.yaml` took 12 s at 70 characters and 98 s at 120, on the event
 * loop: every tenant stalled, and with `jitsudo start` the worker's expiry timers too. And the base
 * of a pull request check can be any branch its author pushed, CODEOWNERS and all.
 *
 * Now the matcher is linear (see `npm run bench codeowners-hostile`), jitsudo reads at most 1,000
 * rules of a CODEOWNERS file, and a pull request into another branch is checked against the
 * default branch's files. Each test here would run for minutes (and time out) on the old matcher.
 */
import { describe, expect, it } from "vitest";
import { CHECK_NAME } from "../../src/github/check-run.js";
import { CODEOWNERS, READ_ONLY, useSecurityWorld, type SecurityWorld } from "./support/security-world.js";

const HOSTILE = "/access-requests/*a*a*a*a*a*a*a*a*a*a*a*a*b @mallory\n";
/** The longest file name most file systems allow, all of it "a". */
const LONG_PATH = `access-requests/alice/${"a".repeat(250)}.yaml`;

const latestCheck = (world: SecurityWorld) => world.access.conversation.checkRuns.filter((run) => run.name === CHECK_NAME).at(-1)!;

describe("CODEOWNERS patterns an attacker writes", () => {
  const world = useSecurityWorld();

  it("matches a backtracking-hostile pattern on the default branch against a long path at once", async () => {
    await world.withGovernance({ codeowners: `${CODEOWNERS}${HOSTILE.repeat(200)}` }, async () => {
      const number = world.openPull({ commits: [{ files: { [LONG_PATH]: READ_ONLY } }] });
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      const run = latestCheck(world);
      expect(run.conclusion).toBe("success");
      // The hostile lines do not match (no "b"): security still owns the file.
      expect(world.comment(number)).toContain("@acme/security");
    });
  });

  it("never reads CODEOWNERS or the policy from a branch the author pushed: a pull request into it is checked against the default branch's", async () => {
    // mallory pushes a branch whose CODEOWNERS is hostile and makes her the owner of everything.
    world.access.createBranch("mallory/base", "main", "mallory");
    world.access.commit("mallory/base", { files: { ".github/CODEOWNERS": `* @mallory\n${HOSTILE.repeat(5000)}` }, author: "mallory" });
    const number = world.openPull({
      author: "mallory",
      base: "mallory/base",
      commits: [{ files: { [LONG_PATH.replace("alice", "mallory")]: READ_ONLY } }],
    });
    expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
    const run = latestCheck(world);
    expect(run.conclusion).toBe("failure");
    expect(`${run.output.summary}\n${run.output.text}`).toContain("not the default branch main");
    const comment = world.comment(number);
    expect(comment).toContain("@acme/security");
    expect(comment).not.toContain("more than 1000 rules");
  });

  it("refuses to judge a default-branch CODEOWNERS longer than jitsudo reads, instead of spending the event loop on it", async () => {
    const many = Array.from({ length: 1001 }, (_, index) => `/docs/${index}/ @acme/security\n`).join("");
    await world.withGovernance({ codeowners: `${CODEOWNERS}${many}` }, async () => {
      world.openPull({ commits: [{ files: { [world.newPath()]: READ_ONLY } }] });
      expect(await world.harness.deliverLatest("pull_request.opened")).toBe(200);
      const run = latestCheck(world);
      expect(run.conclusion).toBe("failure");
      expect(`${run.output.summary}\n${run.output.text}`).toContain("has more than 1000 rules; jitsudo reads at most 1000");
    });
  });
});
