import { describe, expect, it } from "vitest";
import { commitsToInspect, governanceChangesOf } from "../../src/approval/commit-history.js";

const PATHS = [".github/CODEOWNERS", ".github/jitsudo.yml"];
const ORIGINAL = ["co-1", "policy-1"];

describe("governanceChangesOf", () => {
  it("finds a change that a later commit reverts, which the net diff hides", () => {
    const commits = [
      { sha: "c1", parents: ["base"] },
      { sha: "c2", parents: ["c1"] },
    ];
    const ids = new Map([
      ["base", ORIGINAL],
      ["c1", ["co-evil", "policy-1"]],
      ["c2", ORIGINAL],
    ]);
    expect(governanceChangesOf(commits, PATHS, ids)).toEqual([
      { sha: "c1", paths: [".github/CODEOWNERS"] },
      { sha: "c2", paths: [".github/CODEOWNERS"] },
    ]);
  });

  it("counts adding and deleting a file as a change", () => {
    const commits = [{ sha: "c1", parents: ["base"] }];
    expect(
      governanceChangesOf(
        commits,
        PATHS,
        new Map([
          ["base", [null, "policy-1"]],
          ["c1", ["co-1", null]],
        ]),
      ),
    ).toEqual([{ sha: "c1", paths: PATHS }]);
  });

  it("does not blame a merge commit for what one of its parents already had", () => {
    // The default branch changed its policy; the PR branch merged the default branch in.
    const commits = [
      { sha: "c1", parents: ["base"] },
      { sha: "m", parents: ["c1", "main-later"] },
    ];
    const ids = new Map([
      ["base", ORIGINAL],
      ["main-later", ["co-1", "policy-2"]],
      ["c1", ORIGINAL],
      ["m", ["co-1", "policy-2"]],
    ]);
    expect(governanceChangesOf(commits, PATHS, ids)).toEqual([]);
  });

  it("blames a merge commit whose content matches neither parent (an evil merge)", () => {
    const commits = [{ sha: "m", parents: ["base", "side"] }];
    const ids = new Map([
      ["base", ORIGINAL],
      ["side", ["co-2", "policy-1"]],
      ["m", ["co-3", "policy-1"]],
    ]);
    expect(governanceChangesOf(commits, PATHS, ids)).toEqual([{ sha: "m", paths: [".github/CODEOWNERS"] }]);
  });

  it("throws rather than read a commit it has no ids for as unchanged", () => {
    expect(() => governanceChangesOf([{ sha: "c1", parents: ["base"] }], PATHS, new Map([["c1", ORIGINAL]]))).toThrow(
      "no object ids for commit base",
    );
  });

  it("lists every commit and parent to inspect once", () => {
    expect(
      commitsToInspect([
        { sha: "c1", parents: ["base"] },
        { sha: "c2", parents: ["c1"] },
      ]),
    ).toEqual(["c1", "base", "c2"]);
  });
});
