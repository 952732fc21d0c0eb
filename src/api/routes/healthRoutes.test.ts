import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, mintToken, testAuth } from '../../auth/testing/testAuth.ts';
import { loadConfig } from '../../config/config.ts';
import { ManualClock } from '../../kube/testing/manualClock.ts';
import { createProbeBucketStore } from '../../probe/probeBucketStore.ts';
import { emptyBucket, MINUTE_MS } from '../../probe/probeBuckets.ts';
import type { AppHealth, HealthSeries } from '../../probe/healthTypes.ts';
import { FakeHttpProber } from '../../probe/testing/fakeHttpProber.ts';
import { createMemoryAppStore } from '../../store/memoryAppStore.ts';
import { buildServer } from '../buildServer.ts';
import { emptyCluster, idleStatus } from '../testing/testDoubles.ts';

const NOW = Date.parse('2030-01-02T03:30:20.000Z');
const MINUTE = Date.parse('2030-01-02T03:30:00.000Z');

async function setup(): Promise<{ app: FastifyInstance; viewerA: string; viewerB: string }> {
  const clock = new ManualClock(NOW);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  const auth = testAuth(store);
  await store.createRevision({
    namespace: 'a',
    name: 'web',
    spec: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'a' }, spec: { image: 'nginx:1.27', port: 8080, health: { path: '/ready' } } },
    action: 'deploy',
    diffSummary: '',
    actor: 't',
  });
  const buckets = createProbeBucketStore(store);
  const minute = (minutesAgo: number, total: number, failed: number) => {
    const b = emptyBucket('a', 'web', MINUTE - minutesAgo * MINUTE_MS, 'service');
    Object.assign(b, { total, failed });
    b.byClass['2xx'] = total - failed;
    b.byClass['5xx'] = failed;
    b.errors.status5xx = failed;
    b.latency[1] = total; // ≤ 10 ms
    return b;
  };
  await buckets.writeMinutes([minute(59, 12, 0), minute(2, 12, 3), minute(1, 12, 12), minute(61, 12, 12)]);
  const app = buildServer(
    { store, status: idleStatus(), cluster: emptyCluster(), clock, logger: pino({ level: 'silent' }), httpProber: new FakeHttpProber(clock), auth },
    loadConfig({ databaseUrl: 'sqlite::memory:', prober: { network: 'cluster' } }, {}),
  );
  await app.ready();
  return { app, viewerA: await mintToken(auth.tokens, 'va', 'viewer', ['a']), viewerB: await mintToken(auth.tokens, 'vb', 'viewer', ['b']) };
}

describe('health routes', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('summarises the last hour: ratio, quantiles, a 60-point sparkline oldest first, the target', async () => {
    const s = await setup();
    app = s.app;
    const res = await app.inject({ url: '/v1/namespaces/a/apps/web/health', headers: bearer(s.viewerA) });
    expect(res.statusCode).toBe(200);
    const h = res.json<AppHealth>();
    expect(h.enabled).toBe(true);
    // No Service in the (empty) cluster: its DNS name.
    expect(h.target).toEqual({ kind: 'service', url: 'http://web.a.svc:80/ready' });
    expect(h.lastProbe).toBeNull();
    expect(h.lastHour).toEqual({ total: 36, failed: 15, errorRatio: 15 / 36, p50Ms: 7.5, p95Ms: expect.closeTo(9.75, 5), p99Ms: expect.closeTo(9.95, 5) });
    expect(h.sparkline).toHaveLength(60);
    expect(h.sparkline[0]).toBe(0);
    expect(h.sparkline.slice(-3)).toEqual([0.25, 1, null]);
    expect(h.sparkline.filter((x) => x !== null)).toHaveLength(3);
    // The alert engine runs on the same buckets: whatever it has decided so far is this app's, and firing.
    for (const a of h.firingAlerts) expect(a).toMatchObject({ state: 'firing', severity: expect.stringMatching(/^(page|ticket)$/) });
  });

  it('serves the per-minute and per-hour series', async () => {
    const s = await setup();
    app = s.app;
    const m = (await app.inject({ url: '/v1/namespaces/a/apps/web/health/series?since=10m&step=1m', headers: bearer(s.viewerA) })).json<HealthSeries>();
    expect(m.step).toBe('1m');
    expect(m.points.map((p) => [p.start, p.total, p.failed, p.errorRatio])).toEqual([
      ['2030-01-02T03:28:00.000Z', 12, 3, 0.25],
      ['2030-01-02T03:29:00.000Z', 12, 12, 1],
    ]);
    expect(m.points[0]?.byClass).toEqual({ '1xx': 0, '2xx': 9, '3xx': 0, '4xx': 0, '5xx': 3 });
    expect(m.points[0]?.errors).toEqual({ timeout: 0, connect: 0, status5xx: 3, unexpectedStatus: 0 });
    const h = (await app.inject({ url: '/v1/namespaces/a/apps/web/health/series?since=3h&step=1h', headers: bearer(s.viewerA) })).json<HealthSeries>();
    expect(h.points.map((p) => [p.start, p.total, p.failed])).toEqual([
      ['2030-01-02T02:00:00.000Z', 24, 12],
      ['2030-01-02T03:00:00.000Z', 24, 15],
    ]);
  });

  it('rejects a bad since or step with its own code and the field', async () => {
    const s = await setup();
    app = s.app;
    const get = (q: string) => app?.inject({ url: `/v1/namespaces/a/apps/web/health/series?${q}`, headers: bearer(s.viewerA) });
    const step = await get('step=5m');
    expect(step?.statusCode).toBe(400);
    expect(step?.json()).toMatchObject({ error: { code: 'BERTH_HEALTH_STEP_INVALID', problems: [{ path: '/query/step', value: '5m' }] } });
    for (const q of ['since=3d&step=1m', 'since=soon', 'since=0m', 'since=31d&step=1h']) {
      const r = await get(q);
      expect(r?.statusCode, q).toBe(400);
      expect(r?.json(), q).toMatchObject({ error: { code: 'BERTH_HEALTH_SINCE_INVALID', problems: [{ path: '/query/since' }] } });
    }
    expect((await get('since=30d&step=1h'))?.statusCode).toBe(200);
  });

  it('documents both routes in OpenAPI and exposes the prober\'s gauges on /metrics', async () => {
    const s = await setup();
    app = s.app;
    const doc = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { get?: { tags?: string[]; responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> } }> }>();
    const health = doc.paths['/v1/namespaces/{ns}/apps/{name}/health']?.get;
    expect(health?.tags).toEqual(['health']);
    expect(Object.keys(health?.responses['200']?.content?.['application/json']?.schema.properties ?? {})).toEqual(['enabled', 'target', 'lastProbe', 'lastHour', 'sparkline', 'firingAlerts']);
    const series = doc.paths['/v1/namespaces/{ns}/apps/{name}/health/series']?.get;
    expect(Object.keys(series?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '403', '404']));
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('berth_probe_apps 0');
    expect(metrics).toContain('berth_probe_schedule_drift_p99_seconds 0');
  });

  it('denies other namespaces and anonymous callers; an unknown app is 404', async () => {
    const s = await setup();
    app = s.app;
    for (const url of ['/v1/namespaces/a/apps/web/health', '/v1/namespaces/a/apps/web/health/series']) {
      expect((await app.inject({ url, headers: bearer(s.viewerB) })).statusCode).toBe(403);
      expect((await app.inject({ url })).statusCode).toBe(401);
    }
    const missing = await app.inject({ url: '/v1/namespaces/a/apps/nope/health', headers: bearer(s.viewerA) });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'BERTH_APP_NOT_FOUND' } });
  });
});
