/**
 * The route × role × namespace matrix of the REAL berth server (buildServer, memory store, the real
 * auth plugin, token and audit routes), over HTTP on 127.0.0.1: every route the server registers is
 * called as anonymous, with a bad token, as viewer of namespace a, deployer of namespace a and admin,
 * against namespace a and namespace b. A route without a declared policy, a policy other than the
 * one this file expects, or a caller let through (or kept out) wrongly fails the test. The cluster and
 * status engine are test doubles; test/api/securityStreams.int.test.ts runs the real status engine.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import type { AppList } from '../../src/api/types.ts';
import { routeTable, undeclaredRoutes, type DeclaredPolicy } from '../../src/auth/authPlugin.ts';
import type { Action, Role } from '../../src/auth/policy.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import type { AppStore } from '../../src/store/types.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import { sampleRun } from '../../src/load/testing/sampleRun.ts';

/**
 * What each route must declare, written from the issue, not read from the code: "viewer (apps,
 * status, streams, logs, history in granted namespaces), deployer (+ deploy, rollback, delete),
 * admin (+ tokens, audit, all namespaces)". `filter`: spans namespaces, items filtered per caller.
 */
const EXPECTED: Readonly<Record<string, string>> = {
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /openapi.json': 'public',
  'GET /metrics': 'metrics:read none',
  'POST /v1/render': 'spec:render none',
  'GET /v1/apps': 'apps:read filter',
  'GET /v1/namespaces/:ns/apps': 'apps:read params',
  'PUT /v1/namespaces/:ns/apps/:name': 'apps:write params',
  'GET /v1/namespaces/:ns/apps/:name': 'apps:read params',
  'DELETE /v1/namespaces/:ns/apps/:name': 'apps:delete params',
  'GET /v1/namespaces/:ns/apps/:name/revisions': 'apps:read params',
  'POST /v1/namespaces/:ns/apps/:name/rollback': 'apps:write params',
  'GET /v1/stacks': 'apps:read filter',
  'GET /v1/namespaces/:ns/stacks': 'apps:read params',
  'PUT /v1/namespaces/:ns/stacks/:name': 'apps:write params',
  'GET /v1/namespaces/:ns/stacks/:name': 'apps:read params',
  'GET /v1/namespaces/:ns/stacks/:name/status': 'apps:read params',
  'GET /v1/namespaces/:ns/stacks/:name/revisions': 'apps:read params',
  'POST /v1/namespaces/:ns/stacks/:name/rollback': 'apps:write params',
  'POST /v1/namespaces/:ns/stacks/:name/rotate': 'apps:write params',
  'DELETE /v1/namespaces/:ns/stacks/:name': 'apps:delete params',
  'POST /v1/namespaces/:ns/stacks/:name/diff': 'apps:diff params',
  'POST /v1/namespaces/:ns/apps/:name/diff': 'apps:diff params',
  'GET /v1/namespaces/:ns/apps/:name/status': 'status:read params',
  'GET /v1/namespaces/:ns/apps/:name/status/stream': 'status:read params stream',
  'GET /v1/events/stream': 'status:read filter stream',
  'GET /v1/namespaces/:ns/apps/:name/logs': 'logs:read params stream',
  'GET /v1/alerts': 'apps:read filter',
  'GET /v1/namespaces/:ns/apps/:name/alerts': 'apps:read params',
  'GET /v1/namespaces/:ns/apps/:name/health': 'apps:read params',
  'GET /v1/namespaces/:ns/apps/:name/health/series': 'apps:read params',
  'POST /v1/tokens': 'tokens:admin none',
  'GET /v1/tokens': 'tokens:admin none',
  'DELETE /v1/tokens/:nameOrId': 'tokens:admin none',
  'GET /v1/audit': 'audit:read none',
  // The dashboard: sign-in checks the credential in its body; its page and the App schema hold no data.
  'POST /v1/session': 'public',
  'GET /v1/session': 'public',
  'DELETE /v1/session': 'public',
  'GET /v1/schema/app': 'public',
  'GET /': 'public',
  'GET /assets/:file': 'public',
  // One stream per tab; each subscription on it is authorized for its own namespace (test/api/liveStream.test.ts).
  'GET /v1/live': 'status:read filter stream',
  'POST /v1/live/:streamId/subscriptions': 'status:read filter',
  'DELETE /v1/live/:streamId/subscriptions/:subId': 'status:read filter',
  // Load runs: a deployer records what `berth load` measured; a viewer reads them.
  'POST /v1/namespaces/:ns/apps/:name/loadruns': 'loadruns:write params',
  'GET /v1/namespaces/:ns/apps/:name/loadruns': 'apps:read params',
  'GET /v1/namespaces/:ns/apps/:name/loadruns/:id': 'apps:read params',
  'POST /v1/namespaces/:ns/apps/:name/loadjobs': 'loadjobs:run params stream',
};

