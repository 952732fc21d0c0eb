/**
 * What the token store's per-token-id budget of unrecognised secrets must do with any limiter behind
 * it, in-process or shared (Redis): at most `burst` secrets of one id are hashed, even when they all
 * arrive at once; the holder of the real secret, once recognised, is never refused by it; ids are
 * independent. The store under each test is a fresh memory store, so ids never collide.
 */
import { describe, expect, it } from 'vitest';
import type { BerthError } from '../../errors.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import type { RateLimiter } from '../rateLimiter.ts';
import { createTokenStore, retryAfterMsOf, type TokenStore } from '../tokenStore.ts';
import { generateToken, parseToken, verifySecret } from '../tokens.ts';
import { TEST_SCRYPT } from './testAuth.ts';

export interface WrongSecretLimiterFactory {
  /** A limiter of `burst` at a rate slow enough that nothing refills during a test. */
  (opts: { readonly burst: number; readonly ratePerSecond: number }): RateLimiter | Promise<RateLimiter>;
}

interface Subject {
  readonly tokens: TokenStore;
  /** scrypt comparisons made so far. */
  hashes(): number;
  /** A token of a fresh id: its real value, and a maker of wrong ones for the same id. */
  token(name: string): Promise<{ readonly real: string; wrong(): string }>;
}

async function subject(limiter: RateLimiter): Promise<Subject> {
  const store = createMemoryAppStore();
  await store.migrate();
  let hashes = 0;
  const tokens = createTokenStore({ store, scrypt: TEST_SCRYPT, cacheTtlMs: 0, wrongSecretLimiter: limiter, verifySecret: (secret, encoded) => (hashes++, verifySecret(secret, encoded)) });
  return {
    tokens,
    hashes: () => hashes,
    async token(name) {
      const real = (await tokens.create({ name, role: 'viewer', namespaces: ['a'], createdBy: 'test' })).token;
      const id = parseToken(real)?.id ?? '';
      return { real, wrong: () => `berth_${id}_${generateToken().secret}` };
    },
  };
}

const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as BerthError).code,
  );

export function wrongSecretContract(name: string, make: WrongSecretLimiterFactory): void {
  describe(`${name}: per-token wrong-secret budget`, () => {
    it('hashes at most the burst of one id, then refuses with 429 and a retry time, without hashing', async () => {
      const s = await subject(await make({ burst: 3, ratePerSecond: 0.01 }));
      const t = await s.token('guessed');
      for (let i = 0; i < 3; i++) expect(await codeOf(s.tokens.verify(t.wrong()))).toBe('BERTH_AUTH_UNAUTHENTICATED');
      expect(s.hashes()).toBe(3);
      const limited = await s.tokens.verify(t.wrong()).catch((e: unknown) => e as BerthError);
      expect(limited).toMatchObject({ code: 'BERTH_AUTH_RATE_LIMITED', status: 429 });
      expect(retryAfterMsOf(limited as BerthError)).toBeGreaterThan(90_000);
      expect(s.hashes()).toBe(3);
      // Another id has its own budget.
      const other = await s.token('other');
      expect(await codeOf(s.tokens.verify(other.wrong()))).toBe('BERTH_AUTH_UNAUTHENTICATED');
    });

    it('holds under a concurrent flood: every guess spends before it is hashed', async () => {
      const s = await subject(await make({ burst: 5, ratePerSecond: 0.01 }));
      const t = await s.token('flooded');
      const codes = await Promise.all(Array.from({ length: 40 }, () => codeOf(s.tokens.verify(t.wrong()))));
      expect(codes.filter((c) => c === 'BERTH_AUTH_UNAUTHENTICATED')).toHaveLength(5);
      expect(codes.filter((c) => c === 'BERTH_AUTH_RATE_LIMITED')).toHaveLength(35);
      expect(s.hashes()).toBe(5);
    });

    it('lets the holder of the real secret in once recognised, however spent the budget; recognising it costs one unit', async () => {
      const s = await subject(await make({ burst: 3, ratePerSecond: 0.01 }));
      const t = await s.token('held');
      await expect(s.tokens.verify(t.real)).resolves.toMatchObject({ name: 'held' });
      for (let i = 0; i < 2; i++) expect(await codeOf(s.tokens.verify(t.wrong()))).toBe('BERTH_AUTH_UNAUTHENTICATED');
      expect(await codeOf(s.tokens.verify(t.wrong()))).toBe('BERTH_AUTH_RATE_LIMITED');
      const before = s.hashes();
      await expect(s.tokens.verify(t.real)).resolves.toMatchObject({ name: 'held' });
      expect(s.hashes()).toBe(before);
    });
  });
}
