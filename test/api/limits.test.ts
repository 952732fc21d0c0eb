/**
 * Transport and abuse limits of the real server over real sockets on 127.0.0.1: per-token rate limits
 * (429 + Retry-After), per-token stream caps, body size limits, request timeouts, security headers,
 * and TLS (a self-signed certificate made with openssl) with the CLI talking HTTPS to it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';
import type { AppStore } from '../../src/store/types.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import { runCli } from '../../src/cli/testing/runCli.ts';

const BIN = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));
const APP = 'apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata:\n  name: web\nspec:\n  image: nginx:1.27\n';

interface Running {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly store: AppStore;
  readonly admin: string;
  readonly viewer: string;
}

const running: FastifyInstance[] = [];

async function start(overrides: Record<string, unknown> = {}): Promise<Running> {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, ...overrides }, {});
  const app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth }, config, { heartbeatMs: 200 });
  running.push(app);
  const url = await listen(app, config);
  await store.createRevision({ namespace: 'a', name: 'web', spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'a' }, spec: { image: 'nginx:1.27' } }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
  return { app, url, store, admin: await mintToken(auth.tokens, 'root', 'admin'), viewer: await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a']) };
}

afterAll(async () => {
  for (const app of running) await app.close();
});

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('rate limits', () => {
  it('answers 429 with Retry-After once a token spent its burst; other tokens are unaffected; the denial is audited', async () => {
    const s = await start({ rateLimit: { ratePerSecond: 0.5, burst: 3 } });
    const get = (token: string): Promise<Response> => fetch(`${s.url}/v1/apps`, { headers: bearer(token) });
    for (let i = 0; i < 3; i++) expect((await get(s.viewer)).status).toBe(200);
    const limited = await get(s.viewer);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await errorCode(limited)).toBe('BERTH_AUTH_RATE_LIMITED');
    expect((await get(s.admin)).status).toBe(200);
    const rows = await fetch(`${s.url}/v1/audit?outcome=denied`, { headers: bearer(s.admin) });
    expect(((await rows.json()) as { items: Array<{ actor: string; statusCode: number }> }).items).toEqual([expect.objectContaining({ actor: 'viewer-a', statusCode: 429 })]);
  });
});

describe('stream caps', () => {
  it('refuses a token its third open stream with 429 until one closes; logs count too; other tokens have their own cap', async () => {
    const s = await start({ maxStreamsPerPrincipal: 2 });
    const open = async (path: string, token: string): Promise<{ status: number; close(): void }> => {
      const abort = new AbortController();
      const res = await fetch(`${s.url}${path}`, { headers: bearer(token), signal: abort.signal });
      if (res.status !== 200) await res.text();
      return { status: res.status, close: () => abort.abort() };
    };
    const one = await open('/v1/events/stream', s.viewer);
    const two = await open('/v1/namespaces/a/apps/web/logs?follow=true', s.viewer);
    expect([one.status, two.status]).toEqual([200, 200]);
    const three = await fetch(`${s.url}/v1/namespaces/a/apps/web/status/stream`, { headers: bearer(s.viewer) });
    expect(three.status).toBe(429);
    expect(await errorCode(three)).toBe('BERTH_AUTH_TOO_MANY_STREAMS');
    const admins = await open('/v1/events/stream', s.admin);
    expect(admins.status).toBe(200);
    admins.close();
    one.close();
    // The slot comes back once the server sees the client's socket close.
    let again = 0;
    for (let i = 0; i < 40 && again !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const retry = await open('/v1/namespaces/a/apps/web/status/stream', s.viewer);
      again = retry.status;
      retry.close();
    }
    expect(again).toBe(200);
    two.close();
  });
});

describe('request size and time', () => {
  it('refuses bodies over bodyLimitBytes with 413; an anonymous body is refused with 401 before it is read', async () => {
    const s = await start({ bodyLimitBytes: 2048 });
    const big = `${APP}# ${'x'.repeat(4096)}\n`;
    const res = await fetch(`${s.url}/v1/namespaces/a/apps/web`, { method: 'PUT', headers: { ...bearer(s.admin), 'content-type': 'application/yaml' }, body: big });
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('BERTH_BODY_TOO_LARGE');
    const anon = await fetch(`${s.url}/v1/namespaces/a/apps/web`, { method: 'PUT', headers: { 'content-type': 'application/yaml' }, body: big });
    expect(anon.status).toBe(401);
  });

  it('disconnects a client that does not finish its request within requestTimeoutMs (408)', async () => {
    const s = await start({ requestTimeoutMs: 300 });
    const port = Number(new URL(s.url).port);
    const slow = (payload: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(payload));
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString()));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
        // The server, not this guard, is expected to end the connection.
        setTimeout(() => socket.destroy(new Error('the server kept the slow request open')), 10_000).unref();
      });
    // Headers that never end, and a body that never comes.
    expect(await slow('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n')).toMatch(/^HTTP\/1\.1 408/);
    expect(await slow(`PUT /v1/namespaces/a/apps/web HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.admin}\r\nContent-Type: application/yaml\r\nContent-Length: 500\r\n\r\napiVersion: b`)).toMatch(/^HTTP\/1\.1 408/);
    // A request that arrives in time is not affected, however long the answer streams.
    const res = await fetch(`${s.url}/v1/events/stream`, { headers: bearer(s.viewer), signal: AbortSignal.timeout(3_000) });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const started = Date.now();
    while (Date.now() - started < 700) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain(': heartbeat');
    await reader.cancel();
  });
});

describe('security headers', () => {
  const EXPECTED = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  };

  it('are on JSON answers, errors, unknown routes, SSE and log streams', async () => {
    const s = await start();
    const check = async (path: string, token?: string, cache = 'no-store'): Promise<void> => {
      const abort = new AbortController();
      const res = await fetch(`${s.url}${path}`, { headers: token ? bearer(token) : {}, signal: abort.signal });
      for (const [k, v] of Object.entries(EXPECTED)) expect(res.headers.get(k), `${path} ${k}`).toBe(v);
      expect(res.headers.get('cache-control'), path).toContain(cache);
      expect(res.headers.get('strict-transport-security'), path).toBeNull();
      abort.abort();
    };
    await check('/v1/apps', s.viewer);
    await check('/v1/apps');
    await check('/v1/no-such-route', s.viewer);
    await check('/v1/events/stream', s.viewer);
    await check('/v1/namespaces/a/apps/web/logs', s.viewer);
    await check('/healthz');
    const docs = await fetch(`${s.url}/docs/`);
    expect(docs.headers.get('x-frame-options')).toBe('DENY');
    expect(docs.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });
});

describe('TLS', () => {
  let dir: string;
  let cert: string;
  let key: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(argv: string[], env: Record<string, string>): ReturnType<typeof runCli> {
    return runCli(argv, { cwd: dir, env });
  }

  it('serves HTTPS with HSTS; the CLI talks to it with BERTH_CA_FILE (in-process) or NODE_EXTRA_CA_CERTS (a real process)', async () => {
    const s = await start({ tls: { certFile: cert, keyFile: key } });
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    // Not trusted by default: the certificate is self-signed.
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();

    const env = { BERTH_URL: s.url, BERTH_TOKEN: s.admin, BERTH_CA_FILE: cert, NO_COLOR: '1' };
    const apps = await cli(['apps', '-o', 'json'], env);
    expect(apps.err).toBe('');
    expect(apps.code).toBe(0);
    expect(JSON.parse(apps.out)).toMatchObject({ items: [{ namespace: 'a', name: 'web' }] });
    const tokens = await cli(['token', 'list', '-o', 'json'], env);
    expect(tokens.code).toBe(0);
    expect(tokens.out).toContain('viewer-a');
    const untrusted = await cli(['apps'], { BERTH_URL: s.url, BERTH_TOKEN: s.admin });
    expect(untrusted.code).not.toBe(0);

    const child = spawn(process.execPath, [BIN, 'apps', '-o', 'json'], { cwd: dir, env: { ...process.env, BERTH_URL: s.url, BERTH_TOKEN: s.admin, NODE_EXTRA_CA_CERTS: cert } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ items: [{ name: 'web' }] });

    const hsts = await new Promise<string | undefined>((resolve, reject) => {
      const req = request(`${s.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve(res.headers['strict-transport-security']);
      });
      req.on('error', reject);
      req.end();
    });
    expect(hsts).toBe('max-age=31536000');
  });
});
