/**
 * The auth plugin on a small Fastify app whose routes declare policies the way berth's routes do
 * (params / body / filter / none / public / stream), plus the real /v1/tokens and /v1/audit routes.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerErrorHandling } from '../api/errorHandler.ts';
import { createAuditLog, type AuditLog } from '../audit/auditLog.ts';
import { registerAuditRoutes } from '../audit/auditRoutes.ts';
import { BerthError } from '../errors.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import type { AppStore } from '../store/types.ts';
import type { CreateTokenResponse, TokenList } from './apiTypes.ts';
import { authPlugin, markAudited, routeTable, undeclaredRoutes, type AuthPluginOptions } from './authPlugin.ts';
import { canSee, type Principal } from './policy.ts';
import { createRateLimiter } from './rateLimiter.ts';
import { createStreamLimiter } from './streamLimiter.ts';
import { registerTokenRoutes } from './tokenRoutes.ts';
import { parseToken } from './tokens.ts';
import { createTokenStore, type TokenStore } from './tokenStore.ts';

const FAST = { N: 1024, r: 8, p: 1 };
const APPS = [
  { namespace: 'shop', name: 'api' },
  { namespace: 'web', name: 'ui' },
  { namespace: 'kube-system', name: 'dns' },
];

interface Harness {
  app: FastifyInstance;
  store: AppStore;
  tokens: TokenStore;
  audit: AuditLog;
  creds: Record<'admin' | 'deployer' | 'viewer', string>;
}

async function harness(extra: Partial<AuthPluginOptions> = {}): Promise<Harness> {
  const store = createMemoryAppStore();
  const audit = createAuditLog({ store });
  const tokens = createTokenStore({ store, scrypt: FAST, transaction: audit.transaction });
  // Hijacked stream replies never end on their own; close() must not wait for them.
  const app = Fastify({ forceCloseConnections: true });
  registerErrorHandling(app);
  await app.register(authPlugin, { tokens, audit, rateLimiter: createRateLimiter({ ratePerSecond: 1000, burst: 1000 }), ...extra });
  app.get('/healthz', { config: { policy: { public: true, why: 'liveness probes carry no credentials' } } }, async () => ({ status: 'ok' }));
  app.get('/metrics', { config: { policy: { action: 'metrics:read', namespaceFrom: 'none' } } }, async () => 'berth_up 1\n');
  app.get('/v1/apps', { config: { policy: { action: 'apps:read', namespaceFrom: 'filter' } } }, async (request) => ({
    items: APPS.filter((a) => canSee(request.principal, 'apps:read', a.namespace)),
  }));
  app.get('/v1/namespaces/:ns/apps/:name', { config: { policy: { action: 'apps:read', namespaceFrom: 'params' } } }, async (request) => request.params);
  app.put('/v1/namespaces/:ns/apps/:name', { config: { policy: { action: 'apps:write', namespaceFrom: 'params' } } }, async (request) => {
    const { ns, name } = request.params as { ns: string; name: string };
    const body = request.body as { fail?: boolean } | undefined;
    if (body?.fail) throw new BerthError('BERTH_SPEC_INVALID', 'bad spec');
    const p: Principal = request.principal;
    const revision = await audit.transaction(async (tx) => {
      const r = await tx.createRevision({ namespace: ns, name, spec: body ?? {}, action: 'deploy', diffSummary: 'created', actor: p.name });
      await audit.recordInTx(tx, { actor: p.name, actorKind: p.kind, sourceIp: request.ip, action: 'app.deploy', namespace: ns, app: name, revision: r.revision, outcome: 'succeeded', statusCode: 202, diffSummary: r.diffSummary, requestId: String(request.id) });
      return r.revision;
    });
    markAudited(request);
    return { revision };
  });
  app.post('/v1/apply', { config: { policy: { action: 'apps:write', namespaceFrom: 'body' } } }, async () => ({ ok: true }));
  app.get('/v1/namespaces/:ns/apps/:name/status/stream', { config: { policy: { action: 'status:read', namespaceFrom: 'params', stream: true } } }, async (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write(': open\n\n');
  });
  app.get('/v1/forgotten', async () => ({ leaked: true }));
  registerTokenRoutes(app, { tokens, audit });
  registerAuditRoutes(app, { audit });
  await app.ready();

  const mk = async (name: string, role: 'admin' | 'deployer' | 'viewer', namespaces?: string[]): Promise<string> =>
    (await tokens.create({ name, role, ...(namespaces ? { namespaces } : {}), createdBy: 'test' })).token;
  const creds = { admin: await mk('root', 'admin'), deployer: await mk('ci', 'deployer', ['shop']), viewer: await mk('eve', 'viewer', ['shop', 'web']) };
  return { app, store, tokens, audit, creds };
}

const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });

describe('auth plugin', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(async () => {
    await h.app.close();
  });

  it('route table: every route is listed with its policy; one without a policy is refused (fails closed)', async () => {
    expect(undeclaredRoutes(h.app)).toEqual(['GET /v1/forgotten']);
    expect(routeTable(h.app).map((r) => `${r.method} ${r.url}`)).toContain('POST /v1/tokens');
    const res = await h.app.inject({ method: 'GET', url: '/v1/forgotten', headers: bearer(h.creds.admin) });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('leaked');
  });

  type Who = 'anonymous' | 'badtoken' | 'viewer' | 'deployer' | 'admin';
  const cases: Array<[string, string, string, Record<Who, number>, unknown?]> = [
    ['GET', '/healthz', 'public', { anonymous: 200, badtoken: 200, viewer: 200, deployer: 200, admin: 200 }],
    ['GET', '/metrics', 'metrics public by default', { anonymous: 200, badtoken: 200, viewer: 200, deployer: 200, admin: 200 }],
    ['GET', '/v1/apps', 'filter', { anonymous: 401, badtoken: 401, viewer: 200, deployer: 200, admin: 200 }],
    ['GET', '/v1/namespaces/shop/apps/api', 'read in shop', { anonymous: 401, badtoken: 401, viewer: 200, deployer: 200, admin: 200 }],
    ['GET', '/v1/namespaces/web/apps/ui', 'read in web', { anonymous: 401, badtoken: 401, viewer: 200, deployer: 403, admin: 200 }],
    ['GET', '/v1/namespaces/kube-system/apps/dns', 'read in kube-system', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 403, admin: 200 }],
    ['PUT', '/v1/namespaces/shop/apps/api', 'deploy in shop', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 200, admin: 200 }, { image: 'x:1' }],
    ['PUT', '/v1/namespaces/web/apps/ui', 'deploy in web', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 403, admin: 200 }, { image: 'x:1' }],
    ['POST', '/v1/apply', 'body namespace shop', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 200, admin: 200 }, { kind: 'App', metadata: { name: 'a', namespace: 'shop' } }],
    ['POST', '/v1/apply', 'body namespace default', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 403, admin: 200 }, { kind: 'App', metadata: { name: 'a' } }],
    ['GET', '/v1/tokens', 'tokens', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 403, admin: 200 }],
    ['GET', '/v1/audit', 'audit', { anonymous: 401, badtoken: 401, viewer: 403, deployer: 403, admin: 200 }],
  ];

  it.each(cases)('%s %s (%s): every caller gets exactly the expected status', async (method, url, _what, expected, body) => {
    for (const who of Object.keys(expected) as Who[]) {
      const headers = who === 'anonymous' ? {} : who === 'badtoken' ? bearer('berth_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') : bearer(h.creds[who]);
      const res = await h.app.inject({ method: method as 'GET', url, headers, ...(body !== undefined ? { payload: body as object } : {}) });
      expect({ who, status: res.statusCode }).toEqual({ who, status: expected[who] });
      if (res.statusCode === 401) expect(res.json()).toMatchObject({ error: { code: 'BERTH_AUTH_UNAUTHENTICATED' } });
      if (res.statusCode === 403) expect(res.json()).toMatchObject({ error: { code: 'BERTH_AUTH_FORBIDDEN' } });
    }
  });

  it('lists are narrowed to the caller’s namespaces', async () => {
    const get = async (t: string): Promise<string[]> =>
      ((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer(t) })).json() as { items: Array<{ namespace: string }> }).items.map((a) => a.namespace);
    expect(await get(h.creds.viewer)).toEqual(['shop', 'web']);
    expect(await get(h.creds.deployer)).toEqual(['shop']);
    expect(await get(h.creds.admin)).toEqual(['shop', 'web', 'kube-system']);
  });

  it('audits every denied request and exactly one row per write (success or failure)', async () => {
    await h.app.inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/api', headers: bearer(h.creds.viewer), payload: {} });
    await h.app.inject({ method: 'GET', url: '/v1/namespaces/kube-system/apps/dns' });
    await h.app.inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/api', headers: bearer(h.creds.deployer), payload: { image: 'x:1' } });
    await h.app.inject({ method: 'PUT', url: '/v1/namespaces/shop/apps/api', headers: { ...bearer(h.creds.deployer), 'x-request-id': 'r-fail' }, payload: { fail: true } });
    const rows = (await h.audit.query()).items;
    expect(rows.map((r) => [r.actor, r.action, r.namespace, r.outcome, r.statusCode])).toEqual([
      ['ci', 'apps:write', 'shop', 'failed', 422],
      ['ci', 'app.deploy', 'shop', 'succeeded', 202],
      ['anonymous', 'apps:read', 'kube-system', 'denied', 401],
      ['eve', 'apps:write', 'shop', 'denied', 403],
    ]);
    expect(rows[2]?.sourceIp).toBe('127.0.0.1');
  });

  it('token routes: create shows the secret once, list never does, revoke takes effect at once; all audited', async () => {
    const created = (await h.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(h.creds.admin), payload: { name: 'deploy-bot', role: 'deployer', namespaces: ['web'] } })).json() as CreateTokenResponse;
    expect(created.info).toMatchObject({ name: 'deploy-bot', role: 'deployer', namespaces: ['web'], createdBy: 'root' });
    expect((await h.app.inject({ method: 'GET', url: '/v1/namespaces/web/apps/ui', headers: bearer(created.token) })).statusCode).toBe(200);
    const list = (await h.app.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(h.creds.admin) })).json() as TokenList;
    expect(list.items.map((t) => t.name).sort()).toEqual(['ci', 'deploy-bot', 'eve', 'root']);
    // The secret is base64url and may itself contain '_': take it through the real parser.
    expect(JSON.stringify(list)).not.toContain(parseToken(created.token)?.secret ?? 'unparseable token');
    expect((await h.app.inject({ method: 'DELETE', url: '/v1/tokens/deploy-bot', headers: bearer(h.creds.admin) })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/v1/namespaces/web/apps/ui', headers: bearer(created.token) })).statusCode).toBe(401);
    const dup = await h.app.inject({ method: 'POST', url: '/v1/tokens', headers: bearer(h.creds.admin), payload: { name: 'ci', role: 'viewer', namespaces: ['web'] } });
    expect(dup.statusCode).toBe(409);
    const rows = (await h.audit.query({ actor: 'root' })).items.map((r) => [r.action, r.outcome]);
    expect(rows).toEqual([
      ['tokens:admin', 'failed'],
      ['token.revoke', 'succeeded'],
      ['token.create', 'succeeded'],
    ]);
    const filtered = await h.app.inject({ method: 'GET', url: '/v1/audit?actor=root&limit=1', headers: bearer(h.creds.admin) });
    expect(filtered.json()).toMatchObject({ items: [{ action: 'tokens:admin' }], nextCursor: expect.any(String) as string });
  });

  it('sets security headers and never echoes credentials in errors', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer('berth_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toContain('AAAAAAAAAAAAAAAAAAAA');
    const rows = await h.audit.query();
    expect(JSON.stringify(rows)).not.toContain('AAAAAAAAAAAAAAAAAAAA');
  });
});

describe('auth plugin limits', () => {
  it('rate-limits per principal with 429 and Retry-After, other principals unaffected', async () => {
    let t = 0;
    const h = await harness({ rateLimiter: createRateLimiter({ ratePerSecond: 1, burst: 2, now: () => t }) });
    try {
      const call = async (tok: string): Promise<number> => (await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer(tok) })).statusCode;
      expect([await call(h.creds.viewer), await call(h.creds.viewer)]).toEqual([200, 200]);
      const limited = await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer(h.creds.viewer) });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBe('1');
      expect(limited.json()).toMatchObject({ error: { code: 'BERTH_AUTH_RATE_LIMITED' } });
      expect(await call(h.creds.admin)).toBe(200);
      t = 1000;
      expect(await call(h.creds.viewer)).toBe(200);
      expect((await h.audit.query({ outcome: 'denied' })).items.map((r) => [r.actor, r.statusCode])).toEqual([['eve', 429]]);
    } finally {
      await h.app.close();
    }
  });

  it('limits failed authentications per address: beyond the budget failures answer 429', async () => {
    const h = await harness({ authFailureLimiter: createRateLimiter({ ratePerSecond: 0.001, burst: 3, now: () => 0 }) });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer(`berth_0123456789abcdef_${'B'.repeat(43)}`) })).statusCode);
      expect(codes).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await h.app.close();
    }
  });

  it('caps open streams per principal and frees the slot when a stream closes', async () => {
    const h = await harness({ streamLimiter: createStreamLimiter({ maxPerKey: 1 }) });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    const url = `${base}/v1/namespaces/shop/apps/api/status/stream`;
    const first = new AbortController();
    try {
      const a = await fetch(url, { headers: bearer(h.creds.viewer), signal: first.signal });
      expect(a.status).toBe(200);
      const b = await fetch(url, { headers: bearer(h.creds.viewer) });
      expect(b.status).toBe(429);
      expect(((await b.json()) as { error: { code: string } }).error.code).toBe('BERTH_AUTH_TOO_MANY_STREAMS');
      const other = new AbortController();
      expect((await fetch(url, { headers: bearer(h.creds.admin), signal: other.signal })).status).toBe(200);
      other.abort();
      first.abort();
      // The server sees the close asynchronously.
      for (let i = 0; i < 100; i++) {
        const c = await fetch(url, { headers: bearer(h.creds.viewer), signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        if (c?.status === 200) {
          await c.body?.cancel();
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error("the stream slot was never released");
    } finally {
      first.abort();
      await h.app.close();
    }
  });

  it('metrics can be protected; OIDC principals go through the same checks', async () => {
    const oidc = {
      async verify(token: string): Promise<Principal> {
        if (token === 'jwt-ok') return { kind: 'oidc', name: 'alice@example.test', role: 'viewer', namespaces: new Set(['web']) };
        if (token === 'jwt-nogroup') throw new BerthError('BERTH_AUTH_FORBIDDEN', 'no role mapped');
        throw new BerthError('BERTH_AUTH_UNAUTHENTICATED', 'bad jwt');
      },
    };
    const h = await harness({ metrics: 'protected', oidc });
    try {
      expect((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await h.app.inject({ method: 'GET', url: '/metrics', headers: bearer(h.creds.deployer) })).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: '/metrics', headers: bearer(h.creds.admin) })).statusCode).toBe(200);
      expect((await h.app.inject({ method: 'GET', url: '/v1/namespaces/web/apps/ui', headers: bearer('jwt-ok') })).statusCode).toBe(200);
      expect((await h.app.inject({ method: 'GET', url: '/v1/namespaces/shop/apps/api', headers: bearer('jwt-ok') })).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer('jwt-nogroup') })).statusCode).toBe(403);
      expect((await h.app.inject({ method: 'GET', url: '/v1/apps', headers: bearer('jwt-bad') })).statusCode).toBe(401);
      const denied = (await h.audit.query({ outcome: 'denied' })).items.map((r) => [r.actor, r.statusCode]);
      expect(denied).toContainEqual(['alice@example.test', 403]);
    } finally {
      await h.app.close();
    }
  });
});
