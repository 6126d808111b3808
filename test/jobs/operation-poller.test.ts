import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { IdentityCenter, OperationKind, OperationStatus } from "../../src/aws/identity-center.js";
import { OperationPoller } from "../../src/jobs/operation-poller.js";

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Operations that finish a fixed time after they start; every status read is counted. */
function operations(durationMs: number, outcome: OperationStatus["status"] = "SUCCEEDED") {
  const started = new Map<string, number>();
  const counts = { describe: 0, list: 0 };
  const status = (id: string): OperationStatus => ({
    requestId: id,
    status: Date.now() - started.get(id)! >= durationMs ? outcome : "IN_PROGRESS",
  });
  const ic = {
    instanceArn: "arn:aws:sso:::instance/ssoins-1",
    describeOperation: (_kind: OperationKind, id: string) => (counts.describe++, Promise.resolve(status(id))),
    operationsWithStatus: (_kind: OperationKind, wanted: string) => (
      counts.list++,
      Promise.resolve({ ids: new Set([...started.keys()].filter((id) => status(id).status === wanted)), complete: true })
    ),
  } as unknown as IdentityCenter;
  const start = (id: string) => {
    started.set(id, Date.now());
    return Date.now();
  };
  return { ic, counts, start };
}

/**
 * Runs the fake clock until `promise` settles. The poller sleeps on timers and every status read
 * here answers at once, so the waves' timing is exact however busy the machine is (with real
 * timers, a 30 ms pause that took 60 ms on a loaded CI machine split a wave in two).
 */
async function settled<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let step = 0; !done; step++) {
    if (step > 10_000) throw new Error("the poller never settled");
    await vi.advanceTimersToNextTimerAsync();
  }
  return promise;
}

