/**
 * The worker role: provisioning and revoking (and, with the drift job, reconciling) for as long
 * as the process runs, alongside any number of replicas.
 *
 * Work starts the moment it exists: a merge or a revoke request rings the work channel on commit
 * (LISTEN/NOTIFY), and the worker sleeps exactly until the next start, expiry or retry that the
 * database knows of. A tick every 30 s is only the safety net for a lost wake-up.
 * Each wake-up runs one cycle: claim what is due (revokes before grants) up to the concurrency
 * limit, then claim the expiry reminders due (src/jobs/expiry-reminders.ts) and the break-glass
 * review reminders (src/jobs/break-glass-reminders.ts), then sleep again until
 * the next start, expiry, retry or reminder. Drift reconciliation runs beside it, every RECONCILIATION_INTERVAL.
 * All three run under one scheduler (src/jobs/scheduler.ts), on the clock the jobs read.
 */
import type { Knex } from "knex";
import type { AwsDefaults } from "../aws/connections.js";
import { Directory } from "../aws/directory.js";
import { NO_REPORTS, type GrantReporter, type ReminderPoster, type ReviewReminderPoster } from "../grants/reporter.js";
import { BreakGlassReminders } from "./break-glass-reminders.js";
import { nextDueAt } from "../grants/work-queue.js";
import type { Log } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { clockReading, systemClock, type Clock } from "./clock.js";
import { DEFAULT_WORKER_SETTINGS, type IdentityCenterConnector, type JobContext, type WorkerSettings } from "./context.js";
import { OperationPoller } from "./operation-poller.js";
import { DriftReconcileWorker, driftJob } from "./drift.js";
import { ExpiryReminders, type ReminderOptions } from "./expiry-reminders.js";
import { ProvisionGrantWorker } from "./provision.js";
import { RevokeGrantWorker } from "./revoke.js";
import { Scheduler, type ScheduledJob } from "./scheduler.js";
import { WorkerSession } from "./worker-session.js";

export interface WorkerOptions {
  db: Knex;
  log: Log;
  aws: IdentityCenterConnector;
  defaults: AwsDefaults;
  /** JITSUDO_ACCESS_REPOSITORIES: the only repositories jitsudo's own AWS credentials create assignments for. */
  accessRepositories?: readonly string[];
  reporter?: GrantReporter;
  /** Where expiry reminders are posted (the PR); unset, a reminder is only its grant event. */
  reminders?: ReminderPoster;
  reminderOptions?: ReminderOptions;
  /** Where break-glass review reminders are posted (the PR); unset, a reminder is only its grant event. */
  reviewReminders?: ReviewReminderPoster;
  metrics?: Metrics;
  directory?: Directory;
  /** The one clock the jobs read and the scheduler times them with. Default: the wall clock. */
  clock?: Clock;
  /** Instead of `clock`: a reading of time (a test's clock, jumped forward) with real timers. */
  now?: () => Date;
  settings?: Partial<WorkerSettings>;
  /** Called when the worker lost its database session and stopped claiming (the process should exit). */
  onLost?: (error?: unknown) => void;
  /** RECONCILIATION_INTERVAL: drift sweeps this often; unset, drift does not run on its own. */
  reconciliationIntervalMs?: number;
}

/** Longest sleep between cycles even when nothing is due: new rows written without a NOTIFY are found. */
const MAX_SLEEP_MS = 60_000;
/** Shortest: work that is due but could not be claimed yet (no room) is retried this soon. */
const MIN_SLEEP_MS = 100;
/** After a failed cycle (the database did not answer), the next one comes this soon. */
const RETRY_AFTER_FAILURE_MS = 1000;
/** The scheduler's names for the worker's cycles and for their safety net. */
const CYCLE = "grant-worker";
const SAFETY_NET = "grant-worker-safety-net";

export class GrantWorker {
  readonly ctx: JobContext;
  readonly provision: ProvisionGrantWorker;
  readonly revoke: RevokeGrantWorker;
  readonly drift: DriftReconcileWorker;
  readonly reminders: ExpiryReminders;
  readonly reviewReminders: BreakGlassReminders;
  private readonly poller: OperationPoller;
  private readonly scheduler: Scheduler;
  private session?: WorkerSession;
  private stopped = false;
  private cycles = 0;

  private constructor(options: WorkerOptions, session: { workerId: string }) {
    const settings = { ...DEFAULT_WORKER_SETTINGS, ...options.settings };
    const clock = options.clock ?? (options.now ? clockReading(options.now) : systemClock);
    this.ctx = {
      db: options.db,
      workerId: session.workerId,
      now: () => clock.now(),
      log: options.log,
      aws: options.aws,
      directory: options.directory ?? new Directory(),
      defaults: options.defaults,
      ...(options.accessRepositories ? { accessRepositories: options.accessRepositories } : {}),
      reporter: options.reporter ?? NO_REPORTS,
      metrics: options.metrics ?? new Metrics(),
      settings,
      wake: () => this.wake(),
    };
    const now = this.ctx.now;
    this.poller = new OperationPoller({
      log: options.log,
      timeoutMs: settings.pollTimeoutMs,
      initialEstimateMs: settings.initialPollMs,
      maxCreatesInFlight: settings.maxCreatesInFlight,
      now: () => now().getTime(),
      onNoLongerRunning: (ic, kind, requestIds) =>
        kind === "create" ? this.provision.createsFinished(ic.instanceArn, requestIds) : undefined,
    });
    this.provision = new ProvisionGrantWorker(this.ctx, this.poller);
    this.revoke = new RevokeGrantWorker(this.ctx, this.poller);
    this.drift = new DriftReconcileWorker(this.ctx, options.reconciliationIntervalMs ?? 30_000);
    this.reminders = new ExpiryReminders(this.ctx, options.reminders, options.reminderOptions);
    this.reviewReminders = new BreakGlassReminders(this.ctx, options.reviewReminders);
    this.scheduler = new Scheduler({ log: options.log, clock });
    // Registered with the worker, so that wake() works from the moment it exists (the work channel may already ring).
    this.scheduler.add({ name: CYCLE, run: () => this.cycle(), retryAfterMs: RETRY_AFTER_FAILURE_MS });
  }

