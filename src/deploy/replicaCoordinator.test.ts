import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/auditLog.ts';
import type { Leadership } from '../cluster/leaderElector.ts';
import { createBerthMetrics } from '../metrics/berthMetrics.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { createReplicaRegistry } from '../store/replicaRegistry.ts';
import type { AppStore } from '../store/types.ts';
import { createDeployEngine, type DeployEngine } from './deployEngine.ts';
import type { EngineLogger } from './engineLogger.ts';
import { fakeCluster, fakeStatus, type FakeCluster } from './testing/fakeCluster.ts';
import { realClock } from '../kube/clock.ts';

const quiet: EngineLogger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const spec = (image: string): Record<string, unknown> => ({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop' }, spec: { image, port: 80, replicas: 1 } });

/** Leadership a test hands out and takes back. */
function switchable(initial: boolean): Leadership & { set(v: boolean): void } {
  let leading = initial;
  const listeners = new Set<(v: boolean) => void>();
  return {
    isLeader: () => leading,
    onChange: (l) => (listeners.add(l), () => listeners.delete(l)),
    set(v) {
      leading = v;
      for (const l of listeners) l(v);
    },
  };
}

let engines: DeployEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  engines = [];
});

function replica(store: AppStore, cluster: FakeCluster, identity: string, leadership: Leadership, prune: { pruneEveryMs?: number; claimGraceMs?: number } = {}, logger: EngineLogger = quiet): DeployEngine {
  const audit = createAuditLog({ store });
  const engine = createDeployEngine({
    store,
    cluster,
    status: fakeStatus(cluster),
    metrics: createBerthMetrics({ defaultMetrics: false }),
    logger,
    audit,
    rolloutTimeoutMs: 5_000,
    reconcileIntervalMs: 3_600_000,
    replicas: { identity, registry: createReplicaRegistry(store, realClock), leadership, heartbeatMs: 20, staleAfterMs: 200, orphanCheckMs: 20, ...prune },
  });
  engines.push(engine);
  return engine;
}

const until = async (what: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('several replicas on one store', () => {
  it('a follower reconciles nothing; the leader resumes a revision only once the replica carrying it is gone', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const registry = createReplicaRegistry(store, realClock);
    // Replica "c" accepted revision 1 and is alive (heartbeating); it has not applied it yet.
    const row = await store.createRevision({ namespace: 'shop', name: 'web', spec: spec('nginx:1.27'), action: 'deploy', diffSummary: 'created', actor: 'alice' });
    await registry.claim(row, 'c');
    let cAlive = true;
    const beat = setInterval(() => void (cAlive ? registry.heartbeat('c') : undefined), 20);
    try {
      await registry.heartbeat('c');
      const follower = replica(store, cluster, 'b', switchable(false));
      follower.start();
      expect(await follower.initialReconcile).toEqual({ resumed: 0, drifted: 0, errors: 0 });

      const leadership = switchable(true);
      const leader = replica(store, cluster, 'a', leadership);
      leader.start();
      await leader.initialReconcile;
      await new Promise((r) => setTimeout(r, 150));
      expect((await store.getRevision('shop', 'web', 1))?.outcome).toBe('accepted');

      cAlive = false; // killed
      await until(async () => (await store.getRevision('shop', 'web', 1))?.outcome === 'succeeded');
      expect(Object.fromEntries(await registry.claimsOf([row]))).toEqual({ 'shop/web#1': 'a' });
    } finally {
      clearInterval(beat);
    }
  });

  it('a replica that starts leading later picks up what was left, and one that stops leading stops reconciling', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    await store.createRevision({ namespace: 'shop', name: 'web', spec: spec('nginx:1.27'), action: 'deploy', diffSummary: 'created', actor: 'alice' });
    const leadership = switchable(false);
    const b = replica(store, cluster, 'b', leadership);
    b.start();
    await new Promise((r) => setTimeout(r, 100));
    // Unclaimed and not carried by anyone alive, but b does not lead: untouched.
    expect((await store.getRevision('shop', 'web', 1))?.outcome).toBe('accepted');
    leadership.set(true);
    await until(async () => (await store.getRevision('shop', 'web', 1))?.outcome === 'succeeded');
  });

  it('a revision accepted by a live follower is claimed by it in the same transaction and never resumed by the leader', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const leader = replica(store, cluster, 'a', switchable(true));
    const follower = replica(store, cluster, 'b', switchable(false));
    leader.start();
    follower.start();
    const result = await follower.deploy({ namespace: 'shop', name: 'web', document: spec('nginx:1.27'), actor: 'alice', wait: true });
    expect(result.revision).toBe(1);
    const registry = createReplicaRegistry(store, realClock);
    expect(Object.fromEntries(await registry.claimsOf([{ namespace: 'shop', name: 'web', revision: 1 }]))).toEqual({ 'shop/web#1': 'b' });
    await new Promise((r) => setTimeout(r, 100));
    const audit = createAuditLog({ store });
    // Exactly one audit row for the revision: the follower's deploy; the leader resumed nothing.
    expect((await audit.query({ app: 'web' })).items.map((r) => r.action)).toEqual(['app.deploy']);
  });

  it('only the leader prunes: a finished revision\'s claim goes once its grace has passed', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const leadership = switchable(false);
    const registry = createReplicaRegistry(store, realClock);
    const a = replica(store, cluster, 'a', leadership, { pruneEveryMs: 20, claimGraceMs: 100 });
    const b = replica(store, cluster, 'b', switchable(false), { pruneEveryMs: 20, claimGraceMs: 100 });
    a.start();
    b.start();
    await b.deploy({ namespace: 'shop', name: 'web', document: spec('nginx:1.27'), actor: 'alice', wait: true });
    const key = { namespace: 'shop', name: 'web', revision: 1 };
    expect((await store.getRevision('shop', 'web', 1))?.outcome).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 300));
    // Nobody leads: nobody prunes.
    expect(Object.fromEntries(await registry.claimsOf([key]))).toEqual({ 'shop/web#1': 'b' });
    leadership.set(true);
    await until(async () => (await registry.claimsOf([key])).size === 0);
  });

  it('a replica that starts leading reconciles at once (drift included), not at its next periodic pass an hour later', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const first = switchable(true);
    const a = replica(store, cluster, 'a', first);
    a.start();
    await a.deploy({ namespace: 'shop', name: 'web', document: spec('nginx:1.27'), actor: 'alice', wait: true });
    const leadership = switchable(false);
    const said: string[] = [];
    const b = replica(store, cluster, 'b', leadership, {}, { ...quiet, info: (_o: object, msg?: string) => void said.push(msg ?? '') });
    b.start();
    // The leader is gone; meanwhile someone deletes the Service.
    first.set(false);
    await a.stop();
    const service = { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' };
    cluster.tamper(service, () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(await cluster.get(service)).toBeUndefined();
    const took = Date.now();
    leadership.set(true);
    await until(async () => (await cluster.get(service)) !== undefined, 2_000);
    expect(Date.now() - took).toBeLessThan(2_000);
    await until(() => said.includes('first reconciliation as leader done'), 2_000);
  });
});