describe("the operation poller", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("learns how long operations take, so most cost a single status read", async () => {
    const { ic, counts, start } = operations(60);
    const poller = new OperationPoller({ log: silent, timeoutMs: 10_000, initialEstimateMs: 300 });
    for (let index = 0; index < 30; index++) {
      const outcome = await settled(poller.wait(ic, "create", `op-${index}`, start(`op-${index}`)));
      expect(outcome).toEqual({ kind: "finished", status: { requestId: `op-${index}`, status: "SUCCEEDED" } });
    }
    expect(counts.describe / 30).toBeLessThanOrEqual(1.6);
  });

  it("learns the outcome of many operations due together from two list calls, describing only those that failed", async () => {
    const { ic, counts, start } = operations(50);
    const poller = new OperationPoller({ log: silent, timeoutMs: 10_000, initialEstimateMs: 100 });
    const at = Date.now();
    const outcomes = await settled(
      Promise.all(Array.from({ length: 8 }, (_, index) => (start(`op-${index}`), poller.wait(ic, "create", `op-${index}`, at)))),
    );
    expect(outcomes.every((outcome) => outcome.kind === "finished" && outcome.status.status === "SUCCEEDED")).toBe(true);
    expect(counts).toEqual({ list: 2, describe: 0 });
  });

  it("holds a round for the rest of a wave coming due just after its first, and reads the wave in one round", async () => {
    const { ic, counts, start } = operations(300);
    const poller = new OperationPoller({ log: silent, timeoutMs: 10_000, initialEstimateMs: 300, random: () => 0.99 });
    // Teach the poller the bound (300 ms) with one operation.
    await settled(poller.wait(ic, "create", "first", start("first")));
    const before = { ...counts };
    // A wave as the create slots start it: one operation, then nine 30 ms later (within 15% of the bound).
    const waits = [poller.wait(ic, "create", "w-0", start("w-0"))];
    await vi.advanceTimersByTimeAsync(30);
    for (let index = 1; index < 10; index++) waits.push(poller.wait(ic, "create", `w-${index}`, start(`w-${index}`)));
    const outcomes = await settled(Promise.all(waits));
    expect(outcomes.every((outcome) => outcome.kind === "finished" && outcome.status.status === "SUCCEEDED")).toBe(true);
    // One round for all ten (IN_PROGRESS, then FAILED): read at its first operation's time, the
    // nine would still be running, and cost a round of their own.
    expect({ list: counts.list - before.list, describe: counts.describe - before.describe }).toEqual({ list: 2, describe: 0 });
  });

  it("at the cap of creates in flight, holds a round for the other half of a split wave, which then shares its reads", async () => {
    // A wave split in two halves 100 ms apart: more than the usual hold (15% of the 300 ms bound),
    // less than the hold while every slot is taken (half of it).
    const splitWave = async (maxCreatesInFlight?: number) => {
      const { ic, counts, start } = operations(300);
      const poller = new OperationPoller({
        log: silent,
        timeoutMs: 10_000,
        initialEstimateMs: 300,
        random: () => 0.99,
        ...(maxCreatesInFlight ? { maxCreatesInFlight } : {}),
      });
      await settled(poller.wait(ic, "create", "first", start("first")));
      const before = counts.list;
      const waits = [0, 1, 2].map((index) => poller.wait(ic, "create", `a-${index}`, start(`a-${index}`)));
      await vi.advanceTimersByTimeAsync(100);
      for (let index = 0; index < 7; index++) waits.push(poller.wait(ic, "create", `b-${index}`, start(`b-${index}`)));
      const outcomes = await settled(Promise.all(waits));
      expect(outcomes.every((outcome) => outcome.kind === "finished" && outcome.status.status === "SUCCEEDED")).toBe(true);
      return counts.list - before;
    };
    expect(await splitWave()).toBe(4); // two rounds: IN_PROGRESS and FAILED for each half
    expect(await splitWave(10)).toBe(2); // one round for all ten
  });

  it("says which operations a status list showed finished before it reads how they ended", async () => {
    const { ic, start } = operations(50, "FAILED");
    const told: string[][] = [];
    const poller = new OperationPoller({
      log: silent,
      timeoutMs: 10_000,
      initialEstimateMs: 100,
      onNoLongerRunning: (_ic, kind, ids) => void told.push([kind, ...ids.sort()]),
    });
    const at = Date.now();
    const waits = ["op-0", "op-1", "op-2"].map((id) => (start(id), poller.wait(ic, "create", id, at)));
    const first = await settled(Promise.race(waits));
    // Told before any outcome was known (all three failed: each is described for its reason first).
    expect(first.kind).toBe("finished");
    expect(told).toEqual([["create", "op-0", "op-1", "op-2"]]);
    await settled(Promise.all(waits));
  });

  it("reads how finished operations ended only once what their slots start has left, or 250 ms later at most", async () => {
    const { ic, counts, start } = operations(50);
    const events: string[] = [];
    let handOff: () => void = () => undefined;
    const poller = new OperationPoller({
      log: silent,
      timeoutMs: 10_000,
      initialEstimateMs: 100,
      onNoLongerRunning: () => {
        events.push("slots freed");
        return new Promise<void>((resolve) => (handOff = resolve));
      },
    });
    const at = Date.now();
    const waits = ["op-0", "op-1"].map((id) => (start(id), poller.wait(ic, "create", id, at)));
    await vi.advanceTimersByTimeAsync(100);
    // The IN_PROGRESS list was read; the FAILED one waits for the next creates to leave.
    expect(counts.list).toBe(1);
    await vi.advanceTimersByTimeAsync(30);
    expect(counts.list).toBe(1);
    events.push("next creates left");
    handOff();
    const outcomes = await settled(Promise.all(waits));
    expect(outcomes.every((outcome) => outcome.kind === "finished")).toBe(true);
    expect(counts.list).toBe(2);
    expect(events).toEqual(["slots freed", "next creates left"]);

    // A hand-off that never ends holds the outcomes 250 ms, no longer.
    const stuck = operations(50);
    const patient = new OperationPoller({
      log: silent,
      timeoutMs: 10_000,
      initialEstimateMs: 100,
      onNoLongerRunning: () => new Promise<void>(() => undefined),
    });
    const began = Date.now();
    const late = ["op-0", "op-1"].map((id) => (stuck.start(id), patient.wait(stuck.ic, "create", id, began)));
    await settled(Promise.all(late));
    expect(Date.now() - began).toBe(100 + 250);
  });

  it("finds the end of the first operations within a tenth of their duration, before it knows how long they take", async () => {
    const { ic, counts, start } = operations(2_000);
    const poller = new OperationPoller({ log: silent, timeoutMs: 60_000, initialEstimateMs: 1_000 });
    const began = Date.now();
    await settled(Promise.all(["op-0", "op-1"].map((id) => (start(id), poller.wait(ic, "create", id, began)))));
    const lateMs = Date.now() - began - 2_000;
    // Doubling steps (50, 100, 200, 400, 800 ms after the first look at 1 s) found it at 2.55 s.
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThanOrEqual(200);
    // One list per look while running (a round reads both), then the FAILED list once.
    expect(counts.list).toBeLessThanOrEqual(12);
  });

  it("describes the failed ones among them, for AWS's reason", async () => {
    const { ic, counts, start } = operations(50, "FAILED");
    const poller = new OperationPoller({ log: silent, timeoutMs: 10_000, initialEstimateMs: 100 });
    const at = Date.now();
    const outcomes = await settled(
      Promise.all(Array.from({ length: 8 }, (_, index) => (start(`op-${index}`), poller.wait(ic, "delete", `op-${index}`, at)))),
    );
    expect(outcomes.every((outcome) => outcome.kind === "finished" && outcome.status.status === "FAILED")).toBe(true);
    expect(counts).toEqual({ list: 2, describe: 8 });
  });

  it("gives up on an operation after the timeout, and resolves waits with 'stopped' when stopped", async () => {
    const { ic, start } = operations(60_000);
    const poller = new OperationPoller({ log: silent, timeoutMs: 200, initialEstimateMs: 50 });
    expect(await settled(poller.wait(ic, "create", "slow", start("slow")))).toEqual({ kind: "timeout" });
    const waiting = poller.wait(ic, "create", "slower", start("slower"));
    poller.stop();
    expect(await waiting).toEqual({ kind: "stopped" });
  });
});
