/**
 * Waits for CreateAccountAssignment / DeleteAccountAssignment operations to finish, spending as
 * few of the instance's 20 requests per second as it can.
 *
 * Each operation is first looked at when operations of its instance and kind are known to be
 * done: the shortest time recently seen to be enough. Looks are timed from when the read left,
 * after its wait for a rate-limit slot, so neither queueing nor round trips bend the estimate.
 * Some operations probe earlier, halfway between the longest time recently seen to be too short
 * and that bound (half of them while the two are far apart, one in ten once close), so a poor
 * first guess is shed within a few operations and the bound stays tight. A probe is read alone; one
 * that finds the operation running looks again at the bound; an operation still running past it is
 * looked at again soon, then with a growing delay.
 *
 * Operations of one instance come due in waves (the creates a finished wave freed start together,
 * a few milliseconds apart). A round is held, from its first due operation, for those due within
 * 15% of the bound, then reads them all: finished together, their slots free together and the next
 * wave starts together. (Reading the wave at its first due operation, as this did before, found the
 * rest running: a call for nothing, and one slot freed early that split the next wave in two.
 * 1,000 grants: 1.55 calls a grant before, 1.26 after, at the same 93% of AWS's ceiling.)
 *
 * Two list calls answer for a round: ListAccountAssignment{Creation,Deletion}Status
 * filtered IN_PROGRESS tells which finished, then the same list filtered FAILED (read after it,
 * so an operation that finished before the first read is in it if it failed) tells which of those
 * failed. Only failed operations are described, for AWS's reason. Operations of other tools in the
 * lists are simply not ours; a FAILED list longer than a few pages leaves the rest to be described.
 */
import { classifyAwsError, describeAwsError, rawAwsError } from "../aws/errors.js";
import type { IdentityCenter, OperationKind, OperationStatus } from "../aws/identity-center.js";
import type { Log } from "../observability/logger.js";

export type OperationOutcome =
  { kind: "finished"; status: OperationStatus } | { kind: "timeout" } | { kind: "unknown-request"; error: string } | { kind: "stopped" };

export interface PollerOptions {
  log: Log;
  /** Give up waiting on an operation after this long (AWS documents no bound; tools wait 2-10 minutes). */
  timeoutMs: number;
  /** Starting guess of an operation's duration, before any has been seen. */
  initialEstimateMs?: number;
  /** Due operations of one instance at or above which a list call replaces individual reads. */
  batchThreshold?: number;
  /** Creates AWS lets be in flight on an instance at once (10): with that many waited on, rounds are held longer. */
  maxCreatesInFlight?: number;
  random?: () => number;
  now?: () => number;
  /**
   * Told as soon as a status list shows operations of a round are no longer in progress, before
   * the FAILED list says how each ended: AWS's cap counts only operations in progress, so their
   * create slots are free now, one round trip and one activation before their outcomes are known.
   * A promise returned is waited for (at most HANDOFF_MAX_MS) before the outcomes are read: what the
   * freed slots start goes first.
   */
  onNoLongerRunning?: (ic: IdentityCenter, kind: OperationKind, requestIds: string[]) => void | Promise<void>;
}

interface Tracked {
  ic: IdentityCenter;
  kind: OperationKind;
  requestId: string;
  startedAt: number;
  nextPollAt: number;
  polls: number;
  /** Its next look is a probe: it is read alone, and does not pull the operations started with it into an early round. */
  probe: boolean;
  resolve(outcome: OperationOutcome): void;
}

/** Looks at an operation still running past the known bound: soon, then backing off. */
const FOLLOW_UP_MS = [50, 100, 200, 400, 800, 1600, 3200, 5000];
/**
 * ...but never more than this share of the time it has run between two looks: before any
 * operation was seen to finish, doubling steps found a 2 s operation at 2.55 s (1.75 s still
 * running), and the first waves of every start kept their slots idle a quarter of the time.
 */
const FOLLOW_UP_FRACTION = 0.1;
/**
 * Of the expected duration, how long a round waits, after its first operation is due, for others
 * of the instance that come due: they are read together then, all finished.
 */
const HOLD_FRACTION = 0.15;
/**
 * The hold while an instance has as many operations of a kind in flight as AWS allows (every
 * slot taken, grants waiting for one): a wave split in two (by an early probe, a late create)
 * stays split, each half paying its own pair of list calls every round, unless a round waits for
 * the other half. Waiting costs the earlier half its idle time once; merged, the halves share
 * their reads from then on. Below the cap a round is not held this long: nobody waits for the
 * slots, and the requester waits for the answer.
 */
const SATURATED_HOLD_FRACTION = 0.5;
const groupKey = (entry: Pick<Tracked, "ic" | "kind">) => `${entry.ic.instanceArn}|${entry.kind}`;

/**
 * The longest the outcomes of a round wait for `onNoLongerRunning` (the next creates leaving):
 * normally 10 to 40 ms; a slow database must not hold up activations for longer than this.
 */