/** The least role of each action (independent of src/auth/policy.ts). */
const MIN_ROLE: Readonly<Record<Action, Role>> = {
  'apps:read': 'viewer',
  'status:read': 'viewer',
  'logs:read': 'viewer',
  'spec:render': 'viewer',
  'apps:diff': 'deployer',
  'apps:write': 'deployer',
  'apps:delete': 'deployer',
  'loadruns:write': 'deployer',
  'loadjobs:run': 'deployer',
  'metrics:read': 'viewer',
  'tokens:admin': 'admin',
  'audit:read': 'admin',
};
const CLUSTER_WIDE: ReadonlySet<Action> = new Set<Action>(['tokens:admin', 'audit:read', 'metrics:read']);
const RANK: Readonly<Record<Role, number>> = { viewer: 0, deployer: 1, admin: 2 };

type CallerName = 'anonymous' | 'bad token' | 'viewer(a)' | 'deployer(a)' | 'admin';
interface Caller {
  readonly name: CallerName;
  readonly role: Role | null;
  readonly headers: Record<string, string>;
}

const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';
const isDocs = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

function describePolicy(p: DeclaredPolicy | undefined): string {
  if (p === undefined) return 'undeclared';
  if ('public' in p) return 'public';
  return `${p.action} ${p.namespaceFrom}${p.stream === true ? ' stream' : ''}`;
}

let app: FastifyInstance;
let store: AppStore;
let url: string;
let callers: Caller[];

async function seed(): Promise<void> {
  for (const ns of ['a', 'b']) {
    if (!(await store.getApp(ns, 'web'))) {
      await store.createRevision({ namespace: ns, name: 'web', spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: ns }, spec: { image: 'nginx:1.27' } }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
    }
  }
}

beforeAll(async () => {
  store = createMemoryAppStore();
  const auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 10_000, burst: 10_000 }, maxStreamsPerPrincipal: 100 }, {});
  app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth }, config);
  url = await listen(app, config);
  callers = [
    { name: 'anonymous', role: null, headers: {} },
    { name: 'bad token', role: null, headers: bearer(`berth_0123456789abcdef_${'A'.repeat(43)}`) },
    { name: 'viewer(a)', role: 'viewer', headers: bearer(await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a'])) },
    { name: 'deployer(a)', role: 'deployer', headers: bearer(await mintToken(auth.tokens, 'deployer-a', 'deployer', ['a'])) },
    { name: 'admin', role: 'admin', headers: bearer(await mintToken(auth.tokens, 'root', 'admin')) },
  ];
  await seed();
});

afterAll(async () => {
  await app?.close();
});

let tokenCounter = 0;

/** A request each route accepts when the caller is allowed (bodies that validate). */
function requestFor(method: string, route: string, ns: string): { path: string; body?: string; contentType?: string } {
  const path = route.replace(':ns', ns).replace(':name', 'web').replace(':nameOrId', 'no-such-token').replace(':id', 'no-such-run').replace('*', 'index.css');
  if (method === 'PUT' || route.endsWith('/diff') || route === '/v1/render') return { path, body: APP, contentType: 'application/yaml' };
  if (route.endsWith('/loadruns') && method === 'POST') return { path, body: JSON.stringify(sampleRun()), contentType: 'application/json' };
  // The test cluster has no Service for web: an allowed caller gets 422 BERTH_LOAD_TARGET_UNRESOLVED, and no Job.
  if (route.endsWith('/loadjobs')) return { path, body: JSON.stringify({ rate: '5', duration: '1s', concurrency: '8', timeout: '2s', method: 'GET', header: [], path: [], failOn: [], record: false }), contentType: 'application/json' };
  if (route.endsWith('/rollback')) return { path, body: JSON.stringify({ revision: 1 }), contentType: 'application/json' };
  if (route === '/v1/tokens' && method === 'POST') return { path, body: JSON.stringify({ name: `made-${++tokenCounter}`, role: 'viewer', namespaces: ['a'] }), contentType: 'application/json' };
  return { path };
}

