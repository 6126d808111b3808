/**
 * How many Identity Center calls one tenant's sweep may make in a cycle. Drift shares each
 * instance's rate limit with provisioning and revoking, which must never wait on it: it takes half
 * of AWS's limit (less one for safety), spread over the interval, split evenly between the tenants
 * sharing the instance.
 */
import { IDENTITY_CENTER_TPS } from "../../aws/rate-limiter.js";

/** Drift's share of an instance's calls: half of AWS's limit, less one for safety. */
const DRIFT_CALLS_PER_SECOND = IDENTITY_CENTER_TPS / 2 - 1;
/** Of a cycle's budget, at most this much goes to the live grants, so the full pass always moves. */
const LIVE_SHARE = 0.7;

/** One tenant's calls for one cycle: its share of 90% of what drift may call in an interval. */
export function sweepBudget(intervalMs: number, sharers: number): number {
  return Math.max(1, Math.floor(((intervalMs / 1000) * DRIFT_CALLS_PER_SECOND * 0.9) / sharers));
}

/** How many of a cycle's calls may go to looking at the tenant's live grants. */
export function liveBudget(budget: number): number {
  return Math.ceil(budget * LIVE_SHARE);
}

/** Whether the live grants need more looks than the cycle gives them (the rest come next cycle). */
export function liveOverBudget(liveScopes: number, budget: number): boolean {
  return liveScopes > budget * LIVE_SHARE;
}
