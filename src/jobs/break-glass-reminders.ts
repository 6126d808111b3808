/**
 * Reminders of break-glass grants no code owner has reviewed, run in every worker cycle: from
 * `review_within` after the access started, then at doubling intervals, until a code owner
 * approves the merged pull request or comments `/jitsudo ack`. Each reminder is claimed once
 * across replicas with its `break_glass_review_due` event (src/grants/break-glass-store.ts), and
 * that event is what the notification channels carry, durably, through the outbox. The comment on
 * the pull request is posted besides, in the background: if GitHub refuses it, the channels still
 * have the reminder and the next one comes at the doubled interval.
 */
import { claimDueReviewReminders, nextReviewReminderAt } from "../grants/break-glass-store.js";
import type { ReviewReminderPoster } from "../grants/reporter.js";
import type { JobContext } from "./context.js";

const CLAIM_LIMIT = 100;

export class BreakGlassReminders {
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly ctx: JobContext,
    private readonly poster: ReviewReminderPoster | undefined,
  ) {}

  async run(): Promise<number> {
    const { ctx } = this;
    const claimed = await claimDueReviewReminders(ctx.db, ctx.now(), CLAIM_LIMIT);
    for (const grant of claimed) {
      ctx.log.warn(
        { grant: grant.id, pr: grant.pr_number, requester: grant.requester, reminder: grant.break_glass_reminders },
        "break-glass access still unreviewed by a code owner",
      );
      if (!this.poster) continue;
      const sent: Promise<void> = this.poster
        .post(grant)
        .catch((error: unknown) => ctx.log.warn({ err: error, grant: grant.id }, "the break-glass reminder comment could not be posted"))
        .finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    }
    return claimed.length;
  }

  nextDueAt(): Promise<Date | undefined> {
    return nextReviewReminderAt(this.ctx.db);
  }

  async drain(): Promise<void> {
    await Promise.all([...this.sending]);
  }
}
