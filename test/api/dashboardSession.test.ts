/**
 * The dashboard's sign-in and live stream under attack, over real sockets: an anonymous client, a
 * viewer and a deployer of namespace "a" try to read namespace "b" through the live stream, drive
 * another caller's stream, forge a deploy with the victim's cookie (CSRF), fixate a session id, and
 * keep using a session whose token was revoked.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import type { SessionInfo, SessionStatus } from '../../src/auth/apiTypes.ts';
import { bearer, mintToken, testAuth, type TestAuth } from '../../src/auth/testing/testAuth.ts';
import type { ClusterClient } from '../../src/cluster/clusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { AppStatus } from '../../src/status/types.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

let app: FastifyInstance;
let url: string;
let auth: TestAuth;
const status = idleStatus();
const logStreams: PassThrough[] = [];
const tokens: Record<'viewerA' | 'deployerA' | 'admin', string> = { viewerA: '', deployerA: '', admin: '' };

function cluster(): ClusterClient {
  return {
    ...emptyCluster(),
    listPods: async () => [{ name: 'web-1', containers: ['app'], creationTimestamp: null }],
    async streamLogs(_req, signal): Promise<Readable> {
      const s = new PassThrough();
      signal.addEventListener('abort', () => s.end(), { once: true });
      logStreams.push(s);
      return s;
    },
  };
}

const statusOf = (namespace: string): AppStatus => ({
  namespace,
  name: 'web',
  revision: 1,
  state: 'Available',
  reason: 'Ready',
  message: `secret-of-${namespace}`,
  replicas: { desired: 1, ready: 1, updated: 1, available: 1, unavailable: 0 },
  pods: [],
  warnings: [],
  observedAt: new Date().toISOString(),
});

const APP = (ns: string) => ({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: ns }, spec: { image: 'nginx:1.27' } });

beforeAll(async () => {
  const store = createMemoryAppStore();
  auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  app = buildServer({ store, cluster: cluster(), status, logger: pino({ level: 'silent' }), auth }, config, { heartbeatMs: 60_000 });
  url = await listen(app, config);
  for (const ns of ['a', 'b']) await store.createRevision({ namespace: ns, name: 'web', spec: APP(ns), action: 'deploy', diffSummary: 'created', actor: 'seed' });
  tokens.viewerA = await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a']);
  tokens.deployerA = await mintToken(auth.tokens, 'deployer-a', 'deployer', ['a']);
  tokens.admin = await mintToken(auth.tokens, 'root', 'admin');
});

afterAll(async () => {
  await app.close();
});

/** A browser's session: the cookie as the server set it, and the CSRF token of the answer. */
interface Browser {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
}

async function signIn(token: string, headers: Record<string, string> = {}): Promise<Browser> {
  const res = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url, ...headers }, body: JSON.stringify({ token }) });
  expect(res.status).toBe(201);
  const setCookie = res.headers.get('set-cookie') ?? '';
  const info = (await res.json()) as SessionInfo;
  return { cookie: setCookie.split(';')[0] ?? '', csrf: info.csrfToken, setCookie };
}

interface Live {
  readonly streamId: string;
  text(): string;
  ended(ms: number): Promise<void>;
  close(): void;
}

async function openLive(headers: Record<string, string>): Promise<Live> {
  const abort = new AbortController();
  const res = await fetch(`${url}/v1/live`, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  let received = '';
  const decoder = new TextDecoder();
  const done = (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += decoder.decode(chunk, { stream: true });
    } catch {
      // aborted
    }
  })();
  await until(() => received.includes('event: hello'), 'hello');
  const streamId = /"streamId":"([0-9a-f-]+)"/.exec(received)?.[1] ?? '';
  return {
    streamId,
    text: () => received,
    ended: (ms) => Promise.race([done, new Promise<void>((_r, reject) => setTimeout(() => reject(new Error('stream still open')), ms))]),
    close: () => abort.abort(),
  };
}

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 150 && !fn(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!fn()) throw new Error(`timed out waiting for ${what}`);
}

