/**
 * Dashboard sessions behind a load balancer: two berth servers, each with its own store connection
 * pool, token store and audit log, on one PostgreSQL database (as two replicas are). A browser signed in
 * through A is signed in on B; signing out on B signs it out on A; revoking its token through A ends
 * it on B at once (B's token cache would otherwise still accept the credential for 10 s). Attacks: an
 * anonymous client with a forged cookie or a stored key, a replayed cookie after sign-out, and a viewer
 * who can write the sessions table grafting an admin's row onto its own cookie.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import type { SessionInfo, SessionStatus } from '../../src/auth/apiTypes.ts';
import { sessionIdHash } from '../../src/auth/sessionSeal.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createAppStore } from '../../src/store/createAppStore.ts';
import { sqlExecutorOf } from '../../src/store/sqlAppStore.ts';
import { adminQuery, databaseUrl, havePostgres } from '../../src/store/testing/testPostgres.ts';
import type { AppStore } from '../../src/store/types.ts';

const pgUp = await havePostgres('dashboard sessions shared by two servers');

describe.skipIf(!pgUp)('dashboard sessions shared by two servers on one PostgreSQL', () => {
  const db = `berth_sessions_${randomBytes(6).toString('hex')}`;
  const stores: AppStore[] = [];
  let a: FastifyInstance;
  let b: FastifyInstance;
  let urlA: string;
  let urlB: string;
  const tokens = { viewer: '', admin: '', doomed: '' };

  const server = async (): Promise<{ app: FastifyInstance; url: string }> => {
    const store = createAppStore(databaseUrl(db));
    stores.push(store);
    const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, databaseUrl: databaseUrl(db) }, {});
    const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }) }, config, { heartbeatMs: 60_000 });
    return { app, url: await listen(app, config) };
  };

  beforeAll(async () => {
    await adminQuery(`create database ${db}`);
    ({ app: a, url: urlA } = await server());
    ({ app: b, url: urlB } = await server());
    // Minted with a cheap scrypt through a third connection; the servers verify with their own token stores.
    const minter = createAppStore(databaseUrl(db));
    stores.push(minter);
    const { tokens: mint } = testAuth(minter);
    tokens.viewer = await mintToken(mint, 'viewer', 'viewer', ['a']);
    tokens.admin = await mintToken(mint, 'root', 'admin');
    tokens.doomed = await mintToken(mint, 'doomed', 'viewer', ['a']);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await Promise.all(stores.map((s) => s.close()));
    await adminQuery(`drop database if exists ${db} with (force)`);
  });

  async function signIn(url: string, token: string): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token }) });
    expect(res.status).toBe(201);
    const info = (await res.json()) as SessionInfo;
    return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '', csrf: info.csrfToken };
  }
  const session = async (url: string, cookie: string): Promise<SessionStatus> => (await (await fetch(`${url}/v1/session`, { headers: { cookie } })).json()) as SessionStatus;
  const apps = async (url: string, cookie: string): Promise<number> => (await fetch(`${url}/v1/apps`, { headers: { cookie } })).status;

  it('a session signed in through A is accepted by B, with the same CSRF token; signing out on B signs out everywhere', async () => {
    const browser = await signIn(urlA, tokens.viewer);
    const onB = await session(urlB, browser.cookie);
    expect(onB).toMatchObject({ signedIn: true, principal: { name: 'viewer', role: 'viewer' }, csrfToken: browser.csrf });
    expect(await apps(urlB, browser.cookie)).toBe(200);
    // A state-changing request on B needs A's session's CSRF token: B knows it.
    expect((await fetch(`${urlB}/v1/session`, { method: 'DELETE', headers: { cookie: browser.cookie, origin: urlB } })).status).toBe(403);
    expect((await fetch(`${urlB}/v1/session`, { method: 'DELETE', headers: { cookie: browser.cookie, 'x-berth-csrf': browser.csrf, origin: urlB } })).status).toBe(204);
    expect(await session(urlA, browser.cookie)).toEqual({ signedIn: false });
    expect(await apps(urlA, browser.cookie)).toBe(401);
    expect(await apps(urlB, browser.cookie)).toBe(401);
  });

  it('revoking the token through A ends its session on B at once, though B verified the credential a moment ago', async () => {
    const browser = await signIn(urlA, tokens.doomed);
    expect(await apps(urlB, browser.cookie)).toBe(200);
    expect((await fetch(`${urlA}/v1/tokens/doomed`, { method: 'DELETE', headers: bearer(tokens.admin) })).status).toBe(200);
    expect(await apps(urlB, browser.cookie)).toBe(401);
    expect(await session(urlB, browser.cookie)).toEqual({ signedIn: false });
  });

  it('attacks: a forged cookie, a stored key used as a cookie and a replayed signed-out cookie are anonymous on both', async () => {
    const admin = await signIn(urlA, tokens.admin);
    for (const url of [urlA, urlB]) {
      expect(await apps(url, `berth_session=${'A'.repeat(43)}`)).toBe(401);
      expect(await apps(url, `berth_session=${sessionIdHash(admin.cookie.split('=')[1] ?? '')}`)).toBe(401);
    }
    // Anonymous with the leaked CSRF token alone gets nothing either.
    const forged = await fetch(`${urlB}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-berth-csrf': admin.csrf, origin: urlB }, body: JSON.stringify({ name: 'x', role: 'admin' }) });
    expect(forged.status).toBe(401);
    await fetch(`${urlA}/v1/session`, { method: 'DELETE', headers: { cookie: admin.cookie, 'x-berth-csrf': admin.csrf, origin: urlA } });
    expect(await apps(urlB, admin.cookie)).toBe(401);
  });

  it('attacks: a viewer who can write the sessions table copies an admin\'s sealed row onto its own cookie and gets nothing', async () => {
    const admin = await signIn(urlA, tokens.admin);
    const viewer = await signIn(urlB, tokens.viewer);
    const store = stores[stores.length - 1];
    if (store === undefined) throw new Error('no store');
    const idOf = (cookie: string): string => cookie.split('=')[1] ?? '';
    await store.transaction(async (tx) => {
      const q = sqlExecutorOf(tx);
      await sql`update dashboard_sessions set sealed = (select sealed from dashboard_sessions where id_hash = ${sessionIdHash(idOf(admin.cookie))}), principal = 'token:x', token_id = null where id_hash = ${sessionIdHash(idOf(viewer.cookie))}`.execute(q);
    });
    for (const url of [urlA, urlB]) {
      expect((await fetch(`${url}/v1/tokens`, { headers: { cookie: viewer.cookie } })).status).toBe(401);
      expect(await session(url, viewer.cookie)).toEqual({ signedIn: false });
    }
    // The admin's own session is untouched.
    expect((await fetch(`${urlB}/v1/tokens`, { headers: { cookie: admin.cookie } })).status).toBe(200);
  });
});
