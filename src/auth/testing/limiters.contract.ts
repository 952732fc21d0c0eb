/**
 * The behaviour every rate limiter and stream limiter must have, in-process or shared (Redis). No
 * clock is involved: refill over time is tested on the in-process limiter with an injected clock
 * (limiters.test.ts). `make` gets a fresh namespace per test, so shared stores need no cleanup.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RateLimiter } from '../rateLimiter.ts';
import type { StreamLimiter } from '../streamLimiter.ts';

export interface LimiterFactory {
  /** A rate limiter of `burst` at a rate slow enough that nothing refills during a test. */
  rate(opts: { burst: number; ratePerSecond: number }): RateLimiter | Promise<RateLimiter>;
  streams(opts: { maxPerKey: number }): StreamLimiter | Promise<StreamLimiter>;
}

export function limiterContract(name: string, factory: LimiterFactory): void {
  describe(`${name}: limiter contract`, () => {
    const key = (): string => `k-${randomUUID()}`;

    it('allows a burst, then denies with a retry time; keys are independent', async () => {
      const rl = await factory.rate({ burst: 3, ratePerSecond: 0.01 });
      const k = key();
      const first = await rl.take(k);
      expect(first).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
      expect((await rl.take(k)).allowed).toBe(true);
      expect((await rl.take(k)).allowed).toBe(true);
      const denied = await rl.take(k);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeGreaterThan(90_000);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(100_000);
      expect((await rl.take(key())).allowed).toBe(true);
    });

    it('spends nothing on a denied take or on peek; honours cost', async () => {
      const rl = await factory.rate({ burst: 2, ratePerSecond: 0.01 });
      const k = key();
      expect(await rl.peek(k, 2)).toMatchObject({ allowed: true });
      expect(await rl.peek(k, 2)).toMatchObject({ allowed: true });
      expect((await rl.take(k, 3)).allowed).toBe(false);
      expect((await rl.take(k, 2)).allowed).toBe(true);
      expect((await rl.take(k)).allowed).toBe(false);
      expect((await rl.peek(k)).allowed).toBe(false);
    });

    it('caps open streams per key; release frees exactly one slot, once', async () => {
      const sl = await factory.streams({ maxPerKey: 2 });
      const k = key();
      const a = await sl.acquire(k);
      const b = await sl.acquire(k);
      expect(a).toBeDefined();
      expect(b).toBeDefined();
      expect(await sl.acquire(k)).toBeUndefined();
      expect(await sl.acquire(key())).toBeDefined();
      a?.release();
      a?.release();
      expect(await sl.count(k)).toBe(1);
      const c = await sl.acquire(k);
      expect(c).toBeDefined();
      expect(await sl.acquire(k)).toBeUndefined();
      b?.release();
      c?.release();
      expect(await sl.count(k)).toBe(0);
    });
  });
}
