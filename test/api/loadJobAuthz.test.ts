/**
 * Who may start `berth load --in-cluster` (POST …/loadjobs), on the real server (buildServer, memory
 * store, real auth) with an in-memory cluster that records every object: only a deployer of the app's
 * namespace. A viewer of it, a deployer of another namespace and an anonymous caller are refused, and
 * nothing reaches the cluster; bad options, a file-reading body and an app without a Service are
 * refused before any Job exists; a Job that goes wrong is deleted and reported in the stream.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { refKey } from '../../src/cluster/clusterClient.ts';
import { loadConfig } from '../../src/config/config.ts';
import { fakeCluster, fakeStatus, type FakeCluster } from '../../src/deploy/testing/fakeCluster.ts';
import type { LoadJobStreamEvent } from '../../src/load/types.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

let app: FastifyInstance;
let cluster: FakeCluster;
const tokens: Record<'viewerA' | 'deployerA' | 'deployerB', Record<string, string>> = { viewerA: {}, deployerA: {}, deployerB: {} };

const body = (over: Record<string, unknown> = {}) => ({ rate: '5', duration: '1s', concurrency: '8', timeout: '2s', method: 'GET', header: [], path: [], failOn: [], record: true, ...over });
const post = (headers: Record<string, string>, payload: object = body(), name = 'web') => app.inject({ method: 'POST', url: `/v1/namespaces/a/apps/${name}/loadjobs`, headers, payload });

beforeAll(async () => {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  cluster = fakeCluster();
  const config = loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 10_000, burst: 10_000 } }, {});
  app = buildServer({ store, cluster, status: fakeStatus(cluster), logger: pino({ level: 'silent' }), auth }, config);
  await app.ready();
  for (const name of ['web', 'nosvc']) {
    await store.createRevision({ namespace: 'a', name, spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: 'a' }, spec: { image: 'nginx:1.27' } }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
  }
  tokens.viewerA = bearer(await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a']));
  tokens.deployerA = bearer(await mintToken(auth.tokens, 'deployer-a', 'deployer', ['a']));
  tokens.deployerB = bearer(await mintToken(auth.tokens, 'deployer-b', 'deployer', ['b']));
});

beforeEach(() => {
  cluster.objects.clear();
  cluster.objects.set(refKey({ apiVersion: 'v1', kind: 'Service', namespace: 'a', name: 'web' }), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'a' }, spec: { clusterIP: '10.96.0.7', ports: [{ name: 'http', port: 80 }] } });
  cluster.applies = 0;
});

afterAll(async () => {
  await app?.close();
});

const kinds = (): string[] => [...cluster.objects.values()].map((o) => o.kind).sort();

describe('POST …/loadjobs authorization', () => {
  it('refuses a viewer of the namespace, a deployer of another one and anonymous callers: nothing is created', async () => {
    for (const [who, headers, status] of [
      ['viewer(a)', tokens.viewerA, 403],
      ['deployer(b)', tokens.deployerB, 403],
      ['anonymous', {}, 401],
    ] as const) {
      const res = await post(headers);
      expect(res.statusCode, who).toBe(status);
      expect(res.json(), who).toMatchObject({ error: { code: status === 401 ? 'BERTH_AUTH_UNAUTHENTICATED' : 'BERTH_AUTH_FORBIDDEN' } });
    }
    expect(cluster.applies).toBe(0);
    expect(kinds()).toEqual(['Service']);
    const audit = await serverContext(app).audit.query({});
    expect(audit.items.filter((r) => r.action === 'loadjobs:run' && r.outcome === 'denied').map((r) => r.actor).sort()).toEqual(expect.arrayContaining(['deployer-b', 'viewer-a']));
  });

  it('refuses bad options, a body the pod would read as a file, and an app without a Service, before any Job exists', async () => {
    for (const [payload, code] of [
      [body({ rate: 'fast' }), 'BERTH_LOAD_OPTIONS_INVALID'],
      [body({ header: ['no colon'] }), 'BERTH_LOAD_OPTIONS_INVALID'],
      [body({ failOn: ['p99>500'] }), 'BERTH_LOAD_FAIL_ON_INVALID'],
      [body({ body: '@/etc/passwd' }), 'BERTH_LOAD_OPTIONS_INVALID'],
      [body({ workers: '9' }), 'BERTH_LOAD_OPTIONS_INVALID'],
      [body({ command: ['sh'] }), undefined],
    ] as const) {
      const res = await post(tokens.deployerA, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      if (code) expect(res.json()).toMatchObject({ error: { code } });
    }
    const nosvc = await post(tokens.deployerA, body(), 'nosvc');
    expect(nosvc.statusCode).toBe(422);
    expect(nosvc.json()).toMatchObject({ error: { code: 'BERTH_LOAD_TARGET_UNRESOLVED' } });
    expect(cluster.applies).toBe(0);
  });

  it('a deployer of the namespace starts the Job suspended; when it goes wrong the stream says so and the Job is deleted', async () => {
    const res = await post(tokens.deployerA, body({ header: ['Authorization: Bearer s3cret'] }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    const events = res.body.trim().split('\n').map((l) => JSON.parse(l) as LoadJobStreamEvent);
    // The in-memory cluster gives objects no uid, so the policies cannot be owned by the Job: the run stops there.
    expect(events).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'BERTH_LOAD_JOB_FAILED' }) }]);
    expect(cluster.applies).toBe(1);
    expect(kinds()).toEqual(['Service']);
    const audit = await serverContext(app).audit.query({ app: 'web' });
    const rows = audit.items.filter((r) => r.action === 'loadjob.run');
    expect(rows.map((r) => r.outcome).sort()).toEqual(['allowed', 'failed']);
    // Header names, never their values (they may be the app's credentials).
    expect(rows[0]?.diffSummary).toMatch(/GET 5 requests over 1 s, concurrency 8, headers authorization/);
    expect(JSON.stringify(rows)).not.toContain('s3cret');
  });
});
