/**
 * A token bucket, the usual model of an AWS rate limit: `ratePerSecond` tokens flow in per second
 * up to a burst of the same size, and each request takes one. Time comes from the caller so that
 * an injected clock decides when tokens come back, with no timers.
 */
export class TokenBucket {
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    now: number,
  ) {
    // Below 1 token per second the burst would never reach one whole request.
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = now;
  }

  /** Takes a token if one is there. */
  tryTake(now: number): boolean {
    // An injected clock may step backwards; that must not drain or overfill the bucket.
    const elapsedMs = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