const HANDOFF_MAX_MS = 250;

/** Pages of FAILED operations read to classify finished ones; beyond them, each is described. */
const FAILED_PAGES = 5;
/** Recent operations whose durations bound the estimate. */
const WINDOW = 50;

/** Recent bounds on how long operations of one instance and kind take. */
class DurationEstimate {
  private readonly enough: number[] = [];
  private readonly tooShort: number[] = [];

  constructor(private readonly initialMs: number) {}

  /** The shortest time recently seen to be enough, if any. */
  upper(): number | undefined {
    return this.enough.length ? Math.min(...this.enough) : undefined;
  }

  /** When to look first, and whether that look is a probe (earlier than the known bound, on purpose). */
  firstPollAfter(random: () => number): { afterMs: number; probe: boolean } {
    const upper = this.upper();
    if (upper === undefined) return { afterMs: this.initialMs, probe: false };
    const lower = Math.min(upper, this.tooShort.length ? Math.max(...this.tooShort) : 0);
    const gap = upper - lower;
    if (gap > 10 && random() < (gap > upper / 4 ? 0.5 : 0.1)) return { afterMs: (lower + upper) / 2, probe: true };
    return { afterMs: upper, probe: false };
  }

  sawDone(afterMs: number): void {
    push(this.enough, afterMs);
  }

  sawRunning(afterMs: number): void {
    push(this.tooShort, afterMs);
  }
}

function push(window: number[], value: number): void {
  window.push(value);
  if (window.length > WINDOW) window.shift();
}

export class OperationPoller {
  private readonly tracked = new Set<Tracked>();
  private readonly estimates = new Map<string, DurationEstimate>();
  /** Instance and kind → when its held round is read (see pollDue). */
  private readonly heldUntil = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: PollerOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Resolves when the operation finished, the timeout passed, or the poller stopped. */
  wait(ic: IdentityCenter, kind: OperationKind, requestId: string, startedAt: number): Promise<OperationOutcome> {
    if (this.stopped) return Promise.resolve({ kind: "stopped" });
    return new Promise((resolve) => {
      const entry: Tracked = { ic, kind, requestId, startedAt, nextPollAt: 0, polls: 0, probe: false, resolve };
      const first = this.estimate(entry).firstPollAfter(this.random);
      entry.nextPollAt = startedAt + first.afterMs;
      entry.probe = first.probe;
      this.tracked.add(entry);
      this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const entry of this.tracked) entry.resolve({ kind: "stopped" });
    this.tracked.clear();
  }

  private estimate(entry: Pick<Tracked, "ic" | "kind">): DurationEstimate {
    const key = `${entry.ic.instanceArn}|${entry.kind}`;
    let estimate = this.estimates.get(key);
    if (!estimate) {
      estimate = new DurationEstimate(this.options.initialEstimateMs ?? 1000);
      this.estimates.set(key, estimate);
    }
    return estimate;
  }

  private schedule(): void {
    if (this.stopped || this.tracked.size === 0) return;
    let next = Infinity;
    for (const entry of this.tracked) next = Math.min(next, Math.max(entry.nextPollAt, this.heldUntil.get(groupKey(entry)) ?? -Infinity));
    if (next === Infinity || (this.timer && next >= this.timerAt)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pollDue();
      },
      Math.max(0, next - this.now()),
    );
  }

  /**
   * Starts reading every due probe and every round whose hold is over (in flight until answered),
   * and sleeps until the next is due. A round's list call answers for every operation in it at no
   * extra cost, so waves are read whole, round after round.
   */
  private pollDue(): void {
    const now = this.now();
    this.heldUntil.clear();
    const due = new Set<string>();
    const probes: Tracked[] = [];
    for (const entry of this.tracked) {
      if (entry.nextPollAt > now) continue;
      if (entry.probe) probes.push(entry);
      else due.add(groupKey(entry));
    }
    // A probe looks early on purpose: read alone, it must not drag the rest of its wave, which is
    // not done yet, into a round that finds most of it still running.
    for (const entry of probes) {
      entry.nextPollAt = Infinity;
      entry.probe = false;
      void this.describe(entry).finally(() => this.schedule());
    }
    // Each instance's round waits for what comes due shortly after its first due operation (which
    // started a moment before the rest of its wave): read then, the whole wave is finished, and the
    // slots it frees together start the next wave together. Reading them earlier would find them
    // running and cost a call for nothing.
    const waiting = new Map<string, Tracked[]>();
    for (const entry of this.tracked) {
      if (entry.nextPollAt === Infinity || entry.probe || !due.has(groupKey(entry))) continue;
      waiting.set(groupKey(entry), [...(waiting.get(groupKey(entry)) ?? []), entry]);
    }
    const groups: Tracked[][] = [];
    for (const entries of waiting.values()) {
      const first = Math.min(...entries.map((entry) => entry.nextPollAt));
      const saturated = entries[0]!.kind === "create" && entries.length >= (this.options.maxCreatesInFlight ?? Infinity);
      const hold =
        (this.estimate(entries[0]!).upper() ?? this.options.initialEstimateMs ?? 1000) *
        (saturated ? SATURATED_HOLD_FRACTION : HOLD_FRACTION);
      const readAt = Math.max(...entries.map((entry) => entry.nextPollAt).filter((at) => at <= first + hold));
      if (readAt > now) {
        this.heldUntil.set(groupKey(entries[0]!), readAt);
        continue;
      }
      const group = entries.filter((entry) => entry.nextPollAt <= now);
      for (const entry of group) entry.nextPollAt = Infinity;
      groups.push(group);
    }
    for (const group of groups) void this.pollGroup(group).finally(() => this.schedule());
    this.schedule();
  }

