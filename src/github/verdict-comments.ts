/**
 * The comment after a merge, sent after its verdict is recorded and recorded as sent. A merge whose
 * comment is still owed a few minutes later (the replica died with it queued behind GitHub's
 * pacing, or GitHub refused it) gets it from `resendOwedVerdictComments`, run by one replica on a
 * schedule. Merges that recorded grants are left to the grant reports, which rewrite the same
 * sticky comment from the database at every change: a late verdict comment would overwrite a newer report.
 */
import type { Knex } from "knex";
import type { Probot } from "probot";
import { markVerdictCommentSent, owedVerdictComments, type VerdictKey } from "../grants/merge-records.js";
import type { Log } from "../observability/logger.js";
import type { BackgroundWork } from "./background-work.js";
import type { GitHubGateway } from "./gateway.js";
import { installationGateways } from "./installation-gateway.js";
import { upsertStickyComment } from "./sticky-comment.js";

/** Writes the verdict comment and records that the PR has it. */
export async function sendVerdictComment(db: Knex, gateway: GitHubGateway, key: VerdictKey, body: string): Promise<void> {
  await upsertStickyComment(gateway, key.prNumber, body);
  await markVerdictCommentSent(db, key);
}

/**
 * Verdict comments a replica keeps queued in memory behind GitHub's write pacing (a second apart
 * per installation): each holds its installation's client and its text until sent. Beyond this,
 * a comment waits in the database, already recorded as owed, for the resend job: under a sustained
 * stream of merges the backlog grows there, not in the heap.
 */
export const MAX_QUEUED_VERDICT_COMMENTS = 20;

/** Sends a recorded verdict's comment in the background, or leaves it owed when this replica's queue is full. */
export function queueVerdictComment(
  background: BackgroundWork,
  log: Log,
  context: { pr: number; merge: string },
  send: () => Promise<void>,
): "queued" | "left-owed" {
  if (background.size >= MAX_QUEUED_VERDICT_COMMENTS) {
    log.info(
      context,
      "verdict comment left owed for the resend job: this replica's comments already queued behind GitHub's pacing go first",
    );
    return "left-owed";
  }
  background.run("the merge verdict comment", context, send);
  return "queued";
}

export interface ResendOptions {
  db: Knex;
  log: Log;
  /** A comment is owed only once it has been this long in coming (default 2 minutes: the background send had its chance). */
  graceMs?: number;
  /** Older verdicts are let go (default a day): a PR closed long ago gains little from a late comment. */
  maxAgeMs?: number;
}

/** Sends the verdict comments still owed; one failure does not stop the others. */
export async function resendOwedVerdictComments(probot: Probot, options: ResendOptions): Promise<{ owed: number; sent: number }> {
  const { db, log } = options;
  const rows = await owedVerdictComments(db, options.graceMs ?? 120_000, options.maxAgeMs ?? 86_400_000);
  const gatewayFor = installationGateways(probot);
  let sent = 0;
  for (const owed of rows) {
    const key = { tenant: owed.tenant, repositoryId: owed.repository_id, prNumber: owed.pr_number, mergeCommitSha: owed.merge_commit_sha };
    try {
      const gateway = await gatewayFor(owed.tenant, {
        id: owed.repository_id === null ? null : String(owed.repository_id),
        fullName: owed.repo,
      });
      await sendVerdictComment(db, gateway, key, owed.comment_body);
      sent += 1;
    } catch (error) {
      log.warn(
        { err: error, repo: owed.repo, pr: owed.pr_number, merge: owed.merge_commit_sha },
        "the merge verdict comment is still owed; trying again next time",
      );
    }
  }
  if (rows.length > 0) log.info({ owed: rows.length, sent }, "verdict comments sent again");
  return { owed: rows.length, sent };
}
