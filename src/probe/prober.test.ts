import { describe, expect, it } from 'vitest';
import { ManualClock, settle } from '../kube/testing/manualClock.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { createProber, MINUTE_RETENTION_MS } from './prober.ts';
import { createProbeBucketStore } from './probeBucketStore.ts';
import { emptyBucket, HOUR_MS, MINUTE_MS } from './probeBuckets.ts';
import type { ProbeNetwork } from './probeTarget.ts';
import { FakeHttpProber } from './testing/fakeHttpProber.ts';
import { fakeStatus } from './testing/fakeStatus.ts';

const T0 = Date.parse('2030-01-02T03:00:00.000Z');

/** Lets the prober's asynchronous app load (store read, target lookup) finish before time moves. */
async function loaded(): Promise<void> {
  for (let i = 0; i < 5; i++) await settle();
}

function appDoc(name: string, spec: Record<string, unknown> = {}): unknown {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: 'shop' }, spec: { image: 'ghcr.io/acme/x:1.0.0', port: 8080, ...spec } };
}

async function setup(opts: { network?: ProbeNetwork } = {}) {
  const clock = new ManualClock(T0);
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  const status = fakeStatus();
  const http = new FakeHttpProber(clock, { status: 200, delayMs: 3 });
  const buckets = createProbeBucketStore(store);
  const services = new Map<string, { clusterIP: string; port: number }>();
  const prober = createProber({
    store,
    buckets,
    status,
    clock,
    httpProber: http,
    serviceOf: async (ns, name) => services.get(`${ns}/${name}`),
    network: opts.network ?? 'cluster',
    concurrency: 8,
    random: () => 0.5,
  });
  let revision = 0;
  const deploy = async (name: string, spec: Record<string, unknown> = {}): Promise<number> => {
    const r = await store.createRevision({ namespace: 'shop', name, spec: appDoc(name, spec), action: 'deploy', diffSummary: '', actor: 't' });
    revision = r.revision;
    return revision;
  };
  return { clock, store, status, http, buckets, services, prober, deploy };
}