  private async pollGroup(due: Tracked[]): Promise<void> {
    let toDescribe = due;
    if (due.length >= (this.options.batchThreshold ?? 2)) {
      const { ic, kind } = due[0]!;
      const asked = this.now();
      try {
        const running = await ic.operationsWithStatus(kind, "IN_PROGRESS");
        const finished = due.filter((entry) => !running.ids.has(entry.requestId));
        const stillRunning = due.filter((entry) => running.ids.has(entry.requestId));
        for (const entry of stillRunning) this.stillRunning(entry, asked);
        // Those still running are read again together, when the last of them is due.
        const together = Math.max(...stillRunning.map((entry) => entry.nextPollAt));
        for (const entry of stillRunning) entry.nextPollAt = together;
        toDescribe = finished;
        const handoff =
          finished.length > 0
            ? this.options.onNoLongerRunning?.(
                ic,
                kind,
                finished.map((entry) => entry.requestId),
              )
            : undefined;
        if (handoff) await settledWithin(handoff, HANDOFF_MAX_MS);
        if (finished.length >= 2) {
          const failed = await ic.operationsWithStatus(kind, "FAILED", FAILED_PAGES);
          toDescribe = finished.filter((entry) => failed.ids.has(entry.requestId) || !failed.complete);
          for (const entry of finished) {
            if (toDescribe.includes(entry)) continue;
            this.estimate(entry).sawDone(asked - entry.startedAt);
            this.finish(entry, { kind: "finished", status: { requestId: entry.requestId, status: "SUCCEEDED" } });
          }
        }
      } catch (error) {
        this.options.log.warn({ err: rawAwsError(error) }, "listing operations by status failed; reading each one");
        toDescribe = due.filter((entry) => this.tracked.has(entry) && entry.nextPollAt === Infinity);
      }
    }
    await Promise.all(toDescribe.map((entry) => this.describe(entry)));
  }

  private async describe(entry: Tracked): Promise<void> {
    const asked = this.now();
    try {
      const { queuedMs = 0, ...status } = await entry.ic.describeOperation(entry.kind, entry.requestId);
      // Timed from when the read left (after its rate-limit wait), not from the answer: neither
      // queueing nor the round trip may make operations look slower or faster than they are.
      const looked = asked + queuedMs;
      if (status.status === "IN_PROGRESS") return this.stillRunning(entry, looked);
      this.estimate(entry).sawDone(looked - entry.startedAt);
      this.finish(entry, { kind: "finished", status });
    } catch (error) {
      if (classifyAwsError(error) === "not-found") return this.finish(entry, { kind: "unknown-request", error: describeAwsError(error) });
      // A failed status read changes nothing in AWS: read again later, until the timeout.
      this.options.log.warn({ err: rawAwsError(error), requestId: entry.requestId }, "status read failed; retrying");
      this.stillRunning(entry);
    }
  }

  private stillRunning(entry: Tracked, askedAt?: number): void {
    const estimate = this.estimate(entry);
    if (askedAt !== undefined) estimate.sawRunning(askedAt - entry.startedAt);
    const elapsed = this.now() - entry.startedAt;
    if (elapsed >= this.options.timeoutMs) return this.finish(entry, { kind: "timeout" });
    // A probe that came early looks again at the bound; past the bound, soon and then less often.
    const upper = estimate.upper();
    const backOff = Math.min(
      FOLLOW_UP_MS[Math.min(entry.polls, FOLLOW_UP_MS.length - 1)]!,
      Math.max(FOLLOW_UP_MS[0]!, elapsed * FOLLOW_UP_FRACTION),
    );
    const delay = upper !== undefined && upper > elapsed + 20 ? upper - elapsed : backOff;
    entry.polls += 1;
    entry.nextPollAt = Math.min(this.now() + delay, entry.startedAt + this.options.timeoutMs);
  }

  private finish(entry: Tracked, outcome: OperationOutcome): void {
    this.tracked.delete(entry);
    entry.resolve(outcome);
  }
}

/** Waits for `promise` to settle, or `ms` to pass, whichever comes first; never rejects. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
