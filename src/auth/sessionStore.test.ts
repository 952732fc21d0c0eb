/**
 * The dashboard session store's contract on every engine (memory, SQLite, PostgreSQL): two session
 * stores on one app store are two replicas. What is stored (a hash and a sealed blob, never the cookie
 * or the credential), expiry, sign-out and token revocation seen by the other replica, the cap per
 * principal under concurrent sign-ins, and rows tampered with by someone with write access.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { DashboardSessionsTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore } from '../store/types.ts';
import type { Principal } from './policy.ts';
import type { SessionRow } from './sessionRows.ts';
import { sessionIdHash } from './sessionSeal.ts';
import { createSessionStore, type SessionStore, type SessionStoreOptions } from './sessionStore.ts';
import { TEST_SCRYPT } from './testing/testAuth.ts';
import { engineCases, manualClock, type TestStore } from './testing/testStores.ts';
import { createTokenStore, type TokenStore } from './tokenStore.ts';

const cases = await engineCases();

interface Stored {
  readonly idHash: string;
  readonly sealed: string;
  readonly principal: string;
}

/** Every stored row, as someone reading the database sees it. */
async function storedRows(store: AppStore): Promise<Stored[]> {
  return store.transaction(async (tx) => {
    if (store.engine === 'memory') return memoryTableOf<SessionRow>(tx, 'dashboard_sessions').map((r) => ({ idHash: r.idHash, sealed: r.sealed, principal: r.principal }));
    const rows = await sqlExecutorOf(tx).selectFrom('dashboard_sessions').selectAll().execute();
    return rows.map((r: DashboardSessionsTable) => ({ idHash: r.id_hash, sealed: r.sealed, principal: r.principal }));
  });
}

/** Writes `sealed` into the row of `idHash` directly, as someone with write access to the table. */
async function overwriteSealed(store: AppStore, idHash: string, sealed: string): Promise<void> {
  await store.transaction(async (tx) => {
    if (store.engine === 'memory') {
      const rows = memoryTableOf<SessionRow>(tx, 'dashboard_sessions');
      const i = rows.findIndex((r) => r.idHash === idHash);
      const row = rows[i];
      if (row !== undefined) rows[i] = { ...row, sealed };
      return;
    }
    await sql`update dashboard_sessions set sealed = ${sealed} where id_hash = ${idHash}`.execute(sqlExecutorOf(tx));
  });
}

