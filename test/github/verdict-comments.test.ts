/**
 * A merge's comment is owed until GitHub has it: a refused merge whose comment was lost (the
 * replica died with it queued behind GitHub's pacing) gets it from the resend job, once.
 */
import { describe, expect, it } from "vitest";
import { STICKY_MARKER } from "../../src/github/sticky-comment.js";
import { resendOwedVerdictComments } from "../../src/github/verdict-comments.js";
import { createLogger } from "../../src/observability/logger.js";
import { useHarnessWithDatabase } from "../support/app-harness.js";
import { seed } from "../support/merge-world.js";

describe("verdict comments", () => {
  const env = useHarnessWithDatabase();

  const comments = (number: number) => env.harness.github.repo.conversation.commentsOn(number);
  const resend = () => resendOwedVerdictComments(env.harness.probot, { db: env.db, log: createLogger({ level: "silent" }), graceMs: 0 });
  const loseTheComment = async (number: number) => {
    for (const comment of comments(number)) env.harness.github.repo.conversation.deleteComment(comment.id);
    await env.db("merge_verdicts").where({ pr_number: number }).update({ comment_sent_at: null });
  };

  it("are recorded as sent once GitHub has them", async () => {
    const world = seed(env.harness.github, { reviews: [] });
    expect(await env.harness.deliver("pull_request", world.closed)).toBe(200);
    const [verdict] = await env.db("merge_verdicts").where({ pr_number: world.number });
    expect(verdict.verdict).toBe("rejected");
    expect(verdict.comment_sent_at).not.toBeNull();
    expect(comments(world.number).map((comment) => comment.body)).toEqual([`${STICKY_MARKER}\n${verdict.comment_body}`]);
    expect(await resend()).toEqual({ owed: 0, sent: 0 });
  });

  it("reach a refused merge's PR again when the first send was lost, once", async () => {
    const world = seed(env.harness.github, { reviews: [] });
    await env.harness.deliver("pull_request", world.closed);
    const body = comments(world.number)[0]!.body;
    await loseTheComment(world.number);
    expect(comments(world.number)).toEqual([]);

    expect(await resend()).toEqual({ owed: 1, sent: 1 });
    expect(comments(world.number).map((comment) => comment.body)).toEqual([body]);
    expect(body).toContain("merge not approved, nothing was granted");
    expect(await resend()).toEqual({ owed: 0, sent: 0 });
    expect(comments(world.number)).toHaveLength(1);
  });

  it("leave a merge that recorded grants to its grant reports, which are newer", async () => {
    const world = seed(env.harness.github);
    await env.harness.deliver("pull_request", world.closed);
    expect(await env.db("grants").where({ pr_number: world.number })).toHaveLength(1);
    await loseTheComment(world.number);
    expect(await resend()).toEqual({ owed: 0, sent: 0 });
  });
});
