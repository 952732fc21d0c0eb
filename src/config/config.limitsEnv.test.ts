import { describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { loadConfig, redactConfig } from './config.ts';

describe('limits from the environment', () => {
  it('reads the stream cap and both rate-limit numbers', () => {
    const c = loadConfig({}, { BERTH_MAX_STREAMS_PER_PRINCIPAL: '600', BERTH_RATE_LIMIT_RPS: '2.5', BERTH_RATE_LIMIT_BURST: '40' });
    expect(c.maxStreamsPerPrincipal).toBe(600);
    expect(c.rateLimit).toEqual({ ratePerSecond: 2.5, burst: 40 });
  });

  it('keeps the other rate-limit default when only one number is set', () => {
    expect(loadConfig({}, { BERTH_RATE_LIMIT_RPS: '5' }).rateLimit).toEqual({ ratePerSecond: 5, burst: 60 });
  });

  it('names the variable of a bad value', () => {
    let err: unknown;
    try {
      loadConfig({}, { BERTH_RATE_LIMIT_BURST: 'lots' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe('BERTH_CONFIG_INVALID');
    expect((err as BerthError).message).toContain('BERTH_RATE_LIMIT_RPS/BERTH_RATE_LIMIT_BURST');
  });

  it('shares the limits through Redis from BERTH_LIMITS_REDIS_URL, never logging its password, and needs a URL for store redis', () => {
    const c = loadConfig({}, { BERTH_LIMITS_REDIS_URL: 'redis://:hunter2@redis.ops:6379' });
    expect(c.limits).toEqual({ store: 'redis', redisUrl: 'redis://:hunter2@redis.ops:6379' });
    expect(JSON.stringify(redactConfig(c))).not.toContain('hunter2');
    expect(loadConfig({}, {}).limits).toEqual({ store: 'memory' });
    expect(() => loadConfig({ limits: { store: 'redis' } }, {})).toThrow(/limits\/redisUrl/);
    expect(() => loadConfig({ limits: { store: 'redis', redisUrl: 'http://x' } }, {})).toThrow(BerthError);
  });
});
