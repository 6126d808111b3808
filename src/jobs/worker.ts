/**
 * The worker role: provisioning and revoking (and, with the drift job, reconciling) for as long
 * as the process runs, alongside any number of replicas.
 *
 * Work starts the moment it exists: a merge or a revoke request rings the work channel on commit
 * (LISTEN/NOTIFY), and the worker sleeps exactly until the next start, expiry or retry that the
 * database knows of. node-cron's tick every 30 s is only the safety net for a lost wake-up.
 * Each wake-up runs one cycle: claim what is due (revokes before grants) up to the concurrency
 * limit, then sleep again. Drift reconciliation runs beside it, every RECONCILIATION_INTERVAL.
 */
import type { Knex } from "knex";
import type { AwsDefaults } from "../aws/connections.js";
import { Directory } from "../aws/directory.js";
import { NO_REPORTS, type GrantReporter } from "../grants/reporter.js";
import { nextDueAt } from "../grants/work-queue.js";
import type { Log } from "../logger.js";
import { Metrics } from "../metrics.js";
import { DEFAULT_WORKER_SETTINGS, type IdentityCenterConnector, type JobContext, type WorkerSettings } from "./context.js";
import { OperationPoller } from "./operation-poller.js";
import { DriftReconcileWorker } from "./drift.js";
import { ProvisionGrantWorker } from "./provision.js";
import { RevokeGrantWorker } from "./revoke.js";
import { Scheduler } from "./scheduler.js";
import { WorkerSession } from "./worker-session.js";

export interface WorkerOptions {
  db: Knex;
  log: Log;
  aws: IdentityCenterConnector;
  defaults: AwsDefaults;
  /** JITSUDO_ACCESS_REPOSITORIES: the only repositories jitsudo's own AWS credentials create assignments for. */
  accessRepositories?: readonly string[];
  reporter?: GrantReporter;
  metrics?: Metrics;
  directory?: Directory;
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

export class GrantWorker {
  readonly ctx: JobContext;
  readonly provision: ProvisionGrantWorker;
  readonly revoke: RevokeGrantWorker;
  readonly drift: DriftReconcileWorker;
  private readonly poller: OperationPoller;
  private readonly scheduler: Scheduler;
  private session?: WorkerSession;
  private timer: NodeJS.Timeout | undefined;
  private cycling = false;
  private again = false;
  private stopped = false;
  private cycles = 0;

  private constructor(options: WorkerOptions, session: { workerId: string }) {
    const settings = { ...DEFAULT_WORKER_SETTINGS, ...options.settings };
    this.ctx = {
      db: options.db,
      workerId: session.workerId,
      now: options.now ?? (() => new Date()),
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
      now: () => now().getTime(),
    });
    this.provision = new ProvisionGrantWorker(this.ctx, this.poller);
    this.revoke = new RevokeGrantWorker(this.ctx, this.poller);
    this.drift = new DriftReconcileWorker(this.ctx, options.reconciliationIntervalMs ?? 30_000);
    this.scheduler = new Scheduler(options.log);
  }

  static async start(options: WorkerOptions): Promise<GrantWorker> {
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
    worker.scheduler.add({ name: "grant-worker-safety-net", cron: "*/30 * * * * *", run: async () => worker!.wake() });
    if (options.reconciliationIntervalMs !== undefined) worker.drift.start();
    options.log.info({ worker: session.workerId }, "grant worker started");
    worker.wake();
    return worker;
  }

  get workerId(): string {
    return this.ctx.workerId;
  }

  /** Runs a cycle now (or right after the current one). */
  wake(): void {
    if (this.stopped) return;
    if (this.cycling) {
      this.again = true;
      return;
    }
    void this.cycle();
  }

  /** Completed cycles, for tests that wait for the worker to have looked. */
  get cycleCount(): number {
    return this.cycles;
  }

  private async cycle(): Promise<void> {
    this.cycling = true;
    try {
      do {
        this.again = false;
        const claimedAt = this.ctx.now().getTime();
        // Revokes first: removing access that has ended matters more than granting new access.
        const claimed = (await this.revoke.claimAndStart()) + (await this.provision.claimAndStart());
        if ((await this.sleepUntilDue(claimedAt, claimed > 0)) === "due-now") this.again = true;
        this.cycles += 1;
      } while (this.again && !this.stopped);
    } catch (error) {
      this.ctx.log.error({ err: error }, "worker cycle failed; trying again shortly");
      this.arm(1000);
    } finally {
      this.cycling = false;
    }
  }

  private async sleepUntilDue(claimedAt: number, madeProgress: boolean): Promise<"due-now" | "sleeping"> {
    const due = await nextDueAt(this.ctx.db);
    const wait = due ? due.getTime() - this.ctx.now().getTime() : MAX_SLEEP_MS;
    // Work that fell due while this cycle claimed, or more of what it could claim: take it now.
    if (wait <= 0 && (madeProgress || due!.getTime() > claimedAt)) return "due-now";
    // Future work: wake exactly then. Work already due that this cycle could not take (no room): soon.
    this.arm(wait > 0 ? Math.min(MAX_SLEEP_MS, wait) : MIN_SLEEP_MS);
    return "sleeping";
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, ms);
  }

  /**
   * Graceful stop: no new claims; steps in flight get `graceMs` to finish, then waits on AWS are
   * abandoned (their request ids are recorded, so the next worker polls them), leases are let go
   * with the session, and nothing is left half-written.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scheduler.stop();
    await this.drift.stop();
    this.provision.stop();
    const drained = Promise.all([this.provision.drain(), this.revoke.drain()]);
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