describe('prober', () => {
  it('probes a new app at its ClusterIP within one interval of its first Available, not before', async () => {
    const { clock, status, http, services, prober, deploy } = await setup();
    services.set('shop/api', { clusterIP: '10.96.0.7', port: 80 });
    await prober.start();
    await deploy('api');
    status.set('shop', 'api', 'Progressing', 1, 0);
    await loaded();
    await clock.advance(30_000);
    expect(http.calls).toHaveLength(0);
    status.set('shop', 'api', 'Available', 1);
    await loaded();
    await clock.advance(5_000);
    expect(http.calls.map((c) => c.url)).toEqual(['http://10.96.0.7:80/healthz']);
    expect(prober.state('shop', 'api')?.target).toEqual({ kind: 'service', url: 'http://10.96.0.7:80/healthz' });
    // Keeps probing while the app is failing: that is when probes matter.
    status.set('shop', 'api', 'Degraded', 1, 0);
    await loaded();
    await clock.advance(10_000);
    expect(http.calls).toHaveLength(3);
    await prober.stop();
  });

  it('stops at once when the app is being deleted, and on the deleted event', async () => {
    const { clock, status, http, prober, deploy, store } = await setup();
    await prober.start();
    await deploy('api');
    await deploy('web');
    status.set('shop', 'api', 'Available', 1);
    status.set('shop', 'web', 'Available', 1);
    await loaded();
    await clock.advance(5_000);
    expect(http.calls).toHaveLength(2);
    prober.appDeleting('shop', 'api');
    await store.deleteApp('shop', 'api');
    status.remove('shop', 'web');
    await clock.advance(60_000);
    expect(http.calls).toHaveLength(2);
    expect(prober.state('shop', 'api')).toBeUndefined();
    await prober.stop();
  });

  it('honours enabled: false, picks up spec changes with the new revision', async () => {
    const { clock, status, http, prober, deploy } = await setup();
    await prober.start();
    await deploy('api', { health: { enabled: false } });
    status.set('shop', 'api', 'Available', 1);
    await loaded();
    await clock.advance(30_000);
    expect(http.calls).toHaveLength(0);
    expect(prober.state('shop', 'api')?.enabled).toBe(false);
    const rev = await deploy('api', { health: { path: '/ready', interval: '2s', timeout: '1s', headers: { 'X-Probe': 'berth' } } });
    status.set('shop', 'api', 'Available', rev);
    await loaded();
    await clock.advance(6_000);
    expect(http.calls.map((c) => c.url)).toEqual(Array(3).fill('http://api.shop.svc:80/ready'));
    expect(http.calls[0]?.headers).toEqual({ 'x-probe': 'berth' });
    await prober.stop();
  });

  it('targets: spec.health.url wins; outside the cluster an exposed app is probed through its Ingress host', async () => {
    const outside = await setup({ network: 'outside' });
    await outside.prober.start();
    await outside.deploy('web', { expose: { ingress: { host: 'web.example.com', tls: { secretName: 'web-tls' } } } });
    await outside.deploy('ext', { health: { url: 'https://status.example.com/ping' } });
    outside.status.set('shop', 'web', 'Available', 1);
    outside.status.set('shop', 'ext', 'Available', 1);
    await loaded();
    await outside.clock.advance(5_000);
    expect(outside.prober.state('shop', 'web')?.target).toEqual({ kind: 'ingress', url: 'https://web.example.com/healthz' });
    expect(outside.prober.state('shop', 'ext')?.target).toEqual({ kind: 'url', url: 'https://status.example.com/ping' });
    await outside.prober.stop();
  });

  it('aggregates results into per-minute buckets and writes them when the minute closes', async () => {
    const { clock, status, http, prober, deploy, buckets } = await setup();
    // Every fourth probe answers 500, one in twelve times out.
    http.set('http://api.shop.svc:80/healthz', (n) => (n % 12 === 11 ? { hang: true } : n % 4 === 0 ? { status: 500 } : { status: 200, delayMs: 20 }));
    await prober.start();
    await deploy('api');
    status.set('shop', 'api', 'Available', 1);
    await loaded();
    await clock.advance(3 * MINUTE_MS + 3_000);
    const minutes = await buckets.minutes('shop', 'api', T0, T0 + HOUR_MS);
    expect(minutes.map((m) => m.start)).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
    const full = minutes[1];
    expect(full?.total).toBe(12);
    expect(full?.errors).toEqual({ timeout: 1, connect: 0, status5xx: 3, unexpectedStatus: 0 });
    expect(full?.failed).toBe(4);
    expect(full?.byClass['2xx']).toBe(8);
    expect(full?.byClass['5xx']).toBe(3);
    expect(full?.target).toBe('service');
    // The reader merges in the partial current minute only through openMinutes.
    expect(prober.openMinutes('shop', 'api')[0]?.start).toBe(T0 + 3 * MINUTE_MS);
    expect((await prober.minutes('shop', 'api', T0, T0 + HOUR_MS)).length).toBe(3);
    expect(prober.state('shop', 'api')?.lastProbe).toMatchObject({ ok: expect.any(Boolean) });
    await prober.stop();
  });

  it('rolls finished hours up and drops minutes after 48 h and hours after 30 days', async () => {
    const { clock, prober, buckets } = await setup();
    const old = (start: number) => Object.assign(emptyBucket('shop', 'api', start, 'service'), { total: 12, failed: 1 });
    const longAgo = T0 - 31 * 24 * HOUR_MS;
    await buckets.writeMinutes([old(T0 - MINUTE_RETENTION_MS - MINUTE_MS), old(T0 - 2 * HOUR_MS), old(T0 - 2 * HOUR_MS + MINUTE_MS), old(T0 - 30 * MINUTE_MS)]);
    await buckets.writeMinutes([old(longAgo)]);
    await buckets.rollUp(longAgo, longAgo + HOUR_MS);
    clock.set(T0 + 5 * MINUTE_MS);
    await prober.retain();
    expect((await buckets.minutes('shop', 'api', 0, T0)).map((m) => m.start)).toEqual([T0 - 2 * HOUR_MS, T0 - 2 * HOUR_MS + MINUTE_MS, T0 - 30 * MINUTE_MS]);
    const hours = await buckets.hours('shop', 'api', 0, T0);
    expect(hours.map((h) => [h.start, h.total])).toEqual([
      [T0 - 2 * HOUR_MS, 24],
      [T0 - HOUR_MS, 12],
    ]);
    // The reader's hours include the current hour, computed from its minutes.
    await buckets.writeMinutes([old(T0 + MINUTE_MS)]);
    expect((await prober.hours('shop', 'api', T0 - 2 * HOUR_MS, T0 + HOUR_MS)).map((h) => h.total)).toEqual([24, 12, 12]);
  });

  it('rolls an hour up only once its last minute is in the store', async () => {
    const { clock, prober, buckets } = await setup();
    const minute = (start: number) => Object.assign(emptyBucket('shop', 'api', start, 'service'), { total: 12, failed: 0 });
    await buckets.writeMinutes([minute(T0 - 2 * MINUTE_MS)]);
    // 30 s into the new hour: the previous hour's last minute is not written yet.
    clock.set(T0 + 30_000);
    await prober.retain();
    expect(await buckets.hours('shop', 'api', T0 - HOUR_MS, T0)).toEqual([]);
    await buckets.writeMinutes([minute(T0 - MINUTE_MS)]);
    clock.set(T0 + 3 * MINUTE_MS);
    await prober.retain();
    expect((await buckets.hours('shop', 'api', T0 - HOUR_MS, T0)).map((h) => h.total)).toEqual([24]);
  });

  it('a store outage keeps the closed minutes and writes them once it is back', async () => {
    const { clock, status, prober, deploy, buckets } = await setup();
    await prober.start();
    await deploy('api');
    status.set('shop', 'api', 'Available', 1);
    await loaded();
    const real = buckets.writeMinutes;
    let failing = true;
    buckets.writeMinutes = async (b) => {
      if (failing) throw new Error('database down');
      return real(b);
    };
    await clock.advance(2 * MINUTE_MS + 2_000);
    expect(await buckets.minutes('shop', 'api', T0, T0 + HOUR_MS)).toEqual([]);
    // Still readable through the prober while unwritten.
    expect((await prober.minutes('shop', 'api', T0, T0 + HOUR_MS)).map((m) => m.start)).toEqual([T0, T0 + MINUTE_MS]);
    failing = false;
    await clock.advance(MINUTE_MS);
    expect((await buckets.minutes('shop', 'api', T0, T0 + HOUR_MS)).map((m) => m.start)).toEqual([T0, T0 + MINUTE_MS, T0 + 2 * MINUTE_MS]);
    await prober.stop();
  });

  it('the roster sync drops apps deleted elsewhere', async () => {
    const { clock, status, http, prober, deploy, store } = await setup();
    await prober.start();
    await deploy('api');
    status.set('shop', 'api', 'Available', 1);
    await loaded();
    await clock.advance(5_000);
    await store.deleteApp('shop', 'api');
    await clock.advance(60_000);
    const n = http.calls.length;
    await clock.advance(60_000);
    expect(http.calls.length).toBe(n);
    expect(prober.state('shop', 'api')).toBeUndefined();
    await prober.stop();
  });
});
