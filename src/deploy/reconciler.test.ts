import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/auditLog.ts';
import { BerthError } from '../errors.ts';
import { createBerthMetrics } from '../metrics/berthMetrics.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import type { AppStore } from '../store/types.ts';
import { createDeployEngine, type DeployEngine } from './deployEngine.ts';
import { fakeCluster, fakeStatus, type FakeCluster } from './testing/fakeCluster.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const spec = (image: string): Record<string, unknown> => ({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'web', namespace: 'shop' }, spec: { image, port: 80, replicas: 1 } });

let engines: DeployEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  engines = [];
});

function engineOn(store: AppStore, cluster: FakeCluster) {
  const audit = createAuditLog({ store });
  const engine = createDeployEngine({ store, cluster, status: fakeStatus(cluster), metrics: createBerthMetrics({ defaultMetrics: false }), logger: quiet, audit, rolloutTimeoutMs: 5_000, reconcileIntervalMs: 0 });
  engines.push(engine);
  return { engine, audit };
}

/** Two revisions a killed process accepted and never applied. */
async function interrupted(store: AppStore): Promise<void> {
  for (const image of ['nginx:1.26', 'nginx:1.27']) {
    await store.createRevision({ namespace: 'shop', name: 'web', spec: spec(image), action: 'deploy', diffSummary: `image ${image}`, actor: 'alice' });
  }
}

describe('reconciliation audits as berth', () => {
  it('resumes an unfinished revision with a system row, not as the person who made it', async () => {
    const store = createMemoryAppStore();
    await interrupted(store);
    const cluster = fakeCluster();
    const { engine, audit } = engineOn(store, cluster);
    engine.start();
    expect(await engine.initialReconcile).toMatchObject({ resumed: 1, errors: 0 });
    await engine.rolloutOf('shop', 'web', 2);
    expect((await store.getRevision('shop', 'web', 2))?.outcome).toBe('succeeded');
    expect((await store.getRevision('shop', 'web', 1))?.outcome).toBe('superseded');

    const rows = (await audit.query({ app: 'web' })).items.slice().reverse();
    // Revision 1 was superseded by the store when revision 2 was accepted: nothing for reconciliation to do.
    expect(rows.map((r) => [r.actor, r.actorKind, r.action, r.revision, r.outcome])).toEqual([['berth', 'system', 'app.resume', 2, 'succeeded']]);
    expect(rows[0]?.diffSummary).toBe('resumed revision 2 after a restart: applied its objects, tracking its rollout');
  });

  it('records a resume that fails for good as failed, once', async () => {
    const store = createMemoryAppStore();
    await interrupted(store);
    const cluster = fakeCluster();
    cluster.failApply = new BerthError('BERTH_CLUSTER_REJECTED', 'admission webhook denied the Deployment');
    const { engine, audit } = engineOn(store, cluster);
    engine.start();
    await engine.initialReconcile;
    await engine.reconcile();
    expect((await store.getRevision('shop', 'web', 2))?.outcome).toBe('failed');
    const resumes = (await audit.query({ app: 'web' })).items.filter((r) => r.action === 'app.resume');
    expect(resumes.map((r) => [r.actor, r.actorKind, r.outcome, r.reason])).toEqual([['berth', 'system', 'failed', 'admission webhook denied the Deployment']]);
  });

  it('repairs drift as berth, and a repair that keeps failing is one row with a coded reason', async () => {
    const store = createMemoryAppStore();
    const cluster = fakeCluster();
    const { engine, audit } = engineOn(store, cluster);
    await engine.deploy({ namespace: 'shop', name: 'web', document: spec('nginx:1.27'), actor: 'alice', wait: true, audit: { actorKind: 'token' } });
    const service = { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'web' };
    cluster.tamper(service, () => undefined);
    expect(await engine.reconcile()).toMatchObject({ drifted: 1 });
    expect(engine.driftOf('shop', 'web')).toMatchObject({ repaired: true, error: null, reason: null });

    cluster.tamper(service, () => undefined);
    cluster.failApply = new BerthError('BERTH_CLUSTER_FORBIDDEN', 'services is forbidden');
    await engine.reconcile();
    await engine.reconcile();
    expect(engine.driftOf('shop', 'web')).toMatchObject({ repaired: false, error: 'services is forbidden', reason: 'BERTH_CLUSTER_FORBIDDEN' });

    const rows = (await audit.query({ app: 'web' })).items.slice().reverse();
    expect(rows.map((r) => [r.actor, r.actorKind, r.action, r.outcome, r.reason])).toEqual([
      ['alice', 'token', 'app.deploy', 'succeeded', null],
      ['berth', 'system', 'app.drift.repair', 'succeeded', null],
      ['berth', 'system', 'app.drift.repair', 'failed', 'BERTH_CLUSTER_FORBIDDEN: services is forbidden'],
    ]);
    expect(rows[1]?.diffSummary).toBe('re-applied revision 1: Service/web missing');
  });
});
