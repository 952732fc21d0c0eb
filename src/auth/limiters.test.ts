import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rateLimiter.ts';
import { createStreamLimiter } from './streamLimiter.ts';
import { limiterContract } from './testing/limiters.contract.ts';
import { wrongSecretContract } from './testing/wrongSecrets.contract.ts';

describe('rate limiter (token bucket per principal)', () => {
  it('allows a burst, then refills at the rate; keys are independent', () => {
    let t = 0;
    const rl = createRateLimiter({ ratePerSecond: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => rl.take('ci').allowed)).toEqual([true, true, true]);
    const denied = rl.take('ci');
    expect(denied).toEqual({ allowed: false, remaining: 0, retryAfterMs: 500 });
    expect(rl.take('alice').allowed).toBe(true);
    t = 499;
    expect(rl.take('ci').allowed).toBe(false);
    t = 500;
    expect(rl.take('ci')).toMatchObject({ allowed: true });
    expect(rl.take('ci').allowed).toBe(false);
    t = 100_000; // long idle: refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => rl.take('ci').allowed)).toEqual([true, true, true, false]);
  });

  it('a denied request spends nothing; peek never spends; cost > 1 works', () => {
    let t = 0;
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 2, now: () => t });
    expect(rl.peek('k', 2)).toMatchObject({ allowed: true, remaining: 0 });
    expect(rl.take('k', 2).allowed).toBe(true);
    expect(rl.take('k').allowed).toBe(false);
    expect(rl.take('k').allowed).toBe(false);
    t = 1000;
    expect(rl.peek('k')).toMatchObject({ allowed: true });
    expect(rl.peek('k')).toMatchObject({ allowed: true });
    expect(rl.take('k', 2)).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    expect(rl.take('k').allowed).toBe(true);
  });

  it('forgets full buckets and caps the number of keys; a clock going backwards earns nothing', () => {
    let t = 0;
    const rl = createRateLimiter({ ratePerSecond: 1, burst: 1, now: () => t, maxKeys: 2 });
    rl.take('a');
    rl.take('b');
    rl.take('c');
    expect(rl.size()).toBe(2);
    expect(rl.take('a').allowed).toBe(true); // 'a' was dropped (least recently used), so it starts full
    t = -5000;
    expect(rl.take('c').allowed).toBe(false); // 'b' was dropped in turn; 'c' is still empty
    expect(() => createRateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(RangeError);
  });
});

describe('stream limiter (open SSE/log streams per principal)', () => {
  it('caps open streams per key; release frees exactly one slot, once', () => {
    const sl = createStreamLimiter({ maxPerKey: 2 });
    const a = sl.acquire('ci');
    const b = sl.acquire('ci');
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    expect(sl.acquire('ci')).toBeUndefined();
    expect(sl.acquire('alice')).toBeDefined();
    expect(sl.total()).toBe(3);
    a?.release();
    a?.release(); // idempotent: closing and erroring both call it
    expect(sl.count('ci')).toBe(1);
    const c = sl.acquire('ci');
    expect(c).toBeDefined();
    expect(sl.acquire('ci')).toBeUndefined();
    b?.release();
    c?.release();
    expect(sl.count('ci')).toBe(0);
    expect(sl.total()).toBe(1);
    expect(() => createStreamLimiter({ maxPerKey: 0 })).toThrow(RangeError);
  });
});

limiterContract('in-process', {
  rate: (o) => createRateLimiter(o),
  streams: (o) => createStreamLimiter(o),
});

wrongSecretContract('in-process', (o) => createRateLimiter(o));
