/**
 * Replays of attacks on the real server's authentication and audit log: a flood of bad tokens from
 * the address every client shares (an ingress) must not lock out valid tokens; a flood of anonymous
 * requests is rate-limited and adds a bounded number of aggregated audit rows; a token pasted
 * (percent-encoded) into a URL is neither echoed nor logged; the 401 message is readable; "a,*" does
 * not widen a token to every namespace.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, createLogger } from '../../src/api/buildServer.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import { createRateLimiter } from '../../src/auth/rateLimiter.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { generateToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** The real server with the production failed-auth limit (1 every 6 s, bursts of 20; time stands still) and captured logs. */
function server(): { app: FastifyInstance; auth: ReturnType<typeof testAuth>; logs: () => string } {
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const store = createMemoryAppStore();
  const config = loadConfig({ logLevel: 'info', reconcileIntervalMs: 3_600_000 }, {});
  const logger = createLogger(config, sink);
  const auth = testAuth(store, { logger });
  const app = buildServer(
    { store, cluster: emptyCluster(), status: idleStatus(), logger, auth: { ...auth, authFailureLimiter: createRateLimiter({ ratePerSecond: 1 / 6, burst: 20, now: () => 0 }) } },
    config,
  );
  apps.push(app);
  return { app, auth, logs: () => logs };
}

describe('failed authentications', () => {
  it('bad tokens from the admin’s own address never lock the admin out; only the failures get 429', async () => {
    const { app, auth } = server();
    const admin = await mintToken(auth.tokens, 'root', 'admin');
    const get = async (token?: string): Promise<number> => (await app.inject({ url: '/v1/apps', ...(token !== undefined ? { headers: bearer(token) } : {}) })).statusCode;
    // The reported attack: 21 bad tokens, then one every few requests, from the one shared address.
    const bad: number[] = [];
    for (let i = 0; i < 21; i++) bad.push(await get(generateToken().token));
    expect(bad.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(bad[20]).toBe(429);
    for (let i = 0; i < 20; i++) {
      expect(await get(generateToken().token)).toBe(429);
      expect(await get()).toBe(429);
      expect(await get(admin)).toBe(200);
    }
    // A valid token this server never verified before gets through as well.
    const fresh = await mintToken(auth.tokens, 'ci', 'viewer', ['a']);
    expect(await get(fresh)).toBe(200);
  });
});

describe('anonymous floods and the audit log', () => {
  it('1,000 anonymous GET /v1/apps are rate-limited and add a bounded number of rows whose counts sum to 1,000', async () => {
    const { app, auth } = server();
    const codes = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const status = (await app.inject({ url: '/v1/apps' })).statusCode;
      codes.set(status, (codes.get(status) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ 401: 20, 429: 980 });
    const before = (await auth.audit.query({ outcome: 'denied', limit: 1000 })).items;
    // The first denial of each kind is written at once.
    expect(before.map((r) => [r.statusCode, r.count])).toEqual([
      [429, 1],
      [401, 1],
    ]);
    await app.close();
    const rows = (await auth.audit.query({ outcome: 'denied', limit: 1000 })).items;
    expect(rows.length).toBeLessThanOrEqual(4);
    expect(rows.reduce((n, r) => n + r.count, 0)).toBe(1000);
    expect(rows.filter((r) => r.statusCode === 401).reduce((n, r) => n + r.count, 0)).toBe(20);
    expect(rows.every((r) => r.actor === 'anonymous' && r.sourceIp === '127.0.0.1' && r.action === 'apps:read')).toBe(true);
  });
});

describe('credentials in URLs and messages', () => {
  it('a token percent-encoded into a URL path is not echoed in the 404 and not logged', async () => {
    const { app, auth, logs } = server();
    const token = await mintToken(auth.tokens, 'root', 'admin');
    const secret = token.slice('berth_'.length + 17);
    const encoded = [...token].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`).join('');
    for (const url of [`/v1/${encoded}`, `/v1/${token.replaceAll('_', '%5F')}/x`, `/v1/x/${token}`]) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'BERTH_ROUTE_NOT_FOUND' } });
      for (const leak of [secret, secret.slice(0, 12), encoded.slice(40, 80), token.replaceAll('_', '%5F').slice(20)]) expect(res.body).not.toContain(leak);
    }
    expect(logs()).toContain('/v1/');
    for (const leak of [secret.slice(0, 12), encoded.slice(40, 80), token.replaceAll('_', '%5F').slice(20)]) expect(logs()).not.toContain(leak);
  });

  it('the 401 message reaches the caller unmangled', async () => {
    const { app } = server();
    const res = await app.inject({ url: '/v1/apps' });
    expect(res.json()).toMatchObject({ error: { code: 'BERTH_AUTH_UNAUTHENTICATED', message: 'This route needs credentials: send Authorization: Bearer <token>.' } });
  });

  it('a token for ["a","*"] is refused, not widened to every namespace', async () => {
    const { app, auth } = server();
    const admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
    const mixed = await app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { name: 'ci', role: 'deployer', namespaces: ['a', '*'] } });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json()).toMatchObject({ error: { code: 'BERTH_REQUEST_INVALID', problems: [{ path: '/namespaces' }] } });
    expect(await auth.tokens.list()).toHaveLength(1);
    const all = await app.inject({ method: 'POST', url: '/v1/tokens', headers: admin, payload: { name: 'ci', role: 'deployer', namespaces: ['*'] } });
    expect(all.statusCode).toBe(201);
  });
});
