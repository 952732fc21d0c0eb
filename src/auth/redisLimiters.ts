/**
 * Rate limits, failed-auth budgets and stream caps shared by every replica through Redis (ADR 0017):
 * per-process counters would let a client get N times its budget from N replicas. Each decision is
 * one Lua script, atomic in Redis and timed by Redis's own clock (TIME), so replicas whose clocks
 * disagree still count one bucket.
 *
 * When Redis cannot answer (down, or slower than `commandTimeoutMs`), a limiter does what it was
 * created for (`whenUnavailable`): 'allow' (fail open) for the per-principal request rate and stream
 * caps, so valid callers keep working while only the cluster-wide bound is lost; 'deny' (fail closed)
 * for failed-authentication budgets, so an outage never lifts the brake on credential guessing.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter } from './rateLimiter.ts';
import type { StreamLease, StreamLimiter } from './streamLimiter.ts';

export type WhenUnavailable = 'allow' | 'deny';

/** The one Redis connection the limiters of a server share; loaded lazily (ioredis only when configured). */
export async function connectLimitsRedis(url: string, opts: { readonly commandTimeoutMs?: number } = {}): Promise<Redis> {
  const { Redis: Client } = await import('ioredis');
  // No offline queue and no per-command retries: while Redis is away a command fails at once (and the
  // limiter's whenUnavailable applies) instead of holding requests; the client reconnects in the background.
  const client = new Client(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: opts.commandTimeoutMs ?? 500, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  await client.connect().catch(() => undefined);
  return client;
}

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] bucket; ARGV rate per ms, burst, cost, spend (1/0). Returns {allowed, before (string)}. */
const TAKE = `${NOW_MS}
local rate = tonumber(ARGV[1]) local burst = tonumber(ARGV[2]) local cost = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = burst local at = now
if b[1] then
  tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * rate)
  at = math.max(now, tonumber(b[2]))
end
local before = tokens
local allowed = 0
if tokens >= cost then allowed = 1 end
if ARGV[4] == '1' then
  if allowed == 1 then tokens = tokens - cost end
  if tokens >= burst then redis.call('DEL', KEYS[1]) else
    redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
    redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
  end
end
return {allowed, tostring(before)}`;

/** KEYS[1] sorted set of stream ids scored by expiry; ARGV max, id, ttl ms. 1 = acquired. */
const ACQUIRE = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1`;
const REFRESH = `${NOW_MS}
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;
const COUNT = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

export interface RedisRateLimiterOptions {
  /** The connection, or its promise (buildServer is synchronous; the client loads on first use). */
  readonly redis: Redis | Promise<Redis>;
  /** Separates limiters sharing one Redis (requests, failed authentications, a token id's unrecognised secrets). */
  readonly name: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly whenUnavailable: WhenUnavailable;
  /** Called when Redis could not answer (for the log); the decision follows whenUnavailable. */
  readonly onUnavailable?: (e: unknown) => void;
}

export function createRedisRateLimiter(opts: RedisRateLimiterOptions): RateLimiter {
  if (!(opts.ratePerSecond > 0) || !(opts.burst >= 1)) throw new RangeError('ratePerSecond must be > 0 and burst ≥ 1');
  const perMs = opts.ratePerSecond / 1000;
  const unavailable = (cost: number): RateDecision =>
    // Closed: as if the budget were spent, retry after the time one token takes to come back.
    opts.whenUnavailable === 'allow' ? { allowed: true, remaining: opts.burst, retryAfterMs: 0, unavailable: true } : { allowed: false, remaining: 0, retryAfterMs: Math.ceil(cost / perMs), unavailable: true };
  const decide = async (key: string, cost: number, spend: boolean): Promise<RateDecision> => {
    try {
      const [allowed, before] = (await (await opts.redis).eval(TAKE, 1, `berth:rate:${opts.name}:${key}`, String(perMs), String(opts.burst), String(cost), spend ? '1' : '0')) as [number, string];
      const tokens = Number(before);
      return allowed === 1 ? { allowed: true, remaining: tokens - cost, retryAfterMs: 0 } : { allowed: false, remaining: tokens, retryAfterMs: Math.ceil((cost - tokens) / perMs) };
    } catch (e) {
      opts.onUnavailable?.(e);
      return unavailable(cost);
    }
  };
  return { take: (key, cost = 1) => decide(key, cost, true), peek: (key, cost = 1) => decide(key, cost, false) };
}

export interface RedisStreamLimiterOptions {
  readonly redis: Redis | Promise<Redis>;
  readonly maxPerKey: number;
  /**
   * A slot not refreshed for this long is dropped, so a replica that dies (SIGKILL) frees its streams'
   * slots by itself; an open stream refreshes its slot every third of it. Default 30 s.
   */
  readonly slotTtlMs?: number;
  readonly onUnavailable?: (e: unknown) => void;
}

/** Stream caps across replicas; fails open (a stream is a read). */
export function createRedisStreamLimiter(opts: RedisStreamLimiterOptions): StreamLimiter {
  if (!Number.isInteger(opts.maxPerKey) || opts.maxPerKey < 1) throw new RangeError('maxPerKey must be an integer ≥ 1');
  const ttl = opts.slotTtlMs ?? 30_000;
  const keyOf = (key: string): string => `berth:streams:${key}`;
  const free: StreamLease = { release: () => undefined };
  return {
    async acquire(key) {
      const id = randomUUID();
      const redis = await opts.redis;
      try {
        if ((await redis.eval(ACQUIRE, 1, keyOf(key), String(opts.maxPerKey), id, String(ttl))) !== 1) return undefined;
      } catch (e) {
        opts.onUnavailable?.(e);
        return free;
      }
      const timer = setInterval(() => void redis.eval(REFRESH, 1, keyOf(key), id, String(ttl)).catch((e: unknown) => opts.onUnavailable?.(e)), Math.max(100, Math.floor(ttl / 3)));
      timer.unref();
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          clearInterval(timer);
          void redis.zrem(keyOf(key), id).catch((e: unknown) => opts.onUnavailable?.(e));
        },
      };
    },
    async count(key) {
      try {
        return Number(await (await opts.redis).eval(COUNT, 1, keyOf(key)));
      } catch (e) {
        opts.onUnavailable?.(e);
        return 0;
      }
    },
  };
}
