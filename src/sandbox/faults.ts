/**
 * Fault injection: chosen fractions of calls fail the way AWS fails under load, drawn from a seeded
 * generator so a failing run can be replayed exactly. Every eligible call draws the same numbers
 * whatever the fractions are, so changing one fraction does not reshuffle which calls the others hit.
 * Replays are exact when calls arrive in the same order (sequential clients); concurrent requests
 * may reach the simulator in a different order from run to run.
 */
import { Prng } from "./prng.js";

export interface Faults {
  /** Fraction (0..1) of mutating and describe calls answered with ThrottlingException. */
  throttle?: number;
  /** Fraction of CreateAccountAssignment / DeleteAccountAssignment calls answered with ConflictException. */
  conflict?: number;
  /** Fraction of mutating and describe calls answered with InternalServerException (HTTP 500). */
  serverError?: number;
  /** Fraction of accepted assignment creations and deletions that end FAILED with a FailureReason. */
  failed?: number;
  /** Milliseconds every HTTP response is held back. */
  latencyMs?: number;
  /** The operations request faults may hit (`CreateAccountAssignment`); default: every eligible one. */
  operations?: readonly string[];
}

export type RequestFault = "throttle" | "conflict" | "serverError";

/** Faults with every fraction filled in; `operations` stays unset when faults may hit any operation. */
export type FaultSettings = Required<Omit<Faults, "operations">> & Pick<Faults, "operations">;

const FRACTIONS = ["throttle", "conflict", "serverError", "failed"] as const;

export function checkFaults(faults: Faults): FaultSettings {
  for (const name of FRACTIONS) {
    const value = faults[name];
    if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`faults.${name} must be a fraction between 0 and 1`);
  }
  const latencyMs = faults.latencyMs ?? 0;
  if (!(latencyMs >= 0 && Number.isFinite(latencyMs))) throw new RangeError("faults.latencyMs must be a finite number >= 0");
  return {
    throttle: faults.throttle ?? 0,
    conflict: faults.conflict ?? 0,
    serverError: faults.serverError ?? 0,
    failed: faults.failed ?? 0,
    latencyMs,
    ...(faults.operations ? { operations: [...faults.operations] } : {}),
  };
}

export class FaultInjector {
  private faults: FaultSettings;
  private readonly random: Prng;

  constructor(faults: Faults, seed: number) {
    this.faults = checkFaults(faults);
    this.random = new Prng(seed);
  }

  get current(): Readonly<FaultSettings> {
    return this.faults;
  }

  set(faults: Faults): void {
    this.faults = checkFaults(faults);
  }

  /** Whether request faults may hit `operation` at all (calls they may not hit draw nothing). */
  targets(operation: string): boolean {
    return this.faults.operations === undefined || this.faults.operations.includes(operation);
  }

  /** The fault to answer an eligible call with, if any. Conflicts only make sense for mutating calls. */
  drawRequestFault(mutating: boolean): RequestFault | undefined {
    const throttle = this.random.next();
    const conflict = this.random.next();
    const serverError = this.random.next();
    if (throttle < this.faults.throttle) return "throttle";
    if (mutating && conflict < this.faults.conflict) return "conflict";
    if (serverError < this.faults.serverError) return "serverError";
    return undefined;
  }

  /** Whether an accepted creation or deletion is to end FAILED. */
  drawFailure(): boolean {
    return this.random.next() < this.faults.failed;
  }
}
