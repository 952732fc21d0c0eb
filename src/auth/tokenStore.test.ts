import { afterEach, describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import { createRateLimiter } from './rateLimiter.ts';
import { createTokenStore, retryAfterMsOf, type TokenStore } from './tokenStore.ts';
import { DEFAULT_SCRYPT, generateToken, hashSecret, parseToken, verifySecret, type ScryptParams } from './tokens.ts';
import { engineCases, manualClock, type TestStore } from './testing/testStores.ts';

/** Cheap hashing for the lifecycle tests; the real parameters are checked separately. */
const FAST: ScryptParams = { N: 1024, r: 8, p: 1 };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof BerthError ? e.code : `not a BerthError: ${String(e)}`;
  }
}

describe('token format and hashing', () => {
  it('generates berth_<16 hex>_<43 base64url> tokens that parse back, each one different', () => {
    const a = generateToken();
    const b = generateToken();
    expect(a.token).toMatch(/^berth_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(a.token)).toEqual({ id: a.id, secret: a.secret });
    expect(a.token).not.toBe(b.token);
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
    for (const bad of ['', 'berth_', 'berth_xyz_abc', `Berth_${a.id}_${a.secret}`, `${a.token}x`, `berth_${a.id}_${a.secret.slice(1)}`]) expect(parseToken(bad)).toBeUndefined();
  });

  it('stores scrypt with explicit N/r/p and a per-hash salt; verifies only the right secret', async () => {
    const h1 = await hashSecret('s3cret', DEFAULT_SCRYPT);
    const h2 = await hashSecret('s3cret', DEFAULT_SCRYPT);
    expect(h1).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(h1).not.toBe(h2); // different salts
    expect(h1).not.toContain('s3cret');
    await expect(verifySecret('s3cret', h1)).resolves.toBe(true);
    await expect(verifySecret('s3creT', h1)).resolves.toBe(false);
    await expect(verifySecret('s3cret', 'scrypt$0$8$1$abc$def')).resolves.toBe(false);
    await expect(verifySecret('s3cret', 'plain')).resolves.toBe(false);
  });
});

const cases = await engineCases();

