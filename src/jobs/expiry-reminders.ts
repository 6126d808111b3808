/**
 * The expiry-reminder job, run in every worker cycle (src/jobs/worker.ts), which also sleeps
 * exactly until the next reminder is due: claims the reminders whose time has come (once across
 * replicas, with their `expiry_reminder` event; src/grants/reminder-store.ts), then posts the PR
 * comments still owed, in the background, so GitHub never holds up provisioning or revoking.
 *
 * A comment GitHub refused (or a replica that died with it) is taken again once its lease lapses:
 * `retryMs` after a failure, `leaseMs` after a send that never reported back. It is not posted
 * twice: the lease keeps other replicas off while one sends, and the poster looks for its own
 * earlier comment before it posts. A comment still owed when its grant ends is let go.
 */
import type { GrantRow } from "../grants/grant-repository.js";
import {
  claimDueReminders,
  markReminderCommentSent,
  nextReminderAt,
  retryReminderComment,
  takeOwedReminderComments,
} from "../grants/reminder-store.js";
import type { ReminderPoster } from "../grants/reporter.js";
import type { JobContext } from "./context.js";

export interface ReminderOptions {
  /** How long one sender has a comment before another may take it (default 2 minutes). */
  leaseMs?: number;
  /** After a failed post, try again this much later (default 30 s). */
  retryMs?: number;
}

/** Reminders claimed per cycle; more are taken by the next cycle, which comes at once. */
const CLAIM_LIMIT = 200;
/** Comments started per cycle: GitHub takes an installation's writes about a second apart. */
const SEND_LIMIT = 20;

export class ExpiryReminders {
  private readonly sending = new Set<Promise<void>>();
  private readonly leaseMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly ctx: JobContext,
    private readonly poster: ReminderPoster | undefined,
    options: ReminderOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 120_000;
    this.retryMs = options.retryMs ?? 30_000;
  }

  /** Claims what is due and starts the comments owed; returns how many reminders were claimed. */
  async run(): Promise<number> {
    const { ctx } = this;
    const now = ctx.now();
    const claimed = await claimDueReminders(ctx.db, now, CLAIM_LIMIT);
    for (const grant of claimed)
      ctx.log.info({ grant: grant.id, pr: grant.pr_number, expiresAt: grant.expires_at.toISOString() }, "expiry reminder due");
    // Without GitHub (no app configured) the event is the reminder: the channels read it.
    if (this.poster && this.sending.size < SEND_LIMIT) {
      for (const grant of await takeOwedReminderComments(ctx.db, now, this.leaseMs, SEND_LIMIT - this.sending.size)) this.send(grant);
    }
    return claimed.length;
  }

  /** When the next reminder falls due, if any. */
  nextDueAt(): Promise<Date | undefined> {
    return nextReminderAt(this.ctx.db, this.ctx.now());
  }

  /** Waits for the comments being posted (shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.all([...this.sending]);
  }

  private send(grant: GrantRow): void {
    const { ctx } = this;
    const run = this.poster!.post(grant)
      .then(() => markReminderCommentSent(ctx.db, grant.id))
      .catch(async (error: unknown) => {
        ctx.log.warn({ err: error, grant: grant.id, pr: grant.pr_number }, "the expiry reminder comment could not be posted; trying again");
        await retryReminderComment(ctx.db, grant.id, ctx.now(), this.leaseMs, this.retryMs);
      })
      .catch((error: unknown) => ctx.log.error({ err: error, grant: grant.id }, "could not record an expiry reminder comment's outcome"))
      .finally(() => this.sending.delete(run));
    this.sending.add(run);
  }
}
