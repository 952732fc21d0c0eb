import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from '../audit/auditLog.ts';
import { refKey } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import { createBerthMetrics } from '../metrics/berthMetrics.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import type { AppStore } from '../store/types.ts';
import { createDeployEngine, type DeployEngine } from './deployEngine.ts';
import { fakeCluster, fakeStatus, type FakeCluster } from './testing/fakeCluster.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function appDoc(env: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web' }, spec: { image: 'nginx:1.27', port: 80, replicas: 2, env, ...extra } };
}

interface Harness {
  engine: DeployEngine;
  store: AppStore;
  cluster: FakeCluster;
  audit: AuditLog;
}

let engines: DeployEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  engines = [];
});

function harness(store: AppStore = createMemoryAppStore(), cluster: FakeCluster = fakeCluster()): Harness {
  const audit = createAuditLog({ store });
  const engine = createDeployEngine({
    store,
    cluster,
    status: fakeStatus(cluster),
    metrics: createBerthMetrics({ defaultMetrics: false }),
    logger: quiet,
    audit,
    rolloutTimeoutMs: 5_000,
    reconcileIntervalMs: 0,
  });
  engines.push(engine);
  return { engine, store, cluster, audit };
}

const deploy = (h: Harness, doc: unknown, more: { expectedRevision?: number; wait?: boolean } = {}) =>
  h.engine.deploy({ namespace: 'shop', name: 'web', document: doc, actor: 'alice', wait: true, ...more });

