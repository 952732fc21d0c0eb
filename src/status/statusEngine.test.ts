import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { InformerTransport, RawObject, RawWatchEvent, TransportQuery } from '../cluster/informer.ts';
import { createStatusEngine, type BerthStatusEngine } from './statusEngine.ts';
import type { StatusEvent } from './types.ts';
import { realClock } from '../kube/clock.ts';

/**
 * An in-memory cluster per cluster-wide collection path; tests push watch events by hand. A namespaced
 * path (/api/v1/namespaces/<ns>/pods) lists and watches only that namespace's objects, like the API server.
 */
class FakeCluster implements InformerTransport {
  readonly objects = new Map<string, Map<string, RawObject>>();
  readonly watchers = new Map<string, { namespace: string | undefined; onEvent: (e: RawWatchEvent) => void }[]>();
  readonly queries: { path: string; query: TransportQuery }[] = [];
  readonly watchPaths: string[] = [];
  watchCalls = 0;
  private rv = 100;

  private static route(path: string): { base: string; namespace: string | undefined } {
    const m = /^(.*)\/namespaces\/([^/]+)(\/[^/]+)$/.exec(path);
    return m ? { base: `${m[1]}${m[3]}`, namespace: decodeURIComponent(m[2] ?? '') } : { base: path, namespace: undefined };
  }

  async list(path: string, query: TransportQuery) {
    this.queries.push({ path, query });
    const { base, namespace } = FakeCluster.route(path);
    const items = [...(this.objects.get(base)?.values() ?? [])].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
    return { items, resourceVersion: String(this.rv) };
  }

  async watch(path: string, _q: TransportQuery, onEvent: (e: RawWatchEvent) => void) {
    this.watchCalls++;
    this.watchPaths.push(path);
    const { base, namespace } = FakeCluster.route(path);
    const w = { namespace, onEvent };
    this.watchers.set(base, [...(this.watchers.get(base) ?? []), w]);
    return { abort: () => this.watchers.set(base, (this.watchers.get(base) ?? []).filter((x) => x !== w)) };
  }

  put(path: string, o: RawObject, type: 'ADDED' | 'MODIFIED' | 'DELETED' = 'ADDED'): void {
    const m = this.objects.get(path) ?? new Map();
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    const obj = { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
    if (type === 'DELETED') m.delete(key);
    else m.set(key, obj);
    this.objects.set(path, m);
    for (const w of this.watchers.get(path) ?? []) if (w.namespace === undefined || w.namespace === obj.metadata.namespace) w.onEvent({ type, object: obj });
  }
}

const D = '/apis/apps/v1/deployments';
const RS = '/apis/apps/v1/replicasets';
const P = '/api/v1/pods';
const E = '/api/v1/events';
const H = '/apis/autoscaling/v2/horizontalpodautoscalers';
const labels = (app: string) => ({ 'app.kubernetes.io/managed-by': 'berth', 'app.kubernetes.io/instance': app, 'app.kubernetes.io/name': app });

function deployment(name: string, ns = 'default', ready = 1, gen = 1): RawObject {
  return {
    kind: 'Deployment',
    metadata: { name, namespace: ns, uid: `${ns}-${name}`, generation: gen, labels: labels(name), annotations: { 'deployment.kubernetes.io/revision': '1', 'berth.dev/revision': String(gen) } },
    spec: { replicas: 1 },
    status: { observedGeneration: gen, replicas: 1, updatedReplicas: 1, readyReplicas: ready, availableReplicas: ready },
  };
}
function replicaSet(app: string, ns = 'default'): RawObject {
  return {
    kind: 'ReplicaSet',
    metadata: { name: `${app}-abc`, namespace: ns, uid: `${ns}-${app}-rs`, labels: labels(app), annotations: { 'deployment.kubernetes.io/revision': '1' }, ownerReferences: [{ kind: 'Deployment', name: app, uid: `${ns}-${app}` }] },
    spec: { replicas: 1 },
    status: { replicas: 1 },
  };
}
function pod(app: string, ready: boolean, ns = 'default', extra: Record<string, unknown> = {}): RawObject {
  return {
    kind: 'Pod',
    metadata: { name: `${app}-abc-x1`, namespace: ns, uid: `${ns}-${app}-pod`, labels: labels(app), ownerReferences: [{ kind: 'ReplicaSet', name: `${app}-abc`, uid: `${ns}-${app}-rs` }] },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'x' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'app', ready, restartCount: 0, state: { running: {} } }], ...extra },
  };
}

