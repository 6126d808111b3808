import { describe, expect, it } from "vitest";
import type { GitHubGateway } from "../../src/github/gateway.js";
import type { IssueComment } from "../../src/github/types.js";
import { STICKY_MARKER, upsertStickyComment } from "../../src/github/sticky-comment.js";

/** GitHub's comments on one PR, with creation as slow as the throttle's content-creation queue makes it. */
function slowCommentsGateway(repo: string, events: string[] = []) {
  const comments: IssueComment[] = [];
  let nextId = 1;
  const gateway = {
    owner: "acme",
    repo,
    botLogin: () => Promise.resolve("jitsudo[bot]"),
    listIssueComments: () => Promise.resolve(comments.map((comment) => ({ ...comment }))),
    createIssueComment: async (issue: number, body: string) => {
      events.push(`${repo}#${issue} create started`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      events.push(`${repo}#${issue} create done`);
      const comment = { id: nextId++, body, authorLogin: "jitsudo[bot]" };
      comments.push(comment);
      return comment;
    },
    updateIssueComment: (id: number, body: string) => {
      comments.find((comment) => comment.id === id)!.body = body;
      return Promise.resolve();
    },
  };
  return { gateway: gateway as unknown as GitHubGateway, comments };
}

describe("upsertStickyComment", () => {
  it("writes one comment when the verdict and a report race for the same PR", async () => {
    const { gateway, comments } = slowCommentsGateway("access");
    const outcomes = await Promise.all([upsertStickyComment(gateway, 1, "the verdict"), upsertStickyComment(gateway, 1, "access active")]);
    expect(outcomes).toEqual(["created", "updated"]);
    expect(comments.map((comment) => comment.body)).toEqual([`${STICKY_MARKER}\naccess active`]);
  });

  it("does not hold one PR's comment behind another's", async () => {
    const events: string[] = [];
    const one = slowCommentsGateway("access", events);
    const other = slowCommentsGateway("other", events);
    await Promise.all([
      upsertStickyComment(one.gateway, 1, "a"),
      upsertStickyComment(other.gateway, 1, "b"),
      upsertStickyComment(one.gateway, 2, "c"),
    ]);
    expect(events.slice(0, 3).sort()).toEqual(["access#1 create started", "access#2 create started", "other#1 create started"]);
    expect(one.comments).toHaveLength(2);
    expect(other.comments).toHaveLength(1);
  });
});