describe('re-deploying an unchanged App', () => {
  it('answers unchanged with the current revision, records no revision and audits it as app.deploy.unchanged', async () => {
    const h = harness();
    const first = await deploy(h, appDoc({ A: '1', B: '2' }));
    expect(first).toMatchObject({ revision: 1, unchanged: false, rollout: { outcome: 'succeeded' } });
    const applies = h.cluster.applies;

    // Same spec, env keys in another order: the same resolved App.
    const again = await deploy(h, appDoc({ B: '2', A: '1' }));
    expect(again).toMatchObject({ revision: 1, unchanged: true, dryRun: false, rollout: { outcome: 'succeeded' } });
    expect(again.changes.length).toBeGreaterThan(0);
    expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(h.cluster.applies).toBe(applies);
    expect((await h.store.listRevisions('shop', 'web')).map((r) => r.revision)).toEqual([1]);

    const rows = (await h.audit.query({})).items.map((r) => `${r.action} ${r.revision} ${r.outcome}`).reverse();
    expect(rows).toEqual(['app.deploy 1 succeeded', 'app.deploy.unchanged 1 succeeded']);
  });

  it('ten unchanged deploys leave one revision', async () => {
    const h = harness();
    for (let i = 0; i < 10; i++) await deploy(h, appDoc({ A: '1' }), { wait: false });
    await h.engine.rolloutOf('shop', 'web', 1);
    for (let i = 0; i < 3; i++) expect((await deploy(h, appDoc({ A: '1' }))).revision).toBe(1);
    expect((await h.store.getApp('shop', 'web'))?.revision).toBe(1);
  });

  it('is a new revision when the spec changed, an object drifted, or the newest revision did not succeed', async () => {
    const h = harness();
    await deploy(h, appDoc({ A: '1' }));
    expect(await deploy(h, appDoc({ A: '2' }))).toMatchObject({ revision: 2, unchanged: false });

    // Someone deleted the Service: re-deploying the same spec repairs it as a new revision.
    const service = { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' };
    h.cluster.tamper(service, () => undefined);
    const repaired = await deploy(h, appDoc({ A: '2' }));
    expect(repaired).toMatchObject({ revision: 3, unchanged: false });
    expect(repaired.changes.find((c) => c.ref.kind === 'Service')?.action).toBe('create');
    expect(h.cluster.objects.has(refKey(service))).toBe(true);

    // A failed newest revision is retried by deploying it again.
    h.cluster.failApply = new BerthError('BERTH_CLUSTER_REJECTED', 'admission said no');
    await expect(deploy(h, appDoc({ A: '3' }))).rejects.toMatchObject({ code: 'BERTH_CLUSTER_REJECTED' });
    h.cluster.failApply = undefined;
    expect(await deploy(h, appDoc({ A: '3' }))).toMatchObject({ revision: 5, unchanged: false, rollout: { outcome: 'succeeded' } });
  });

  it('still honours If-Match: a stale revision is a conflict even for the same spec', async () => {
    const h = harness();
    await deploy(h, appDoc({ A: '1' }));
    await deploy(h, appDoc({ A: '2' }));
    await expect(deploy(h, appDoc({ A: '2' }), { expectedRevision: 1 })).rejects.toMatchObject({ code: 'BERTH_REVISION_CONFLICT' });
    expect(await deploy(h, appDoc({ A: '2' }), { expectedRevision: 2 })).toMatchObject({ revision: 2, unchanged: true });
  });

  it('a rollback is always a new revision', async () => {
    const h = harness();
    await deploy(h, appDoc({ A: '1' }));
    const r = await h.engine.rollback({ namespace: 'shop', name: 'web', revision: 1, actor: 'alice', wait: true });
    expect(r).toMatchObject({ revision: 2, unchanged: false });
  });
});

describe('apply failures', () => {
  const cases: Array<[string, unknown, string]> = [
    ['rejected by admission', new BerthError('BERTH_CLUSTER_REJECTED', 'admission webhook denied it'), 'ClusterRejected'],
    ['forbidden by RBAC', new BerthError('BERTH_CLUSTER_FORBIDDEN', 'no Role'), 'ClusterForbidden'],
    ['anything else', new Error('boom'), 'ApplyFailed'],
  ];

  it.each(cases)('%s records the same reason whether a deploy or the resumption of an interrupted revision applied it', async (_what, error, reason) => {
    // A deploy that applies at once.
    const direct = harness();
    direct.cluster.failApply = error;
    await expect(deploy(direct, appDoc({ A: '1' }))).rejects.toBeInstanceOf(BerthError);
    expect(await direct.store.getRevision('shop', 'web', 1)).toMatchObject({ outcome: 'failed', reason });

    // A revision a previous server accepted but never applied, resumed by reconciliation.
    const store = createMemoryAppStore();
    await store.createRevision({ namespace: 'shop', name: 'web', spec: { ...appDoc({ A: '1' }), metadata: { name: 'web', namespace: 'shop' } }, action: 'deploy', diffSummary: 'created', actor: 'alice' });
    const resumed = harness(store);
    resumed.cluster.failApply = error;
    const report = await resumed.engine.reconcile();
    expect(report.errors).toBe(0);
    expect(await store.getRevision('shop', 'web', 1)).toMatchObject({ outcome: 'failed', reason });
  });

  it('an unreachable cluster leaves the resumed revision accepted, to retry', async () => {
    const store = createMemoryAppStore();
    await store.createRevision({ namespace: 'shop', name: 'web', spec: { ...appDoc({ A: '1' }), metadata: { name: 'web', namespace: 'shop' } }, action: 'deploy', diffSummary: 'created', actor: 'alice' });
    const h = harness(store);
    h.cluster.failApply = new BerthError('BERTH_CLUSTER_UNREACHABLE', 'gone');
    expect((await h.engine.reconcile()).errors).toBe(1);
    expect(await store.getRevision('shop', 'web', 1)).toMatchObject({ outcome: 'accepted' });
    h.cluster.failApply = undefined;
    await h.engine.reconcile();
    await h.engine.rolloutOf('shop', 'web', 1);
    expect(await store.getRevision('shop', 'web', 1)).toMatchObject({ outcome: 'succeeded' });
  });
});

describe('delete tells the prober first', () => {
  it('calls onDeleting before any object is removed, once per delete', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const seen: string[] = [];
    const engine = createDeployEngine({
      store,
      cluster,
      status: fakeStatus(cluster),
      metrics: createBerthMetrics({ defaultMetrics: false }),
      logger: quiet,
      rolloutTimeoutMs: 5_000,
      reconcileIntervalMs: 0,
      onDeleting: (ns, name) => seen.push(`${ns}/${name} with ${cluster.objects.size} objects live`),
    });
    engines.push(engine);
    await engine.deploy({ namespace: 'shop', name: 'web', document: appDoc({ A: '1' }), actor: 'alice', wait: true });
    const live = cluster.objects.size;
    await engine.delete({ namespace: 'shop', name: 'web', actor: 'alice' });
    expect(seen).toEqual([`shop/web with ${live} objects live`]);
  });
});