let engine: BerthStatusEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function startWith(cluster: FakeCluster, opts: { bufferSize?: number; namespaces?: readonly string[] } = {}): Promise<BerthStatusEngine> {
  engine = createStatusEngine({ kubeConfig: new KubeConfig(), transport: cluster, clock: { ...realClock, now: () => Date.parse('2025-01-01T00:00:00Z') }, debounceMs: 5, ...opts });
  await engine.start();
  return engine;
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

function seed(cluster: FakeCluster, app: string, ns = 'default', ready = true): void {
  cluster.put(D, deployment(app, ns, ready ? 1 : 0));
  cluster.put(RS, replicaSet(app, ns));
  cluster.put(P, pod(app, ready, ns));
}

describe('createStatusEngine (fake transport)', () => {
  it('runs one informer per kind with berth\'s label selector and Warning-only events', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster);
    expect(e.synced()).toBe(true);
    expect(cluster.queries).toEqual([
      { path: D, query: { labelSelector: 'app.kubernetes.io/managed-by=berth', fieldSelector: undefined } },
      { path: RS, query: { labelSelector: 'app.kubernetes.io/managed-by=berth', fieldSelector: undefined } },
      { path: P, query: { labelSelector: 'app.kubernetes.io/managed-by=berth', fieldSelector: undefined } },
      { path: E, query: { labelSelector: undefined, fieldSelector: 'type=Warning' } },
      { path: H, query: { labelSelector: 'app.kubernetes.io/managed-by=berth', fieldSelector: undefined } },
      { path: E, query: { labelSelector: undefined, fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler' } },
    ]);
    await tick();
    expect(e.stats()).toEqual({ watchConnections: 6, reconnects: 0, subscribers: 0 });
  });

  it('adds the HPA\'s desired replicas, CPU and scaling events (Normal ones too) to the app\'s status', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'web');
    const e = await startWith(cluster);
    expect(e.get('default', 'web')?.autoscaling).toBeUndefined();
    cluster.put(H, {
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default', uid: 'hpa-web', labels: labels('web') },
      spec: { minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
      status: { currentReplicas: 1, desiredReplicas: 3, lastScaleTime: '2025-01-01T00:00:10Z', currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 140, averageValue: '140m' } } }] },
    });
    const rescale = (name: string, at: string, size: number) => ({
      kind: 'Event',
      metadata: { name, namespace: 'default', uid: name },
      involvedObject: { kind: 'HorizontalPodAutoscaler', name: 'web', namespace: 'default' },
      type: 'Normal',
      reason: 'SuccessfulRescale',
      message: `New size: ${size}; reason: cpu resource utilization (percentage of request) above target`,
      lastTimestamp: at,
    });
    cluster.put(E, rescale('web.1', '2025-01-01T00:00:05Z', 2));
    cluster.put(E, rescale('web.2', '2025-01-01T00:00:10Z', 3));
    await tick();
    expect(e.get('default', 'web')?.autoscaling).toEqual({
      minReplicas: 1,
      maxReplicas: 5,
      currentReplicas: 1,
      desiredReplicas: 3,
      cpuUtilization: 140,
      targetCpuUtilization: 50,
      lastScaleTime: '2025-01-01T00:00:10Z',
      events: [
        { at: '2025-01-01T00:00:10Z', reason: 'SuccessfulRescale', message: 'New size: 3; reason: cpu resource utilization (percentage of request) above target', newSize: 3 },
        { at: '2025-01-01T00:00:05Z', reason: 'SuccessfulRescale', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target', newSize: 2 },
      ],
    });
    cluster.put(H, { kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default', uid: 'hpa-web', labels: labels('web') } }, 'DELETED');
    await tick();
    expect(e.get('default', 'web')?.autoscaling).toBeUndefined();
  });

  it('has statuses of already existing apps right after start', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'a');
    seed(cluster, 'b', 'team');
    const e = await startWith(cluster);
    expect(e.get('default', 'a')?.state).toBe('Available');
    expect(e.list().map((s) => `${s.namespace}/${s.name}`)).toEqual(['default/a', 'team/b']);
    expect(e.list({ namespaces: new Set(['team']) }).map((s) => s.name)).toEqual(['b']);
  });

  it('coalesces a burst into one recomputation and emits only real changes', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster);
    const seen: StatusEvent[] = [];
    e.subscribe({}, (ev) => seen.push(ev));
    seed(cluster, 'a', 'default', false);
    await tick();
    expect(seen.map((s) => `${s.type}:${s.status?.state}`)).toEqual(['status:Progressing']);
    // Same content again (a resync-like MODIFIED) → no event.
    cluster.put(P, pod('a', false), 'MODIFIED');
    await tick();
    expect(seen).toHaveLength(1);
    cluster.put(P, pod('a', true), 'MODIFIED');
    cluster.put(D, deployment('a', 'default', 1), 'MODIFIED');
    await tick();
    expect(seen.map((s) => s.status?.state)).toEqual(['Progressing', 'Available']);
    expect(seen[1]?.id).toBeGreaterThan(seen[0]?.id ?? Infinity);
  });

  it('maps Warning events to the app through the involved object and recomputes only that app', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'a', 'default', false);
    seed(cluster, 'b');
    const e = await startWith(cluster);
    const seen: StatusEvent[] = [];
    e.subscribe({}, (ev) => seen.push(ev));
    cluster.put(E, {
      kind: 'Event',
      metadata: { name: 'a-abc-x1.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'a-abc-x1', namespace: 'default' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      count: 1,
    });
    await tick();
    expect(seen.map((s) => s.name)).toEqual(['a']);
    expect(e.get('default', 'a')?.warnings[0]?.reason).toBe('BackOff');
  });

  it('emits deleted when the Deployment goes away', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'a');
    const e = await startWith(cluster);
    const seen: StatusEvent[] = [];
    e.subscribe({ name: 'a' }, (ev) => seen.push(ev));
    cluster.put(D, deployment('a'), 'DELETED');
    await tick();
    expect(seen.map((s) => s.type)).toEqual(['deleted']);
    expect(e.get('default', 'a')).toBeUndefined();
  });

  it('filters subscriptions and replays the ring buffer after an id', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster, { bufferSize: 3 });
    const team: StatusEvent[] = [];
    e.subscribe({ namespaces: new Set(['team']) }, (ev) => team.push(ev));
    for (const [i, app] of ['a', 'b', 'c', 'd'].entries()) {
      seed(cluster, app, i % 2 ? 'team' : 'default');
      await tick();
    }
    expect(team.map((s) => s.name)).toEqual(['b', 'd']);
    const all: StatusEvent[] = [];
    e.subscribe({}, (ev) => all.push(ev));
    seed(cluster, 'e', 'default');
    await tick();
    // Only the last 3 (c, d, e) are buffered: after b's id, c, d and e are replayed.
    const bId = team[0]?.id ?? 0;
    const replay: StatusEvent[] = [];
    e.subscribe({}, (ev) => replay.push(ev), { afterId: team[0]?.id ?? 0 })();
    expect(replay.map((s) => s.name)).toEqual(['c', 'd', 'e']);
    const after: StatusEvent[] = [];
    e.subscribe({ namespace: 'default' }, (ev) => after.push(ev), { afterId: bId + 1 })();
    expect(after.map((s) => s.name)).toEqual(['e']);
    expect(all.map((s) => s.name)).toEqual(['e']);
  });

  it('answers a Last-Event-ID it cannot replay (another process, or older than the buffer) with the current status of every app', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster, { bufferSize: 2 });
    for (const app of ['a', 'b', 'c']) {
      seed(cluster, app, 'default');
      await tick();
    }
    // An id from an earlier server process (ids restarted below ours) and one the buffer no longer holds.
    for (const afterId of [5, 1]) {
      const got: StatusEvent[] = [];
      e.subscribe({}, (ev) => got.push(ev), { afterId })();
      expect(got.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
      expect(got.every((s) => s.type === 'status' && s.status !== undefined)).toBe(true);
    }
    // An id in the future (a later process's) is not ours either.
    const future: StatusEvent[] = [];
    e.subscribe({}, (ev) => future.push(ev), { afterId: Date.now() * 1000 * 2 })();
    expect(future.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
  });

  it('waitFor resolves on the current or a future status, times out with BERTH_ROLLOUT_TIMEOUT and honours abort', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'a');
    const e = await startWith(cluster);
    await expect(e.waitFor('default', 'a', (s) => s.state === 'Available', { timeoutMs: 1000 })).resolves.toMatchObject({ name: 'a', state: 'Available' });

    const future = e.waitFor('default', 'b', (s) => s.state === 'Available', { timeoutMs: 2000 });
    seed(cluster, 'b');
    await expect(future).resolves.toMatchObject({ name: 'b' });

    await expect(e.waitFor('default', 'a', (s) => s.state === 'Failed', { timeoutMs: 30 })).rejects.toMatchObject({
      code: 'BERTH_ROLLOUT_TIMEOUT',
      message: expect.stringContaining('last status: Available/Ready'),
    });

    const ac = new AbortController();
    const aborted = e.waitFor('default', 'a', () => false, { timeoutMs: 5000, signal: ac.signal });
    ac.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(e.waitFor('default', 'a', () => true, { timeoutMs: 5000, signal: pre.signal })).rejects.toThrow('already');
    expect(e.stats().subscribers).toBe(0);
  });

  it('50 subscribers do not open a single extra watch', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster);
    await tick();
    const before = cluster.watchCalls;
    const got: number[] = [];
    const offs = Array.from({ length: 50 }, (_, i) => e.subscribe({}, () => got.push(i)));
    seed(cluster, 'a');
    await tick();
    expect(got).toHaveLength(50);
    expect(cluster.watchCalls).toBe(before);
    expect(e.stats()).toMatchObject({ watchConnections: 6, subscribers: 50 });
    for (const off of offs) off();
    expect(e.stats().subscribers).toBe(0);
  });

  it('a throwing subscriber does not starve the others', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster);
    const ok: string[] = [];
    e.subscribe({}, () => {
      throw new Error('socket closed');
    });
    e.subscribe({}, (ev) => ok.push(ev.name));
    seed(cluster, 'a');
    await tick();
    expect(ok).toEqual(['a']);
  });
});