  static async start(options: WorkerOptions): Promise<GrantWorker> {
    // The session's callbacks may fire as soon as it listens, before the worker below exists.
    // eslint-disable-next-line prefer-const
    let worker: GrantWorker | undefined;
    const session = await WorkerSession.open(options.db, {
      onWork: () => {
        worker?.provision.slotFreed();
        worker?.wake();
      },
      onLost: (error) => {
        options.log.error({ err: error }, "the worker lost its database session; it stops claiming work");
        void worker?.stop().finally(() => options.onLost?.(error));
      },
    });
    worker = new GrantWorker(options, session);
    worker.session = session;
    worker.scheduler.add({ name: SAFETY_NET, every: { kind: "aligned", everyMs: 30_000 }, run: () => worker.wake() });
    if (options.reconciliationIntervalMs !== undefined) worker.scheduler.add(driftJob(worker.drift, options.reconciliationIntervalMs));
    options.log.info({ worker: session.workerId }, "grant worker started");
    worker.wake();
    return worker;
  }

  /** For readiness: undefined while it claims work; else why it does not. */
  get unavailable(): string | undefined {
    return this.stopped ? "the grant worker has stopped (its database session was lost, or it is shutting down)" : undefined;
  }

  /** Runs another periodic job under the worker's scheduler (its clock, its shutdown). */
  schedule(job: ScheduledJob): void {
    this.scheduler.add(job);
  }

  get workerId(): string {
    return this.ctx.workerId;
  }

  /** Runs a cycle now (or right after the current one). */
  wake(): void {
    this.scheduler.wake(CYCLE);
  }

  /** Completed cycles, for tests that wait for the worker to have looked. */
  get cycleCount(): number {
    return this.cycles;
  }

  /**
   * One cycle, run by the scheduler (never two at once; a failure is logged and retried in a
   * second): claim what is due, then ask to be woken when the next work is.
   */
  private async cycle(): Promise<void> {
    const claimedAt = this.ctx.now().getTime();
    // Revokes first: removing access that has ended matters more than granting new access.
    const claimed = (await this.revoke.claimAndStart()) + (await this.provision.claimAndStart());
    // Reminders last: a claim is one UPDATE, and their comments go out in the background.
    await this.reminders.run();
    await this.reviewReminders.run();
    // More is due now: the scheduler runs the next cycle right after this one.
    if ((await this.sleepUntilDue(claimedAt, claimed > 0)) === "due-now") this.wake();
    this.cycles += 1;
  }

  private async sleepUntilDue(claimedAt: number, madeProgress: boolean): Promise<"due-now" | "sleeping"> {
    const due = earliest(earliest(await nextDueAt(this.ctx.db), await this.reminders.nextDueAt()), await this.reviewReminders.nextDueAt());
    const now = this.ctx.now().getTime();
    const wait = due ? due.getTime() - now : MAX_SLEEP_MS;
    // Work that fell due while this cycle claimed, or more of what it could claim: take it now.
    if (wait <= 0 && (madeProgress || due!.getTime() > claimedAt)) return "due-now";
    // Future work: wake exactly then. Work already due that this cycle could not take (no room): soon.
    this.scheduler.runAt(CYCLE, new Date(now + (wait > 0 ? Math.min(MAX_SLEEP_MS, wait) : MIN_SLEEP_MS)));
    return "sleeping";
  }

  /**
   * Graceful stop: no new claims; steps in flight get `graceMs` to finish, then waits on AWS are
   * abandoned (their request ids are recorded, so the next worker polls them), leases are let go
   * with the session, and nothing is left half-written.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The cycle and the drift sweep in flight end first (a sweep stops between two looks).
    await this.scheduler.stop();
    this.provision.stop();
    const drained = Promise.all([this.provision.drain(), this.revoke.drain(), this.reminders.drain(), this.reviewReminders.drain()]);
    let graceTimer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceTimer);
    this.poller.stop();
    await drained;
    // Comments queued behind GitHub's pacing are not worth minutes of shutdown: the next change rewrites them.
    await this.ctx.reporter.flush(graceMs);
    await this.session?.close();
    this.ctx.log.info({ worker: this.workerId }, "grant worker stopped");
  }
}

function earliest(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a || !b) return a ?? b;
  return a <= b ? a : b;
}
