/**
 * GitHub takes an installation's writes about a second apart; grants can change faster than that
 * (a stream of merges, each going provisioning → active → revoking → revoked). The reporter keeps a
 * small entry per pull request whose comment is behind, sends a few at a time, and sends each pull
 * request's latest state once, instead of queueing every intermediate comment in memory (the soak
 * benchmark found 877 comments queued in one replica after four minutes, its live heap doubling).
 */
import { describe, expect, it } from "vitest";
import type { GitHubGateway } from "../../src/github/gateway.js";
import type { IssueComment } from "../../src/github/types.js";
import { BackgroundWork } from "../../src/github/background-work.js";
import { PullRequestReporter } from "../../src/github/grant-comments.js";
import { MAX_QUEUED_VERDICT_COMMENTS, queueVerdictComment } from "../../src/github/verdict-comments.js";
import { grantRow } from "../../bench/support/grants.js";
import { freshDatabase } from "../support/db.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** A GitHub whose comment writes take `writeMs` each: what a paced client looks like from outside. */
function slowGitHub(writeMs: number) {
  const comments = new Map<number, IssueComment[]>();
  const writes: { pr: number; body: string }[] = [];
  let inFlight = 0;
  let peakInFlight = 0;
  const write = async (pr: number, body: string) => {
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    await new Promise((resolve) => setTimeout(resolve, writeMs));
    inFlight -= 1;
    writes.push({ pr, body });
  };
  const gateway = (pr?: number) =>
    ({
      owner: "acme",
      repo: "access",
      botLogin: () => Promise.resolve("jitsudo[bot]"),
      listIssueComments: (issue: number) => Promise.resolve(comments.get(issue) ?? []),
      createIssueComment: async (issue: number, body: string) => {
        await write(issue, body);
        const comment = { id: issue * 1000, body, user: { login: "jitsudo[bot]" } } as unknown as IssueComment;
        comments.set(issue, [comment]);
        return comment;
      },
      updateIssueComment: async (id: number, body: string) => {
        const issue = pr ?? Math.floor(id / 1000);
        await write(issue, body);
        comments.set(issue, [{ id, body, user: { login: "jitsudo[bot]" } } as unknown as IssueComment]);
      },
    }) as unknown as GitHubGateway;
  return { gateway, writes, peak: () => peakInFlight };
}

describe("pull request reports under a stream of changes", () => {
  it("sends a few at a time and each pull request's latest state once, however often it changed while waiting", async () => {
    const { db } = await freshDatabase();
    const now = Date.now();
    const rows = Array.from({ length: 12 }, (_, index) =>
      grantRow({
        index,
        principal: "alice@example.com",
        principalId: "u-1",
        accountId: `1${String(index).padStart(11, "0")}`,
        permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
        status: "active",
        startsAt: new Date(now - 60_000),
        expiresAt: new Date(now + 3_600_000),
      }),
    );
    await db("grants").insert(rows);
    const github = slowGitHub(40);
    const reporter = new PullRequestReporter({ db, gatewayFor: () => Promise.resolve(github.gateway()), log: silent, coalesceMs: 5 });
    const grants = await db("grants").select("*");
    // Every pull request changes five times, faster than GitHub takes the writes.
    for (let round = 0; round < 5; round++) {
      for (const grant of grants) reporter.changed(grant);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await db("grants").update({ status: "revoked", ended_at: new Date() });
    for (const grant of grants) reporter.changed(grant);
    await reporter.flush();

    expect(github.peak()).toBeLessThanOrEqual(4);
    const perPr = new Map<number, string[]>();
    for (const write of github.writes) perPr.set(write.pr, [...(perPr.get(write.pr) ?? []), write.body]);
    expect([...perPr.keys()].sort((a, b) => a - b)).toEqual(rows.map((row) => row.pr_number));
    for (const bodies of perPr.values()) {
      // At most: the report that was on its way when the changes came, and one with the latest state.
      expect(bodies.length).toBeLessThanOrEqual(3);
      expect(bodies.at(-1)).toContain("access ended");
    }
    // Without coalescing while waiting, every change would have been a write: 12 × 6.
    expect(github.writes.length).toBeLessThan(12 * 3);
  });
});

describe("verdict comments under a stream of merges", () => {
  it("keep at most a bounded number queued in memory; the rest stay owed for the resend job", async () => {
    const background = new BackgroundWork(silent);
    const releases: (() => void)[] = [];
    const sent: number[] = [];
    const queue = (pr: number) =>
      queueVerdictComment(background, silent, { pr, merge: "m" }, async () => {
        await new Promise<void>((resolve) => releases.push(resolve));
        sent.push(pr);
      });
    const answers = Array.from({ length: MAX_QUEUED_VERDICT_COMMENTS + 5 }, (_, pr) => queue(pr));
    expect(answers.filter((answer) => answer === "queued")).toHaveLength(MAX_QUEUED_VERDICT_COMMENTS);
    expect(answers.slice(MAX_QUEUED_VERDICT_COMMENTS)).toEqual(Array(5).fill("left-owed"));
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const release of releases.splice(0)) release();
    await background.flush();
    expect(sent).toHaveLength(MAX_QUEUED_VERDICT_COMMENTS);
    // Room again: the next merge's comment is sent at once.
    expect(queue(99)).toBe("queued");
    await new Promise((resolve) => setTimeout(resolve, 10));
    releases.splice(0).forEach((release) => release());
    await background.flush();
    expect(sent.at(-1)).toBe(99);
  });
});