const subscribe = (streamId: string, headers: Record<string, string>, body: unknown): Promise<Response> =>
  fetch(`${url}/v1/live/${streamId}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) and never echoes the token', async () => {
    const res = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url }, body: JSON.stringify({ token: tokens.viewerA }) });
    const text = await res.text();
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(res.status).toBe(201);
    expect(setCookie).toMatch(/^berth_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(text).not.toContain(tokens.viewerA);
    expect(setCookie).not.toContain(tokens.viewerA);
    expect(JSON.parse(text)).toMatchObject({ signedIn: true, principal: { kind: 'token', name: 'viewer-a', role: 'viewer', namespaces: ['a'] } });
  });

  it('refuses a wrong token (401, audited) and a sign-in posted from another origin (login CSRF)', async () => {
    const bad = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: `berth_0123456789abcdef_${'A'.repeat(43)}` }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const cross = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify({ token: tokens.viewerA }) });
    expect(cross.status).toBe(403);
    expect(((await cross.json()) as { error: { code: string } }).error.code).toBe('BERTH_SESSION_CSRF');
    const form = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${tokens.viewerA}` });
    expect(form.status).toBeGreaterThanOrEqual(400);
    await serverContext(app).audit.flush();
    const denied = await serverContext(app).audit.query({ outcome: 'denied', limit: 100 });
    expect(denied.items.some((r) => r.action === 'session.create')).toBe(true);
  });

  it('cannot be fixated: a session id the client brings is never adopted, and the new one is fresh', async () => {
    const chosen = 'A'.repeat(43);
    const b = await signIn(tokens.viewerA, { cookie: `berth_session=${chosen}` });
    expect(b.cookie).not.toBe(`berth_session=${chosen}`);
    const withChosen = await fetch(`${url}/v1/apps`, { headers: { cookie: `berth_session=${chosen}` } });
    expect(withChosen.status).toBe(401);
    // Signing in again replaces the old session: the previous id stops working.
    const again = await signIn(tokens.viewerA, { cookie: b.cookie });
    expect(again.cookie).not.toBe(b.cookie);
    expect((await fetch(`${url}/v1/apps`, { headers: { cookie: b.cookie } })).status).toBe(401);
    expect((await fetch(`${url}/v1/apps`, { headers: { cookie: again.cookie } })).status).toBe(200);
  });
});

describe('CSRF', () => {
  it('a deploy with the victim\'s cookie but without the CSRF token, or from another origin, is refused and changes nothing', async () => {
    const victim = await signIn(tokens.deployerA);
    const put = (headers: Record<string, string>) =>
      fetch(`${url}/v1/namespaces/a/apps/forged`, { method: 'PUT', headers: { 'content-type': 'application/json', cookie: victim.cookie, ...headers }, body: JSON.stringify({ ...APP('a'), metadata: { name: 'forged', namespace: 'a' } }) });
    const noToken = await put({ origin: url });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { error: { code: string } }).error.code).toBe('BERTH_SESSION_CSRF');
    expect((await put({ 'x-berth-csrf': 'x'.repeat(43), origin: url })).status).toBe(403);
    expect((await put({ 'x-berth-csrf': victim.csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await put({ 'x-berth-csrf': victim.csrf, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await serverContext(app).store.getApp('a', 'forged')).toBeUndefined();
    // The dashboard itself: cookie + its CSRF token from its own origin.
    expect((await put({ 'x-berth-csrf': victim.csrf, origin: url, 'sec-fetch-site': 'same-origin' })).status).toBe(202);
    // A rollback and a token creation are state-changing too.
    const rb = await fetch(`${url}/v1/namespaces/a/apps/web/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: victim.cookie }, body: JSON.stringify({ revision: 1 }) });
    expect(rb.status).toBe(403);
    const admin = await signIn(tokens.admin);
    const tok = await fetch(`${url}/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: admin.cookie }, body: JSON.stringify({ name: 'csrf-made', role: 'admin' }) });
    expect(tok.status).toBe(403);
  });

  it('sign-out needs the CSRF token too (a cross-site page cannot log the user out)', async () => {
    const b = await signIn(tokens.viewerA);
    expect((await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: b.cookie } })).status).toBe(403);
    expect((await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie: b.cookie, 'x-berth-csrf': b.csrf, origin: url } })).status).toBe(204);
    expect(((await (await fetch(`${url}/v1/session`, { headers: { cookie: b.cookie } })).json()) as SessionStatus).signedIn).toBe(false);
  });
});