/** The status a caller gets; streams are closed as soon as their headers arrive. */
async function call(caller: Caller, method: string, route: string, ns: string): Promise<number> {
  const r = requestFor(method, route, ns);
  const abort = new AbortController();
  const res = await fetch(`${url}${r.path}`, {
    method,
    headers: { ...caller.headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
    ...(r.body !== undefined ? { body: r.body } : {}),
    signal: abort.signal,
  });
  const streaming = (res.headers.get('content-type') ?? '').includes('text/event-stream');
  if (streaming) abort.abort();
  else await res.text();
  return res.status;
}

/** allowed / 401 / 403 from the rules. */
function expectedFor(caller: Caller, policy: string, ns: string): 'allowed' | 401 | 403 | 'unknown route' {
  if (policy === 'unknown route') return policy;
  if (policy === 'public') return 'allowed';
  const [action, from] = policy.split(' ') as [Action, string];
  // /metrics is public unless configured "protected" (its own test below).
  if (action === 'metrics:read') return 'allowed';
  if (caller.role === null) return 401;
  if (RANK[caller.role] < RANK[MIN_ROLE[action]]) return 403;
  if (caller.role !== 'admin' && CLUSTER_WIDE.has(action)) return 403;
  if (from === 'params' && caller.role !== 'admin' && ns !== 'a') return 403;
  return 'allowed';
}

describe('every route declares the expected policy', () => {
  it('no route of the real server lacks a policy, and each declares what the issue says', () => {
    expect(undeclaredRoutes(app)).toEqual([]);
    const table = routeTable(app);
    const declared = new Map(table.map((r) => [`${r.method} ${r.url}`, describePolicy(r.policy)]));
    for (const [key, policy] of declared) {
      const routeUrl = key.slice(key.indexOf(' ') + 1);
      if (isDocs(routeUrl)) expect(policy, key).toBe('public');
      else expect(policy, `${key} declares "${policy}"; EXPECTED (the issue) says ${EXPECTED[key] ?? 'nothing: a new route? add it'}`).toBe(EXPECTED[key]);
    }
    for (const key of Object.keys(EXPECTED)) expect(declared.has(key), `${key} is not registered any more`).toBe(true);
  });
});

describe('route × role × namespace', () => {
  it('lets exactly the right callers through on every route, and records every denial', async () => {
    // Repeated denials are aggregated into rows with a count: the counts, once flushed, are what must add up.
    const deniedCount = async (): Promise<number> => {
      await serverContext(app).audit.flush();
      return (await serverContext(app).audit.query({ outcome: 'denied', limit: 1000 })).items.reduce((n, r) => n + r.count, 0);
    };
    const deniedBefore = await deniedCount();
    const failures: string[] = [];
    let denials = 0;
    for (const route of routeTable(app)) {
      // The expectation comes from EXPECTED (the issue), never from what the route declares.
      const policy = isDocs(route.url) ? 'public' : (EXPECTED[`${route.method} ${route.url}`] ?? 'unknown route');
      for (const ns of ['a', 'b']) {
        for (const caller of callers) {
          await seed();
          const status = await call(caller, route.method, route.url, ns);
          const want = expectedFor(caller, policy, ns);
          const got = status === 401 || status === 403 ? status : status === 429 ? 'rate limited' : 'allowed';
          if (status === 401 || status === 403) denials++;
          if (got !== want) failures.push(`${route.method} ${route.url} [${policy}] as ${caller.name} in ${ns}: expected ${want}, got ${status}`);
        }
      }
    }
    expect(failures).toEqual([]);
    // Every 401/403 above is counted in a "denied" row of the audit log.
    const deniedAfter = await deniedCount();
    expect(deniedAfter - deniedBefore).toBe(denials);
    expect(denials).toBeGreaterThan(100);
  });

  it('lists only the namespaces a caller may see', async () => {
    await seed();
    const names = async (caller: Caller, query = ''): Promise<string[]> => {
      const res = await fetch(`${url}/v1/apps${query}`, { headers: caller.headers });
      return ((await res.json()) as AppList).items.map((i) => `${i.namespace}/${i.name}`);
    };
    const [, , viewer, deployer, admin] = callers as [Caller, Caller, Caller, Caller, Caller];
    expect(await names(viewer)).toEqual(['a/web']);
    expect(await names(deployer)).toEqual(['a/web']);
    expect(await names(viewer, '?namespace=b')).toEqual([]);
    expect(await names(admin)).toEqual(['a/web', 'b/web']);
  });

  it('the actor of a revision is the authenticated token, whatever x-berth-actor says', async () => {
    const [, , , deployer] = callers as [Caller, Caller, Caller, Caller];
    const res = await fetch(`${url}/v1/namespaces/a/apps/actor-check`, {
      method: 'PUT',
      headers: { ...deployer.headers, 'content-type': 'application/yaml', 'x-berth-actor': 'mallory' },
      body: APP.replace('name: web', 'name: actor-check'),
    });
    expect(res.status).toBe(202);
    expect((await store.getApp('a', 'actor-check'))?.updatedBy).toBe('deployer-a');
  });
});

describe('/metrics by configuration', () => {
  const build = async (metrics: 'protected' | 'off'): Promise<{ server: FastifyInstance; viewer: string; admin: string }> => {
    const s = createMemoryAppStore();
    const auth = testAuth(s);
    const server = buildServer({ store: s, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth }, loadConfig({ logLevel: 'silent', metrics, reconcileIntervalMs: 3_600_000 }, {}));
    await server.ready();
    return { server, viewer: await mintToken(auth.tokens, 'v', 'viewer', ['a']), admin: await mintToken(auth.tokens, 'root', 'admin') };
  };

  it('protected: 401 without a token, 403 for a viewer of one namespace (metrics name every app), 200 for an all-namespace token', async () => {
    const { server, viewer, admin } = await build('protected');
    try {
      expect((await server.inject({ url: '/metrics' })).statusCode).toBe(401);
      expect((await server.inject({ url: '/metrics', headers: bearer(viewer) })).statusCode).toBe(403);
      expect((await server.inject({ url: '/metrics', headers: bearer(admin) })).statusCode).toBe(200);
      expect((await server.inject({ url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('off: no /metrics route at all', async () => {
    const { server, admin } = await build('off');
    try {
      expect((await server.inject({ url: '/metrics', headers: bearer(admin) })).statusCode).toBe(404);
      expect(routeTable(server).some((r) => r.url === '/metrics')).toBe(false);
    } finally {
      await server.close();
    }
  });
});
