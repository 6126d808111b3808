/**
 * Rulebook: "a CODEOWNERS line whose wildcard segment matches a directory on a request path
 * (access-req*), placed after a broader owner: ambiguous, so nothing is granted", "a pending (not
 * yet accepted) team member approves", "while CODEOWNERS at the base has an invalid line, no merge
 * is approved", and GitHub's own CODEOWNERS errors as an extra fail-closed signal (they catch
 * owners GitHub ignores, such as a team or user without write access).
 *
 * The hole: with `* @bob` then `access-req* @acme/security`, GitHub gives access-requests/… to
 * security; jitsudo's matcher gave it to bob, and bob's approval was granted.
 */
import { describe, expect, it } from "vitest";
import type { MergeMethod } from "../../src/sandbox/github.js";
import { expectRefused, READ_ONLY, useSecurityWorld } from "./support/security-world.js";

const METHODS: MergeMethod[] = ["merge", "squash", "rebase"];

describe("who owns a request file", () => {
  const world = useSecurityWorld();

  it.each(METHODS)("refuses a broad owner's approval when a wildcard line may give the file to others, merged with %s", async (method) => {
    await world.withGovernance({ codeowners: "* @mallory\naccess-req* @acme/security\n" }, async () => {
      const mark = world.mark();
      const path = world.newPath();
      const number = world.openPull({
        commits: [
          {
            files: {
              [path]: READ_ONLY,
            },
          },
        ],
      });
      world.review(number, "mallory");
      world.review(number, "dave");
      await world.merge(number, method);
      await expectRefused(world, number, mark, (reason) =>
        reason.startsWith(`${path}: .github/CODEOWNERS line 2 ("access-req*") matches the directory access-requests through a wildcard`),
      );
    });
  });

  it("grants when the same owners are written without a wildcard (the control)", async () => {
    await world.withGovernance({ codeowners: "* @mallory\n/access-requests/ @acme/security\n" }, async () => {
      const mark = world.mark();
      await world.grant({}, "rebase");
      expect(world.createsSince(mark)).toBe(1);
    });
  });

  it("refuses an approval from a pending (not yet accepted) member of the owning team", async () => {
    const mark = world.mark();
    const path = world.newPath();
    const number = world.openPull({
      commits: [
        {
          files: {
            [path]: READ_ONLY,
          },
        },
      ],
    });
    world.review(number, "paula");
    await world.merge(number, "squash");
    await expectRefused(world, number, mark, (reason) => reason === `${path}: @paula's membership of @acme/security is pending`);
  });

  it("refuses every merge while CODEOWNERS at the base has a line GitHub skips", async () => {
    await world.withGovernance({ codeowners: "/access-requests/ @acme/security\n!access-requests/mallory/ @mallory\n" }, async () => {
      const mark = world.mark();
      const number = world.openPull();
      world.review(number, "dave");
      await world.merge(number, "merge");
      await expectRefused(world, number, mark, (reason) => reason.startsWith(".github/CODEOWNERS line 2 on the base branch is invalid"));
    });
  });

  it("refuses every merge while GitHub reports an owner it ignores (no write access)", async () => {
    // @ghost has no access to the repository: GitHub ignores that owner and lists the error.
    await world.withGovernance({ codeowners: "/access-requests/ @acme/security @ghost\n" }, async () => {
      const mark = world.mark();
      const number = world.openPull();
      world.review(number, "dave");
      await world.merge(number, "rebase");
      await expectRefused(world, number, mark, (reason) =>
        reason.startsWith("GitHub reports .github/CODEOWNERS line 1 at the base as invalid (Unknown owner)"),
      );
    });
  });
});
