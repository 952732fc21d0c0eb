/**
 * Per-principal token buckets: each key may spend `burst` requests at once and earns `ratePerSecond`
 * back continuously. Pure apart from the injected clock; idle buckets are forgotten so the map stays
 * as small as the set of active callers.
 */

export interface RateLimiterOptions {
  /** Sustained requests per second per key. */
  readonly ratePerSecond: number;
  /** Requests a key may make at once after being idle. */
  readonly burst: number;
  /** Milliseconds since some fixed point; injectable for tests. */
  readonly now?: () => number;
  /** Most keys tracked; the least recently used are dropped (a dropped key starts with a full bucket). */
  readonly maxKeys?: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Tokens left after this request (fractional). */
  readonly remaining: number;
  /** When not allowed: how long until `cost` tokens are available (ms, rounded up). */
  readonly retryAfterMs: number;
  /**
   * Set by a shared limiter whose store could not answer: the decision is its `whenUnavailable`, not a
   * count. A caller that fails closed says so (BERTH_AUTH_LIMITS_UNAVAILABLE) instead of "too many".
   */
  readonly unavailable?: true;
}

/**
 * What the auth plugin spends against. The in-process limiter answers at once; a shared one
 * (redisLimiters.ts, several replicas counting together) answers after a round trip.
 */
export interface RateLimiter {
  /** Spends `cost` tokens of `key` when available. */
  take(key: string, cost?: number): RateDecision | Promise<RateDecision>;
  /** What `take` would answer, without spending. */
  peek(key: string, cost?: number): RateDecision | Promise<RateDecision>;
}

/** The in-process limiter: synchronous, and it can say how many keys it tracks. */
export interface MemoryRateLimiter extends RateLimiter {
  take(key: string, cost?: number): RateDecision;
  peek(key: string, cost?: number): RateDecision;
  /** Keys currently tracked (for tests and metrics). */
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(opts: RateLimiterOptions): MemoryRateLimiter {
  if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1)) throw new RangeError('ratePerSecond must be > 0 and burst ≥ 1');
  const now = opts.now ?? ((): number => performance.now());
  const maxKeys = opts.maxKeys ?? 100_000;
  const perMs = opts.ratePerSecond / 1000;
  const buckets = new Map<string, Bucket>();

  const current = (key: string, t: number): Bucket => {
    const b = buckets.get(key);
    if (b === undefined) return { tokens: opts.burst, at: t };
    // A clock that went backwards earns nothing rather than a negative amount.
    return { tokens: Math.min(opts.burst, b.tokens + Math.max(0, t - b.at) * perMs), at: Math.max(t, b.at) };
  };

  const decide = (key: string, cost: number, spend: boolean): RateDecision => {
    const t = now();
    const b = current(key, t);
    const before = b.tokens;
    const allowed = before >= cost;
    if (spend) {
      if (allowed) b.tokens -= cost;
      // Re-insert so the Map's order is least recently used first.
      buckets.delete(key);
      buckets.set(key, b);
      while (buckets.size > maxKeys) {
        const oldest = buckets.keys().next().value;
        if (oldest === undefined) break;
        buckets.delete(oldest);
      }
      // A full bucket is the same as no bucket: forget it.
      if (b.tokens >= opts.burst) buckets.delete(key);
    }
    return { allowed, remaining: allowed ? before - cost : before, retryAfterMs: allowed ? 0 : Math.ceil((cost - before) / perMs) };
  };

  return {
    take: (key, cost = 1) => decide(key, cost, true),
    peek: (key, cost = 1) => decide(key, cost, false),
    size: () => buckets.size,
  };
}