describe('createStatusEngine with managed namespaces (fake transport)', () => {
  const ns = (path: string, namespace: string): string => {
    const i = path.lastIndexOf('/');
    return `${path.slice(0, i)}/namespaces/${namespace}${path.slice(i)}`;
  };

  it('opens one informer per kind per namespace, on namespaced paths only, independent of subscribers', async () => {
    const cluster = new FakeCluster();
    const e = await startWith(cluster, { namespaces: ['web', 'shop'] });
    expect(e.synced()).toBe(true);
    const berth = { labelSelector: 'app.kubernetes.io/managed-by=berth', fieldSelector: undefined };
    const warnings = { labelSelector: undefined, fieldSelector: 'type=Warning' };
    expect(cluster.queries).toEqual([
      { path: ns(D, 'shop'), query: berth },
      { path: ns(D, 'web'), query: berth },
      { path: ns(RS, 'shop'), query: berth },
      { path: ns(RS, 'web'), query: berth },
      { path: ns(P, 'shop'), query: berth },
      { path: ns(P, 'web'), query: berth },
      { path: ns(E, 'shop'), query: warnings },
      { path: ns(E, 'web'), query: warnings },
      { path: ns(H, 'shop'), query: berth },
      { path: ns(H, 'web'), query: berth },
      { path: ns(E, 'shop'), query: { labelSelector: undefined, fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler' } },
      { path: ns(E, 'web'), query: { labelSelector: undefined, fieldSelector: 'involvedObject.kind=HorizontalPodAutoscaler' } },
    ]);
    await tick();
    expect(cluster.watchPaths.every((p) => p.includes('/namespaces/'))).toBe(true);
    expect(e.stats()).toEqual({ watchConnections: 12, reconnects: 0, subscribers: 0 });
    expect(e.informerStats().map((s) => [s.resource, s.watchConnections])).toEqual([
      ['deployments', 2],
      ['replicasets', 2],
      ['pods', 2],
      ['events', 2],
      ['hpas', 2],
      ['hpaEvents', 2],
    ]);
    const offs = Array.from({ length: 20 }, () => e.subscribe({}, () => undefined));
    seed(cluster, 'a', 'shop');
    await tick();
    expect(cluster.watchCalls).toBe(12);
    expect(e.stats()).toEqual({ watchConnections: 12, reconnects: 0, subscribers: 20 });
    for (const off of offs) off();
  });

  it('never sees apps, objects or events of namespaces it does not manage', async () => {
    const cluster = new FakeCluster();
    seed(cluster, 'a', 'shop');
    seed(cluster, 'b', 'web', false);
    seed(cluster, 'c', 'other');
    const e = await startWith(cluster, { namespaces: ['shop', 'web'] });
    expect(e.list().map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/a', 'web/b']);
    expect(e.get('other', 'c')).toBeUndefined();

    const seen: StatusEvent[] = [];
    e.subscribe({}, (ev) => seen.push(ev));
    seed(cluster, 'd', 'other');
    cluster.put(D, deployment('c', 'other', 0, 2), 'MODIFIED');
    cluster.put(E, {
      kind: 'Event',
      metadata: { name: 'c-abc-x1.1', namespace: 'other' },
      involvedObject: { kind: 'Pod', name: 'c-abc-x1', namespace: 'other' },
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      count: 1,
    });
    await tick();
    expect(seen).toEqual([]);

    cluster.put(P, pod('b', true, 'web'), 'MODIFIED');
    cluster.put(D, deployment('b', 'web', 1), 'MODIFIED');
    seed(cluster, 'e', 'shop');
    await tick();
    expect(seen.map((s) => `${s.namespace}/${s.name}:${s.status?.state}`).sort()).toEqual(['shop/e:Available', 'web/b:Available']);
    expect(e.list().map((s) => s.namespace).every((n) => n === 'shop' || n === 'web')).toBe(true);
  });

  it('rejects an empty namespace list instead of silently watching nothing', () => {
    expect(() => createStatusEngine({ kubeConfig: new KubeConfig(), transport: new FakeCluster(), namespaces: [] })).toThrow(
      expect.objectContaining({ code: 'BERTH_CONFIG_INVALID' }),
    );
  });
});