describe.each(cases)('dashboard sessions on $name', (engine) => {
  let subject: TestStore | undefined;
  afterEach(async () => {
    await subject?.cleanup();
    subject = undefined;
  });

  async function open(opts: Omit<SessionStoreOptions, 'store' | 'clock'> = {}) {
    const clock = manualClock();
    subject = await engine.open(clock);
    const store = subject.store;
    const tokens: TokenStore = createTokenStore({ store, clock, scrypt: TEST_SCRYPT, cacheTtlMs: 0 });
    // Two replicas: two session stores, one database.
    const a: SessionStore = createSessionStore({ store, clock, ...opts });
    const b: SessionStore = createSessionStore({ store, clock, ...opts });
    const signIn = async (name: string, role: 'viewer' | 'admin' = 'viewer'): Promise<{ token: string; principal: Principal }> => {
      const token = (await tokens.create({ name, role, ...(role === 'admin' ? {} : { namespaces: ['a'] }), createdBy: 'test' })).token;
      return { token, principal: await tokens.verify(token) };
    };
    return { clock, store, tokens, a, b, signIn };
  }

  it('a session made on one replica opens on another; the store holds neither the cookie, the credential nor the CSRF token', async () => {
    const { store, a, b, signIn } = await open();
    const { token, principal } = await signIn('viewer');
    const s = await a.create(principal, token);
    expect(s.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await b.get(s.id)).toEqual(s);
    const rows = await storedRows(store);
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    // The secret is everything after the id: base64url, so it may itself contain '_'.
    for (const secret of [s.id, token, token.split('_').slice(2).join('_'), s.csrfToken]) expect(text).not.toContain(secret);
    expect(rows[0]?.idHash).toBe(sessionIdHash(s.id));
    // Each sign-in is its own session with its own CSRF token.
    const again = await b.create(principal, token);
    expect(again.id).not.toBe(s.id);
    expect(again.csrfToken).not.toBe(s.csrfToken);
    expect(await a.count()).toBe(2);
  });

  it('signing out on one replica ends the session on the other', async () => {
    const { a, b, signIn } = await open();
    const { token, principal } = await signIn('viewer');
    const s = await a.create(principal, token);
    await b.delete(s.id);
    expect(await a.get(s.id)).toBeUndefined();
    expect(await b.get(s.id)).toBeUndefined();
  });

  it('revoking the token ends its sessions on every replica at once, before their rows are deleted', async () => {
    const { a, b, tokens, signIn } = await open();
    const doomed = await signIn('doomed');
    const kept = await signIn('kept');
    const s1 = await a.create(doomed.principal, doomed.token);
    const s2 = await b.create(doomed.principal, doomed.token);
    const other = await a.create(kept.principal, kept.token);
    await tokens.revoke('doomed');
    expect(await b.get(s1.id)).toBeUndefined();
    expect(await a.get(s2.id)).toBeUndefined();
    expect(await b.get(other.id)).toBeDefined();
    expect(await a.count()).toBe(3);
    await a.revokeToken(doomed.principal.id ?? '');
    expect(await b.count()).toBe(1);
  });

  it('expires after maxAge or when its credential expires, whichever is first; expired sessions are swept at the next sign-in', async () => {
    const { clock, a, b, tokens, signIn } = await open({ maxAgeMs: 3_600_000 });
    const { token, principal } = await signIn('viewer');
    const s = await a.create(principal, token);
    expect(s.expiresAtMs - s.createdAtMs).toBe(3_600_000);
    const shortLived = (await tokens.create({ name: 'short', role: 'viewer', namespaces: ['a'], expiresAt: new Date(clock.now() + 60_000).toISOString(), createdBy: 'test' })).token;
    const short = await a.create(await tokens.verify(shortLived), shortLived);
    expect(short.expiresAtMs).toBe(clock.now() + 60_000);
    await clock.advance(60_000);
    expect(await b.get(short.id)).toBeUndefined();
    expect(await b.get(s.id)).toBeDefined();
    await clock.advance(3_540_000);
    expect(await b.get(s.id)).toBeUndefined();
    expect(await a.count()).toBe(0);
    await b.create(principal, token);
    expect(await a.count()).toBe(1);
  });

  it('caps sessions per principal across replicas, also when sign-ins race', async () => {
    const { clock, a, b, signIn } = await open({ maxPerPrincipal: 3, maxAgeMs: 60_000 });
    const viewer = await signIn('viewer');
    const admin = await signIn('root', 'admin');
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).create(viewer.principal, viewer.token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'BERTH_SESSION_TOO_MANY', status: 429 });
    // Another principal has its own allowance; a signed-out or expired session frees a place.
    await expect(a.create(admin.principal, admin.token)).resolves.toBeDefined();
    const first = results.find((r): r is PromiseFulfilledResult<Awaited<ReturnType<SessionStore['create']>>> => r.status === 'fulfilled');
    await b.delete(first?.value.id ?? '');
    await expect(a.create(viewer.principal, viewer.token)).resolves.toBeDefined();
    await expect(a.create(viewer.principal, viewer.token)).rejects.toMatchObject({ code: 'BERTH_SESSION_TOO_MANY' });
    await clock.advance(60_000);
    await expect(b.create(viewer.principal, viewer.token)).resolves.toBeDefined();
  });

  it('caps sessions in total', async () => {
    const { a, signIn } = await open({ maxTotal: 2 });
    const one = await signIn('one');
    const two = await signIn('two');
    await a.create(one.principal, one.token);
    await a.create(two.principal, two.token);
    await expect(a.create(one.principal, one.token)).rejects.toMatchObject({ code: 'BERTH_SESSION_TOO_MANY' });
  });

  it('attacks: the stored hash is no cookie, a malformed id opens nothing, and an admin\'s sealed row grafted onto a viewer\'s key does not open', async () => {
    const { store, a, b, signIn } = await open();
    const viewer = await signIn('viewer');
    const admin = await signIn('root', 'admin');
    const mine = await a.create(viewer.principal, viewer.token);
    const theirs = await a.create(admin.principal, admin.token);
    const rows = await storedRows(store);
    // A database reader presents a stored key as a cookie.
    for (const r of rows) expect(await b.get(r.idHash)).toBeUndefined();
    for (const bad of ['', 'x', `${mine.id}x`, mine.id.slice(1), '../'.repeat(15)]) expect(await b.get(bad)).toBeUndefined();
    // A viewer who can write the table copies the admin's sealed credential into its own row.
    const adminRow = rows.find((r) => r.idHash === sessionIdHash(theirs.id));
    await overwriteSealed(store, sessionIdHash(mine.id), adminRow?.sealed ?? '');
    expect(await b.get(mine.id)).toBeUndefined();
    // ...or flips one character of its own.
    const sealed = rows.find((r) => r.idHash === sessionIdHash(theirs.id))?.sealed ?? '';
    const flipped = `${sealed.slice(0, 20)}${sealed[20] === 'A' ? 'B' : 'A'}${sealed.slice(21)}`;
    await overwriteSealed(store, sessionIdHash(theirs.id), flipped);
    expect(await b.get(theirs.id)).toBeUndefined();
  });
});
