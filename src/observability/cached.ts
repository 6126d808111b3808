/**
 * A value computed at most once per `ttlMs`, shared by every caller meanwhile: unauthenticated
 * endpoints (/readyz, /metrics) that read the database must not let anyone on the network turn
 * requests into queries. Concurrent callers share one computation; a failure is shared too, for
 * the same time, so a database that is down is not asked once per request either.
 */
export function cachedFor<T>(ttlMs: number, compute: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let current: { value: Promise<T>; at: number } | undefined;
  return () => {
    const time = now();
    if (!current || time - current.at >= ttlMs) {
      const value = compute();
      // Observed here so a rejection shared by later callers is never reported as unhandled.
      value.catch(() => undefined);
      current = { value, at: time };
    }
    return current.value;
  };
}