describe.each(cases)('token store on $name', (engine) => {
  let subject: TestStore | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function open(opts: { cacheTtlMs?: number } = {}): Promise<{ tokens: TokenStore; clock: ReturnType<typeof manualClock>; subject: TestStore }> {
    const clock = manualClock();
    subject = await engine.open(clock);
    const tokens = createTokenStore({ store: subject.store, clock, scrypt: FAST, cacheTtlMs: opts.cacheTtlMs ?? 0 });
    return { tokens, clock, subject };
  }

  it('create returns the secret once; list shows name, role, scope, times and never a secret or hash', async () => {
    const { tokens, clock } = await open();
    const created = await tokens.create({ name: 'ci', role: 'deployer', namespaces: ['web', 'shop', 'web'], expiresAt: '2030-02-01T00:00:00Z', createdBy: 'admin' });
    expect(created.token).toMatch(/^berth_[0-9a-f]{16}_/);
    expect(created.info).toEqual({
      id: parseToken(created.token)?.id,
      name: 'ci',
      role: 'deployer',
      namespaces: ['shop', 'web'],
      createdAt: new Date(clock.now()).toISOString(),
      createdBy: 'admin',
      lastUsedAt: null,
      expiresAt: '2030-02-01T00:00:00.000Z',
      revokedAt: null,
    });
    await clock.advance(1000);
    await tokens.create({ name: 'root', role: 'admin', createdBy: 'bootstrap' });
    const list = await tokens.list();
    expect(list.map((t) => [t.name, t.namespaces])).toEqual([
      ['root', '*'],
      ['ci', ['shop', 'web']],
    ]);
    const secret = parseToken(created.token)?.secret ?? 'missing';
    expect(JSON.stringify(list)).not.toContain(secret);
    expect(JSON.stringify(list)).not.toContain('scrypt');
  });

  it('only the hash is in the table', async () => {
    const { tokens, subject: s } = await open();
    const created = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    const secret = parseToken(created.token)?.secret ?? 'missing';
    const raw = await s.store.transaction(async (tx) =>
      JSON.stringify(s.store.engine === 'memory' ? memoryTableOf(tx, 'api_tokens') : await sqlExecutorOf(tx).selectFrom('api_tokens').selectAll().execute()),
    );
    expect(raw).toContain('scrypt$1024$8$1$');
    expect(raw).not.toContain(secret);
  });

  it('verify gives the principal; unknown, malformed, wrong-secret, expired and revoked tokens all get the same 401', async () => {
    const { tokens, clock } = await open();
    const { token } = await tokens.create({ name: 'ci', role: 'deployer', namespaces: ['shop'], expiresAt: '2030-01-03T00:00:00Z', createdBy: 'admin' });
    const p = await tokens.verify(token);
    expect(p).toMatchObject({ kind: 'token', name: 'ci', role: 'deployer' });
    expect(p.namespaces).toEqual(new Set(['shop']));

    const parsed = parseToken(token);
    if (!parsed) throw new Error('unparsable');
    const other = generateToken();
    const messages = new Set<string>();
    for (const bad of [other.token, 'garbage', `berth_${parsed.id}_${other.secret}`, `berth_${other.id}_${parsed.secret}`]) {
      const err = await tokens.verify(bad).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED', status: 401 });
      messages.add((err as Error).message);
    }
    clock.set(Date.parse('2030-01-03T00:00:00.000Z'));
    messages.add(((await tokens.verify(token).catch((e: unknown) => e)) as Error).message);
    clock.set(Date.parse('2030-01-02T12:00:00.000Z'));
    await expect(tokens.verify(token)).resolves.toMatchObject({ name: 'ci' });
    await tokens.revoke('ci');
    const revoked = await tokens.verify(token).catch((e: unknown) => e);
    expect(revoked).toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    messages.add((revoked as Error).message);
    expect(messages.size).toBe(1);
  });

  it('lastUsedAt is written at most once a minute', async () => {
    const { tokens, clock } = await open();
    const { token } = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    const t0 = new Date(clock.now()).toISOString();
    await tokens.verify(token);
    expect((await tokens.list())[0]?.lastUsedAt).toBe(t0);
    await clock.advance(59_000);
    await tokens.verify(token);
    expect((await tokens.list())[0]?.lastUsedAt).toBe(t0);
    await clock.advance(1_000);
    await tokens.verify(token);
    expect((await tokens.list())[0]?.lastUsedAt).toBe(new Date(clock.now()).toISOString());
  });

  it('revoke by name or id; names of active tokens are unique, a revoked name can be reused', async () => {
    const { tokens, clock } = await open();
    const a = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    expect(await codeOf(tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' }))).toBe('BERTH_AUTH_TOKEN_EXISTS');
    await clock.advance(1000);
    const revoked = await tokens.revoke('ci');
    expect(revoked).toMatchObject({ id: a.info.id, revokedAt: new Date(clock.now()).toISOString() });
    const b = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    expect((await tokens.list()).map((t) => t.id)).toEqual([b.info.id]);
    expect((await tokens.list({ includeRevoked: true })).map((t) => t.id).sort()).toEqual([a.info.id, b.info.id].sort());
    await tokens.revoke(b.info.id);
    await expect(tokens.verify(b.token)).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    expect(await codeOf(tokens.revoke('nope'))).toBe('BERTH_AUTH_TOKEN_NOT_FOUND');
    // Revoking an already revoked token (by id) keeps the first time.
    await clock.advance(5000);
    expect((await tokens.revoke(a.info.id)).revokedAt).toBe(revoked.revokedAt);
  });

  it('rejects invalid requests with every problem named', async () => {
    const { tokens } = await open();
    const err = await tokens.create({ name: 'Bad Name', role: 'root' as 'admin', namespaces: ['Not_OK'], expiresAt: '2000-01-01T00:00:00Z', createdBy: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BERTH_REQUEST_INVALID' });
    expect((err as BerthError).problems.map((p) => p.path).sort()).toEqual(['/expiresAt', '/name', '/namespaces', '/role']);
    expect(await codeOf(tokens.create({ name: 'v', role: 'viewer', createdBy: 'x' }))).toBe('BERTH_REQUEST_INVALID');
    expect(await codeOf(tokens.create({ name: 'a', role: 'admin', namespaces: ['shop'], createdBy: 'x' }))).toBe('BERTH_REQUEST_INVALID');
    const wide = await tokens.create({ name: 'wide', role: 'viewer', namespaces: '*', createdBy: 'x' });
    expect((await tokens.verify(wide.token)).namespaces).toBe('*');
    expect(await tokens.list()).toHaveLength(1);
  });

  it('an in-transaction hook that fails rolls the token change back', async () => {
    const { tokens } = await open();
    const failing = async (): Promise<void> => {
      throw new Error('audit sink refused');
    };
    await expect(tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' }, failing)).rejects.toThrow('audit sink refused');
    expect(await tokens.list({ includeRevoked: true })).toEqual([]);
    const { token } = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    await expect(tokens.revoke('ci', failing)).rejects.toThrow('audit sink refused');
    await expect(tokens.verify(token)).resolves.toMatchObject({ name: 'ci' });
  });

  it('the verification cache is forgotten at once on revoke and never outlives expiry', async () => {
    const { tokens, clock } = await open({ cacheTtlMs: 60_000 });
    const { token } = await tokens.create({ name: 'ci', role: 'viewer', namespaces: ['web'], expiresAt: '2030-01-02T03:05:00Z', createdBy: 'admin' });
    await tokens.verify(token);
    await tokens.verify(token); // cached
    clock.set(Date.parse('2030-01-02T03:05:00.000Z'));
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    const other = await tokens.create({ name: 'ci2', role: 'viewer', namespaces: ['web'], createdBy: 'admin' });
    await tokens.verify(other.token);
    await tokens.revoke('ci2');
    await expect(tokens.verify(other.token)).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
  });

  it('refuses malformed, unknown, revoked and expired tokens without scrypt; only wrong secrets of a live id hash, within a budget', async () => {
    const clock = manualClock();
    subject = await engine.open(clock);
    let hashes = 0;
    let t = 0;
    const tokens = createTokenStore({
      store: subject.store,
      clock,
      scrypt: FAST,
      cacheTtlMs: 0,
      verifySecret: (secret, encoded) => (hashes++, verifySecret(secret, encoded)),
      wrongSecretLimiter: createRateLimiter({ ratePerSecond: 0.1, burst: 3, now: () => t }),
    });
    const live = await tokens.create({ name: 'root', role: 'admin', createdBy: 'test' });
    const gone = await tokens.create({ name: 'old', role: 'viewer', namespaces: ['a'], createdBy: 'test' });
    const soon = await tokens.create({ name: 'soon', role: 'viewer', namespaces: ['a'], expiresAt: '2030-01-02T03:05:00Z', createdBy: 'test' });
    await tokens.revoke('old');
    clock.set(Date.parse('2030-01-02T03:06:00.000Z'));
    const hashesBefore = hashes;
    for (let i = 0; i < 200; i++) await expect(tokens.verify(generateToken().token)).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    for (const bad of ['garbage', 'berth_zz', gone.token, soon.token]) await expect(tokens.verify(bad)).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    expect(hashes - hashesBefore).toBe(0);

    // The real secret: one scrypt (and one unit of its id's budget) the first time, then recognised
    // without either (no cache here).
    await expect(tokens.verify(live.token)).resolves.toMatchObject({ name: 'root' });
    await expect(tokens.verify(live.token)).resolves.toMatchObject({ name: 'root' });
    expect(hashes - hashesBefore).toBe(1);

    // Wrong secrets for the live id: each costs a scrypt until the id's budget is spent, then 429 without one.
    const id = parseToken(live.token)?.id ?? '';
    const wrong = (): Promise<unknown> => tokens.verify(`berth_${id}_${generateToken().secret}`);
    for (let i = 0; i < 2; i++) await expect(wrong()).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    expect(hashes - hashesBefore).toBe(3);
    const limited = await wrong().catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: 'BERTH_AUTH_RATE_LIMITED', status: 429 });
    expect(retryAfterMsOf(limited as BerthError)).toBe(10_000);
    expect(hashes - hashesBefore).toBe(3);
    // ...and the holder of the real secret still gets in.
    await expect(tokens.verify(live.token)).resolves.toMatchObject({ name: 'root' });
    t = 10_000;
    await expect(wrong()).rejects.toMatchObject({ code: 'BERTH_AUTH_UNAUTHENTICATED' });
    expect(hashes - hashesBefore).toBe(4);
  });

  it('refuses "*" mixed with namespace names instead of widening to every namespace', async () => {
    const { tokens } = await open();
    const err = await tokens.create({ name: 'mixed', role: 'viewer', namespaces: ['a', '*'], createdBy: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BERTH_REQUEST_INVALID' });
    expect((err as BerthError).problems.map((p) => p.path)).toEqual(['/namespaces']);
    expect((err as BerthError).message).toContain('cannot be mixed');
    expect(await tokens.list()).toEqual([]);
    const all = await tokens.create({ name: 'all', role: 'viewer', namespaces: ['*'], createdBy: 'x' });
    expect(all.info.namespaces).toBe('*');
  });

  if (engine.name !== 'memory') {
    it('two concurrent creates of one name: exactly one wins', async () => {
      const { tokens } = await open();
      const results = await Promise.allSettled([1, 2, 3].map(() => tokens.create({ name: 'race', role: 'viewer', namespaces: ['web'], createdBy: 'a' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'BERTH_AUTH_TOKEN_EXISTS' });
    });
  }
});
