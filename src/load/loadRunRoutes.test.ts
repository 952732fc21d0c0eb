/**
 * The load-run routes on the real server (memory store, real auth): record, list, read back; bounds,
 * a missing app and cross-namespace reads are refused.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../api/buildServer.ts';
import { emptyCluster, idleStatus } from '../api/testing/testDoubles.ts';
import { bearer, mintToken, testAuth } from '../auth/testing/testAuth.ts';
import { loadConfig } from '../config/config.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { sampleRun } from './testing/sampleRun.ts';
import { MAX_SERIES_POINTS, type LoadRun } from './types.ts';

let app: FastifyInstance;
let deployer: Record<string, string>;
let viewer: Record<string, string>;
let otherViewer: Record<string, string>;

beforeAll(async () => {
  const store = createMemoryAppStore();
  const auth = testAuth(store);
  const config = loadConfig({ logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 10_000, burst: 10_000 } }, {});
  app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth }, config);
  await app.ready();
  await store.createRevision({ namespace: 'a', name: 'web', spec: { image: 'nginx:1.27' }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
  deployer = bearer(await mintToken(auth.tokens, 'dep-a', 'deployer', ['a']));
  viewer = bearer(await mintToken(auth.tokens, 'view-a', 'viewer', ['a']));
  otherViewer = bearer(await mintToken(auth.tokens, 'view-b', 'viewer', ['b']));
});

afterAll(async () => {
  await app.close();
});

const post = (body: unknown, headers = deployer, path = '/v1/namespaces/a/apps/web/loadruns') => app.inject({ method: 'POST', url: path, headers, payload: body as object });

describe('load-run routes', () => {
  it('a deployer records a run (audited); a viewer lists and reads it back', async () => {
    const res = await post(sampleRun());
    expect(res.statusCode).toBe(201);
    const run = res.json<LoadRun>();
    expect(run).toMatchObject({ namespace: 'a', name: 'web', recordedBy: 'dep-a', inCluster: false });
    const list = await app.inject({ method: 'GET', url: '/v1/namespaces/a/apps/web/loadruns', headers: viewer });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([run.id]);
    const one = await app.inject({ method: 'GET', url: `/v1/namespaces/a/apps/web/loadruns/${run.id}`, headers: viewer });
    expect(one.json<LoadRun>().series).toEqual(sampleRun().series);
    const audit = await serverContext(app).audit.query({ app: 'web' });
    expect(audit.items.some((r) => r.action === 'loadrun.record' && r.actor === 'dep-a' && r.outcome === 'succeeded')).toBe(true);
  });

  it('refuses viewers writing, other namespaces reading, unknown apps and runs', async () => {
    expect((await post(sampleRun(), viewer)).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/namespaces/a/apps/web/loadruns', headers: otherViewer })).statusCode).toBe(403);
    expect((await post(sampleRun(), deployer, '/v1/namespaces/a/apps/nope/loadruns')).json()).toMatchObject({ error: { code: 'BERTH_APP_NOT_FOUND' } });
    const missing = await app.inject({ method: 'GET', url: '/v1/namespaces/a/apps/web/loadruns/no-such-run', headers: viewer });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'BERTH_LOAD_RUN_NOT_FOUND' } });
  });

  it('refuses unbounded or malformed runs and stores nothing', async () => {
    const before = (await app.inject({ method: 'GET', url: '/v1/namespaces/a/apps/web/loadruns', headers: viewer })).json<{ items: unknown[] }>().items.length;
    const point = sampleRun().series[0];
    const tooLong = sampleRun({ series: Array.from({ length: MAX_SERIES_POINTS + 1 }, () => point as NonNullable<typeof point>) });
    for (const bad of [tooLong, { ...sampleRun(), extra: 1 }, { ...sampleRun(), summary: { ...sampleRun().summary, errorRatio: 2 } }, { ...sampleRun(), summary: { ...sampleRun().summary, statuses: { abc: 1 } } }]) {
      const res = await post(bad);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(400);
    }
    expect((await app.inject({ method: 'GET', url: '/v1/namespaces/a/apps/web/loadruns', headers: viewer })).json<{ items: unknown[] }>().items.length).toBe(before);
  });
});
