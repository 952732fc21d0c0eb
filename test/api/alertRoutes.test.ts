/**
 * The alert routes, the event stream's alert events and the firing gauge on the real server
 * (buildServer with a memory store, an in-memory prober and a recording notifier), over HTTP.
 * Namespace scoping: a viewer or deployer of namespace a never sees namespace b's alerts.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, serverContext } from '../../src/api/buildServer.ts';
import { listen } from '../../src/api/server.ts';
import { emptyCluster, idleStatus } from '../../src/api/testing/testDoubles.ts';
import type { AlertList } from '../../src/api/types.ts';
import { MemoryProbeBuckets } from '../../src/alerts/testing/memoryProbeBuckets.ts';
import { appDocument, RecordingNotifier } from '../../src/alerts/testing/alertFixture.ts';
import { bearer, mintToken, testAuth } from '../../src/auth/testing/testAuth.ts';
import { loadConfig } from '../../src/config/config.ts';
import { ManualClock } from '../../src/kube/testing/manualClock.ts';
import { createMemoryAppStore } from '../../src/store/memoryAppStore.ts';

const T0 = Date.parse('2030-01-02T00:00:00.000Z');
const HOUR = 3_600_000;

let app: FastifyInstance;
let url: string;
let clock: ManualClock;
let buckets: MemoryProbeBuckets;
let notifier: RecordingNotifier;
const headers: Record<string, Record<string, string>> = {};

beforeAll(async () => {
  clock = new ManualClock(T0);
  const store = createMemoryAppStore({ clock });
  const auth = testAuth(store);
  buckets = new MemoryProbeBuckets();
  notifier = new RecordingNotifier('ops', clock);
  const config = loadConfig({ port: 0, logLevel: 'silent', reconcileIntervalMs: 3_600_000, rateLimit: { ratePerSecond: 10_000, burst: 10_000 }, maxStreamsPerPrincipal: 100 }, {});
  app = buildServer({ store, cluster: emptyCluster(), status: idleStatus(), logger: pino({ level: 'silent' }), auth, clock, probeBuckets: buckets, notifiers: [notifier] }, config);
  url = await listen(app, config);
  for (const ns of ['a', 'b']) {
    const doc = appDocument('web');
    await store.createRevision({ namespace: ns, name: 'web', spec: { ...doc, metadata: { name: 'web', namespace: ns } }, action: 'deploy', diffSummary: 'created', actor: 'seed' });
    // An hour of health, then two minutes down.
    buckets.fill(ns, 'web', T0 - HOUR, T0, 5_000);
    buckets.fill(ns, 'web', T0, T0 + 120_000, 5_000, () => true);
  }
  headers['viewer(a)'] = bearer(await mintToken(auth.tokens, 'viewer-a', 'viewer', ['a']));
  headers['deployer(a)'] = bearer(await mintToken(auth.tokens, 'deployer-a', 'deployer', ['a']));
  headers['admin'] = bearer(await mintToken(auth.tokens, 'root', 'admin'));
  headers['anonymous'] = {};
});

afterAll(async () => {
  await app?.close();
});

async function get(path: string, who: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}${path}`, { headers: headers[who] ?? {} });
  return { status: res.status, body: (await res.json()) as unknown };
}

/** Reads SSE frames until `want` matches one; the stream is then closed. */
async function nextEvent(path: string, who: string, trigger: () => Promise<void>, want: (event: string, data: unknown) => boolean): Promise<{ event: string; data: unknown }> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { headers: headers[who] ?? {}, signal: abort.signal });
  const reader = res.body?.getReader();
  if (reader === undefined) throw new Error('no stream');
  const decoder = new TextDecoder();
  let buffer = '';
  let triggered = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
      if (!triggered) {
        triggered = true;
        await trigger();
      }
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event !== undefined && data !== undefined && want(event, JSON.parse(data))) return { event, data: JSON.parse(data) as unknown };
      }
    }
  } finally {
    abort.abort();
  }
}

describe('alerts over the API', () => {
  it('streams each transition as an `alert` event to callers who may see the namespace', async () => {
    const engine = serverContext(app).alertEngine;
    if (engine === undefined) throw new Error('the server was given a ProbeBucketReader but built no alert engine');
    const seen = await nextEvent('/v1/events/stream?namespace=a', 'viewer(a)', () => engine.evaluateNow(), (e, d) => e === 'alert' && (d as { alert: { rule: string } }).alert.rule === 'slo-page');
    expect(seen.data).toMatchObject({ type: 'alert', namespace: 'a', name: 'web', from: 'inactive', alert: { rule: 'slo-page', state: 'firing', severity: 'page' } });
  });

  it('lists alerts per caller: an admin sees both namespaces, a viewer or deployer of a only a', async () => {
    const all = (await get('/v1/alerts?state=firing', 'admin')).body as AlertList;
    expect(new Set(all.items.map((a) => a.namespace))).toEqual(new Set(['a', 'b']));
    expect(all.items.find((a) => a.namespace === 'b' && a.rule === 'slo-page')).toMatchObject({ id: 'b/web/slo-page', state: 'firing', severity: 'page' });
    for (const who of ['viewer(a)', 'deployer(a)']) {
      const mine = (await get('/v1/alerts', who)).body as AlertList;
      expect(mine.items.length).toBeGreaterThan(0);
      expect(mine.items.every((a) => a.namespace === 'a')).toBe(true);
      expect(((await get('/v1/alerts?namespace=b', who)).body as AlertList).items).toEqual([]);
    }
    expect((await get('/v1/alerts?state=firing', 'anonymous')).status).toBe(401);
    expect((await get('/v1/alerts?state=burning', 'admin')).status).toBe(400);
  });

  it('answers one app\'s alerts with their history, and refuses another namespace\'s app', async () => {
    const r = await get('/v1/namespaces/a/apps/web/alerts', 'viewer(a)');
    expect(r.status).toBe(200);
    const body = r.body as AlertList;
    expect(body.items.map((a) => a.rule)).toContain('slo-page');
    expect(body.history?.find((h) => h.rule === 'slo-page')).toMatchObject({ alertId: 'a/web/slo-page', from: 'inactive', to: 'firing' });
    for (const who of ['viewer(a)', 'deployer(a)']) {
      const denied = await get('/v1/namespaces/b/apps/web/alerts', who);
      expect(denied.status).toBe(403);
      expect(JSON.stringify(denied.body)).not.toContain('slo-page');
    }
    expect((await get('/v1/namespaces/a/apps/nope/alerts', 'admin')).status).toBe(404);
  });

  it('exports the firing alerts as berth_alerts_firing and sends notifications', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/berth_alerts_firing\{namespace="a",app="web",rule="slo-page",severity="page"\} 1/);
    await serverContext(app).alertEngine?.evaluateNow();
    for (let i = 0; i < 20 && notifier.sent.length < 2; i++) await clock.advance(1_000);
    expect(notifier.sent.filter((s) => s.notification.state === 'firing' && s.notification.rule === 'slo-page').map((s) => s.notification.namespace).sort()).toEqual(['a', 'b']);
  });
});
