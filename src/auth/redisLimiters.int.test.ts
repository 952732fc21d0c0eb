import { createServer, type AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectLimitsRedis, createRedisRateLimiter, createRedisStreamLimiter } from './redisLimiters.ts';
import { limiterContract } from './testing/limiters.contract.ts';
import { wrongSecretContract } from './testing/wrongSecrets.contract.ts';
import { TEST_SCRYPT } from './testing/testAuth.ts';
import { createTokenStore } from './tokenStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { generateToken, parseToken } from './tokens.ts';
import { haveRedis, REDIS_TEST_URL } from './testing/testRedis.ts';

// Fails under CI when Redis is missing; skips with the reason elsewhere.
const redisUp = await haveRedis('the shared (Redis) limiters');

describe.skipIf(!redisUp)('Redis limiters', () => {
  const clients: Redis[] = [];
  const client = async (url = REDIS_TEST_URL): Promise<Redis> => {
    const c = await connectLimitsRedis(url);
    clients.push(c);
    return c;
  };
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });

  limiterContract('redis', {
    rate: async (o) => createRedisRateLimiter({ redis: await client(), name: 'contract', whenUnavailable: 'deny', ...o }),
    streams: async (o) => createRedisStreamLimiter({ redis: await client(), ...o }),
  });

  wrongSecretContract('redis', async (o) => createRedisRateLimiter({ redis: await client(), name: 'wrongsecret', whenUnavailable: 'deny', ...o }));

  it('is one wrong-secret budget per token id for every replica: guesses spread over two cost one budget', async () => {
    const store = createMemoryAppStore();
    // Two replicas: each its own token store and Redis connection, one database and one Redis.
    const replica = async () => createTokenStore({ store, scrypt: TEST_SCRYPT, cacheTtlMs: 0, wrongSecretLimiter: createRedisRateLimiter({ redis: await client(), name: 'wrongsecret', ratePerSecond: 0.01, burst: 4, whenUnavailable: 'deny' }) });
    const [a, b] = [await replica(), await replica()];
    const id = parseToken((await a.create({ name: 'shared', role: 'viewer', namespaces: ['x'], createdBy: 'test' })).token)?.id ?? '';
    const wrong = (): string => `berth_${id}_${generateToken().secret}`;
    const codes = await Promise.all([a, b, a, b, a, b, a, b, a, b].map((r) => r.verify(wrong()).catch((e: { code: string }) => e.code)));
    expect(codes.filter((c) => c === 'BERTH_AUTH_UNAUTHENTICATED')).toHaveLength(4);
    expect(codes.filter((c) => c === 'BERTH_AUTH_RATE_LIMITED')).toHaveLength(6);
  });

  it('is one budget for every replica: what one replica spent, another cannot', async () => {
    const key = `shared-${Date.now()}-${Math.random()}`;
    const a = createRedisRateLimiter({ redis: await client(), name: 'req', ratePerSecond: 0.01, burst: 2, whenUnavailable: 'allow' });
    const b = createRedisRateLimiter({ redis: await client(), name: 'req', ratePerSecond: 0.01, burst: 2, whenUnavailable: 'allow' });
    expect((await a.take(key)).allowed).toBe(true);
    expect((await a.take(key)).allowed).toBe(true);
    expect((await b.take(key)).allowed).toBe(false);
    const sa = createRedisStreamLimiter({ redis: await client(), maxPerKey: 1 });
    const sb = createRedisStreamLimiter({ redis: await client(), maxPerKey: 1 });
    const lease = await sa.acquire(key);
    expect(lease).toBeDefined();
    expect(await sb.acquire(key)).toBeUndefined();
    lease?.release();
    expect(await sb.count(key)).toBe(0);
  });

  it('frees the slots of a replica that died: an unrefreshed slot expires', async () => {
    const key = `dead-${Date.now()}-${Math.random()}`;
    const dying = await connectLimitsRedis(REDIS_TEST_URL);
    const held = await createRedisStreamLimiter({ redis: dying, maxPerKey: 1, slotTtlMs: 300 }).acquire(key);
    expect(held).toBeDefined();
    dying.disconnect(); // no release, no refresh: as after SIGKILL
    const other = createRedisStreamLimiter({ redis: await client(), maxPerKey: 1, slotTtlMs: 300 });
    expect(await other.acquire(key)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 400));
    expect(await other.acquire(key)).toBeDefined();
  });

  describe('when Redis is down', () => {
    let deadUrl: string;
    beforeAll(async () => {
      // A port that accepted once and is closed now: connections are refused.
      const s = createServer();
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      deadUrl = `redis://127.0.0.1:${(s.address() as AddressInfo).port}`;
      await new Promise((r) => s.close(r));
    });

    it('fails open for the request rate and stream caps (reads keep working), closed for failed-auth budgets', async () => {
      const down = await client(deadUrl);
      const errors: unknown[] = [];
      const onUnavailable = (e: unknown): void => void errors.push(e);
      const requests = createRedisRateLimiter({ redis: down, name: 'req', ratePerSecond: 1, burst: 1, whenUnavailable: 'allow', onUnavailable });
      const failures = createRedisRateLimiter({ redis: down, name: 'authfail', ratePerSecond: 1 / 6, burst: 20, whenUnavailable: 'deny', onUnavailable });
      const streams = createRedisStreamLimiter({ redis: down, maxPerKey: 1, onUnavailable });
      for (let i = 0; i < 3; i++) expect((await requests.take('k')).allowed).toBe(true);
      expect(await failures.take('ip:1.2.3.4')).toEqual({ allowed: false, remaining: 0, retryAfterMs: 6000, unavailable: true });
      expect(await streams.acquire('k')).toBeDefined();
      expect(await streams.acquire('k')).toBeDefined();
      expect(errors.length).toBeGreaterThanOrEqual(5);
    });

    it('fails closed for the token store: a secret this replica has not recognised is refused (503), one it has passes', async () => {
      const store = createMemoryAppStore();
      let redisDown = false;
      const up = createRedisRateLimiter({ redis: await client(), name: 'wrongsecret', ratePerSecond: 1 / 6, burst: 10, whenUnavailable: 'deny' });
      const down = createRedisRateLimiter({ redis: await client(deadUrl), name: 'wrongsecret', ratePerSecond: 1 / 6, burst: 10, whenUnavailable: 'deny' });
      // One replica whose Redis goes away between two requests.
      const tokens = createTokenStore({ store, scrypt: TEST_SCRYPT, cacheTtlMs: 0, wrongSecretLimiter: { take: (k, c) => (redisDown ? down : up).take(k, c), peek: (k, c) => (redisDown ? down : up).peek(k, c) } });
      const seen = (await tokens.create({ name: 'seen', role: 'viewer', namespaces: ['x'], createdBy: 'test' })).token;
      const unseen = (await tokens.create({ name: 'unseen', role: 'viewer', namespaces: ['x'], createdBy: 'test' })).token;
      await expect(tokens.verify(seen)).resolves.toMatchObject({ name: 'seen' });
      redisDown = true;
      await expect(tokens.verify(seen)).resolves.toMatchObject({ name: 'seen' });
      const refused = await tokens.verify(unseen).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'BERTH_AUTH_LIMITS_UNAVAILABLE', status: 503 });
      const wrongOfSeen = `berth_${parseToken(seen)?.id ?? ''}_${generateToken().secret}`;
      await expect(tokens.verify(wrongOfSeen)).rejects.toMatchObject({ code: 'BERTH_AUTH_LIMITS_UNAVAILABLE' });
      redisDown = false;
      await expect(tokens.verify(unseen)).resolves.toMatchObject({ name: 'unseen' });
    });
  });
});
