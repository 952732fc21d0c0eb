/**
 * A stream is authorized when it opens; revoking the token or the token expiring must still end it.
 * Replays the attack over real sockets: a viewer holds /v1/events/stream and logs?follow open, the
 * admin revokes the viewer's token, and both streams must end within a second, delivering nothing
 * published after the revoke. Same for a token that expires while its stream is open.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import { bearer, mintToken, testAuth, type TestAuth } from '../../src/auth/testing/testAuth.ts';
import type { ClusterClient } from '../../src/cluster/clusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { AppStatus } from '../../src/status/types.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

let app: FastifyInstance;
let url: string;
let auth: TestAuth;
let admin: Record<string, string>;
const status = idleStatus();
/** Log streams the server opened, one per followed container; the test writes lines into them. */
const logStreams: PassThrough[] = [];

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

interface Reader {
  /** Everything received so far. */
  text(): string;
  /** Resolves with the time the server ended the response (rejects after `ms`). */
  ended(ms: number): Promise<number>;
  abort(): void;
}

async function read(path: string, token: string): Promise<Reader> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { headers: bearer(token), signal: abort.signal });
  expect(res.status).toBe(200);
  let received = '';
  const decoder = new TextDecoder();
  const done = (async (): Promise<number> => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) received += decoder.decode(chunk, { stream: true });
    } catch {
      // a destroyed socket ends the stream as well
    }
    return Date.now();
  })();
  return {
    text: () => received,
    ended: (ms) => Promise.race([done, new Promise<number>((_r, reject) => setTimeout(() => reject(new Error(`${path}: still open after ${ms} ms`)), ms))]),
    abort: () => abort.abort(),
  };
}

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !fn(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!fn()) throw new Error(`timed out waiting for ${what}`);
}

const statusOf = (revision: number): AppStatus => ({
  namespace: 'a',
  name: 'web',
  revision,
  state: 'Progressing',
  reason: 'RollingUpdate',
  message: `revision ${revision}`,
  replicas: { desired: 1, ready: 0, updated: 0, available: 0, unavailable: 1 },
  pods: [],
  warnings: [],
  observedAt: new Date().toISOString(),
});
let nextId = 1;
const publish = (revision: number): void => status.emit({ id: nextId++, type: 'status', namespace: 'a', name: 'web', status: statusOf(revision) });

beforeAll(async () => {
  const store = createMemoryAppStore();
  auth = testAuth(store);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000 }, {});
  app = buildServer({ store, cluster: cluster(), status, logger: pino({ level: 'silent' }), auth }, config, { heartbeatMs: 60_000 });
  url = await listen(app, config);
  await store.createRevision({ namespace: 'a', name: 'web', spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'a' }, spec: { image: 'nginx:1.27' } }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
  admin = bearer(await mintToken(auth.tokens, 'root', 'admin'));
});

afterAll(async () => {
  await app.close();
});

describe('streams of a revoked or expired credential', () => {
  it('revoke ends the viewer’s event stream and followed logs within 1 s; nothing published after it arrives', async () => {
    const viewer = await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a']);
    const before = logStreams.length;
    const events = await read('/v1/events/stream', viewer);
    const logs = await read('/v1/namespaces/a/apps/web/logs?follow=true', viewer);
    await until(() => logStreams.length > before, 'the log stream to reach the cluster');
    const podLog = logStreams[logStreams.length - 1] as PassThrough;
    publish(2);
    podLog.write('line before revoke\n');
    await until(() => events.text().includes('revision 2') && logs.text().includes('line before revoke'), 'the events before the revoke');

    const revoked = await fetch(`${url}/v1/tokens/viewer-a`, { method: 'DELETE', headers: admin });
    expect(revoked.status).toBe(200);
    const at = Date.now();
    publish(3);
    podLog.write('line after revoke\n');
    const [eventsEnd, logsEnd] = await Promise.all([events.ended(1500), logs.ended(1500)]);
    expect(eventsEnd - at).toBeLessThan(1000);
    expect(logsEnd - at).toBeLessThan(1000);
    expect(events.text()).not.toContain('revision 3');
    expect(logs.text()).not.toContain('line after revoke');
    // Reconnecting with the same token is refused.
    expect((await fetch(`${url}/v1/events/stream`, { headers: bearer(viewer) })).status).toBe(401);
  });

  it('a token that expires while its stream is open has the stream ended within 1 s of the expiry', async () => {
    const expiresAtMs = Date.now() + 1500;
    const { token } = await auth.tokens.create({ name: 'short-lived', role: 'viewer', namespaces: ['a'], expiresAt: new Date(expiresAtMs).toISOString(), createdBy: 'test' });
    const events = await read('/v1/events/stream', token);
    const logs = await read('/v1/namespaces/a/apps/web/logs?follow=true', token);
    const [eventsEnd, logsEnd] = await Promise.all([events.ended(3500), logs.ended(3500)]);
    for (const end of [eventsEnd, logsEnd]) {
      expect(end).toBeGreaterThanOrEqual(expiresAtMs - 50);
      expect(end - expiresAtMs).toBeLessThan(1000);
    }
  });

  it('another token’s streams are untouched by a revoke', async () => {
    const keep = await mintToken(auth.tokens, 'keeper', 'viewer', ['a']);
    const gone = await mintToken(auth.tokens, 'goner', 'viewer', ['a']);
    const kept = await read('/v1/events/stream', keep);
    const dropped = await read('/v1/events/stream', gone);
    expect((await fetch(`${url}/v1/tokens/goner`, { method: 'DELETE', headers: admin })).status).toBe(200);
    await dropped.ended(1500);
    publish(4);
    await until(() => kept.text().includes('revision 4'), 'the other token’s stream to go on');
    kept.abort();
  });
});