describe('revocation', () => {
  it('revoking the token signs its sessions out and ends their live stream', async () => {
    const token = await mintToken(auth.tokens, 'doomed', 'viewer', ['a']);
    const b = await signIn(token);
    const live = await openLive({ cookie: b.cookie });
    expect(((await (await fetch(`${url}/v1/session`, { headers: { cookie: b.cookie } })).json()) as SessionStatus).signedIn).toBe(true);
    await auth.tokens.revoke('doomed');
    await live.ended(1500);
    const after = await fetch(`${url}/v1/session`, { headers: { cookie: b.cookie } });
    expect(((await after.json()) as SessionStatus).signedIn).toBe(false);
    expect(after.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${url}/v1/apps`, { headers: { cookie: b.cookie } })).status).toBe(401);
    expect((await fetch(`${url}/v1/live`, { headers: { cookie: b.cookie } })).status).toBe(401);
  });
});

describe('the live stream', () => {
  it('anonymous callers can neither open nor drive one', async () => {
    expect((await fetch(`${url}/v1/live`)).status).toBe(401);
    const admin = await openLive(bearer(tokens.admin));
    try {
      expect((await subscribe(admin.streamId, {}, { id: 's1', kind: 'status' })).status).toBe(401);
    } finally {
      admin.close();
    }
  });

  it('a viewer of "a" subscribed to every app sees only "a", and is refused "b" outright', async () => {
    const b = await signIn(tokens.viewerA);
    const h = { cookie: b.cookie, 'x-berth-csrf': b.csrf, origin: url };
    const live = await openLive({ cookie: b.cookie });
    try {
      expect((await subscribe(live.streamId, h, { id: 'all', kind: 'status' })).status).toBe(201);
      expect((await subscribe(live.streamId, h, { id: 'nsb', kind: 'status', namespace: 'b' })).status).toBe(403);
      expect((await subscribe(live.streamId, h, { id: 'logsb', kind: 'logs', namespace: 'b', name: 'web' })).status).toBe(403);
      status.emit({ id: 1, type: 'status', namespace: 'b', name: 'web', status: statusOf('b') });
      status.emit({ id: 2, type: 'status', namespace: 'a', name: 'web', status: statusOf('a') });
      await until(() => live.text().includes('secret-of-a'), 'the event of a');
      expect(live.text()).not.toContain('secret-of-b');
      // Without the CSRF token the cookie cannot add subscriptions either.
      expect((await subscribe(live.streamId, { cookie: b.cookie }, { id: 'x', kind: 'status' })).status).toBe(403);
    } finally {
      live.close();
    }
  });

  it('a deployer of "a" follows logs of "a" on the stream, not of "b", and cannot touch another caller\'s stream', async () => {
    const victim = await openLive(bearer(tokens.admin));
    const mine = await openLive(bearer(tokens.deployerA));
    try {
      const before = logStreams.length;
      expect((await subscribe(mine.streamId, bearer(tokens.deployerA), { id: 'logs', kind: 'logs', namespace: 'a', name: 'web' })).status).toBe(201);
      await until(() => logStreams.length > before, 'the log stream');
      logStreams[logStreams.length - 1]?.write('2026-01-01T00:00:00Z hello from a\n');
      await until(() => mine.text().includes('hello from a'), 'the log line');
      expect(mine.text()).toMatch(/event: logs\ndata: \{"sub":"logs","lines":\[\{"pod":"web-1","container":"app","time":"2026-01-01T00:00:00Z","line":"hello from a"\}\]\}/);
      expect((await subscribe(mine.streamId, bearer(tokens.deployerA), { id: 'logsb', kind: 'logs', namespace: 'b', name: 'web' })).status).toBe(403);
      // The admin's stream id, guessed or leaked, is "not found" to anyone else.
      const hijack = await subscribe(victim.streamId, bearer(tokens.deployerA), { id: 'spy', kind: 'status' });
      expect(hijack.status).toBe(404);
      expect(((await hijack.json()) as { error: { code: string } }).error.code).toBe('BERTH_LIVE_STREAM_NOT_FOUND');
      expect((await fetch(`${url}/v1/live/${victim.streamId}/subscriptions/x`, { method: 'DELETE', headers: bearer(tokens.viewerA) })).status).toBe(404);
    } finally {
      victim.close();
      mine.close();
    }
  });

  it('caps subscriptions per stream', async () => {
    const live = await openLive(bearer(tokens.admin));
    try {
      const codes: number[] = [];
      for (let i = 0; i < 17; i++) codes.push((await subscribe(live.streamId, bearer(tokens.admin), { id: `s${i}`, kind: 'status' })).status);
      expect(codes.slice(0, 16).every((c) => c === 201)).toBe(true);
      expect(codes[16]).toBe(429);
    } finally {
      live.close();
    }
  });
});

describe('the manifests view\'s data', () => {
  it('POST /v1/render?lint=true adds the findings of berth lint on the rendered objects; without it, none', async () => {
    const post = (q: string) => fetch(`${url}/v1/render${q}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.viewerA) }, body: JSON.stringify({ ...APP('a'), spec: { image: 'nginx:latest' } }) });
    const plain = (await (await post('')).json()) as { lint?: unknown; objects: unknown[] };
    expect(plain.lint).toBeUndefined();
    expect(plain.objects.length).toBeGreaterThan(0);
    const linted = (await (await post('?lint=true')).json()) as { lint: { findings: Array<{ rule: string; object: { kind: string } }>; summary: { objects: number } } };
    expect(linted.lint.summary.objects).toBe(plain.objects.length);
    expect(linted.lint.findings.map((f) => f.rule)).toContain('berth/image-tag');
  });
});

describe('the dashboard page', () => {
  it('is served at / with a strict CSP and revalidation; /v1 keeps its own headers', async () => {
    const page = await fetch(`${url}/`);
    if (page.status === 503) {
      expect(((await page.json()) as { error: { code: string } }).error.code).toBe('BERTH_DASHBOARD_NOT_BUILT');
      return;
    }
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? '';
    const js = await fetch(`${url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${url}/assets/..%2Fpackage.json`)).status).toBe(400);
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
    const api = await fetch(`${url}/v1/apps`);
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(api.headers.get('cache-control')).toBe('no-store');
  });
});
