import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../audit/auditLog.ts';
import { refKey } from '../cluster/clusterClient.ts';
import { createDeployEngine } from '../deploy/deployEngine.ts';
import { fakeCluster, fakeStatus } from '../deploy/testing/fakeCluster.ts';
import { createBerthMetrics } from '../metrics/berthMetrics.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { createStackEngine } from './stackEngine.ts';
import { simulateStackServers } from './testing/fakeServers.ts';
import { shopStack } from './testing/stackFixtures.ts';

const lines: string[] = [];
const logger = {
  info: (o: unknown, m?: string) => void lines.push(JSON.stringify(o) + (m ?? '')),
  warn: (o: unknown, m?: string) => void lines.push(JSON.stringify(o) + (m ?? '')),
  error: (o: unknown, m?: string) => void lines.push(JSON.stringify(o) + (m ?? '')),
  debug: () => undefined,
};

function harness() {
  const store = createMemoryAppStore();
  const cluster = fakeCluster();
  const { jobs } = simulateStackServers(cluster);
  const audit = createAuditLog({ store, logger });
  const engine = createDeployEngine({ store, cluster, status: fakeStatus(cluster), metrics: createBerthMetrics({ defaultMetrics: false }), logger, audit, rolloutTimeoutMs: 5000, reconcileIntervalMs: 0 });
  let n = 0;
  // Distinct, recognisable values: a kept password is told apart from a regenerated one.
  const random = (bytes: number) => `GENERATED${++n}`.padEnd(Math.ceil((bytes * 4) / 3), 'x');
  const stacks = createStackEngine({ store, cluster, engine, logger, audit, levelTimeoutMs: 2000, pollMs: 5, random });
  return { store, cluster, engine, stacks, audit, jobs };
}

const secretOf = (cluster: ReturnType<typeof fakeCluster>, ns: string, name: string) =>
  cluster.objects.get(refKey({ apiVersion: 'v1', kind: 'Secret', namespace: ns, name })) as { data: Record<string, string>; metadata: { annotations: Record<string, string> } } | undefined;
const decoded = (s: { data: Record<string, string> } | undefined, k: string) => Buffer.from(s?.data[k] ?? '', 'base64').toString();

describe('stack engine', () => {
  it('deploys resources first, then apps level by level, and reports every member Ready', async () => {
    const h = harness();
    const order: string[] = [];
    h.cluster.onChange(() => {
      for (const o of h.cluster.objects.values()) if ((o.kind === 'StatefulSet' || o.kind === 'Deployment') && !order.includes(o.metadata.name)) order.push(o.metadata.name);
    });
    const r = await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    expect(r.status?.phase).toBe('Ready');
    expect(r.status?.members.map((m) => [m.name, m.level, m.state])).toEqual([
      ['cache', 0, 'Ready'], ['db', 0, 'Ready'], ['files', 0, 'Ready'], ['session-key', 0, 'Ready'], ['auth', 1, 'Ready'], ['worker', 1, 'Ready'], ['api', 2, 'Ready'],
    ]);
    expect(order.indexOf('api')).toBeGreaterThan(order.indexOf('auth'));
    expect(Math.min(order.indexOf('auth'), order.indexOf('worker'))).toBeGreaterThan(Math.max(order.indexOf('db'), order.indexOf('cache'), order.indexOf('files')));
    expect((await h.stacks.stacks.listRevisions('shop', 'shop'))[0]).toMatchObject({ revision: 1, outcome: 'succeeded' });
    // The connection Secret is copied to each namespace of an app using it.
    expect(secretOf(h.cluster, 'auth', 'cache-connection')).toBeDefined();
    expect(secretOf(h.cluster, 'shop', 'files-connection')).toBeDefined();
  });

  it('keeps generated passwords across updates and changes them only on rotation, restarting users', async () => {
    const h = harness();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    const first = decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password');
    expect(first).toMatch(/^GENERATED/);
    const doc = shopStack() as { spec: { apps: Array<{ spec: { env: Record<string, string> } }> } };
    doc.spec.apps[0]!.spec.env.LOG_LEVEL = 'debug';
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: doc, actor: 'alice', wait: true });
    expect(decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password')).toBe(first);
    const applied: Array<{ kind: string; metadata: { name: string }; spec?: unknown }> = [];
    h.cluster.onChange(() => {
      for (const o of h.cluster.objects.values()) if ((o.kind === 'Job' || (o.kind === 'Secret' && o.metadata.name === 'db-connection-next')) && !applied.some((a) => a.kind === o.kind)) applied.push(structuredClone(o) as (typeof applied)[number]);
    });
    const rotated = await h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'db', actor: 'alice', wait: true });
    expect(rotated.status?.phase).toBe('Ready');
    // The new password went to the pending Secret, then the Job set it in the server, before the Secret switched.
    expect(applied.map((a) => a.kind)).toEqual(['Secret', 'Job']);
    const job = applied[1] as unknown as { metadata: { name: string }; spec: { template: { spec: { containers: Array<{ args: string[]; env: unknown[] }> } } } };
    expect(job.metadata.name).toBe('db-rotate-2');
    expect(job.spec.template.spec.containers[0]?.args).toEqual(['stack', 'set-password', 'postgres', '--host', '10.96.0.10', '--port', '5432', '--user', 'app', '--database', 'db']);
    expect(job.spec.template.spec.containers[0]?.env).toEqual([
      { name: 'BERTH_OLD_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-connection', key: 'password' } } },
      { name: 'BERTH_NEW_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-connection-next', key: 'password' } } },
    ]);
    // Done: the Job, its policies and the pending Secret are gone; the server did not restart.
    expect([...h.cluster.objects.values()].filter((o) => o.kind === 'Job' || o.metadata.name.startsWith('db-rotate') || o.metadata.name === 'db-connection-next')).toEqual([]);
    const sts = h.cluster.objects.get(refKey({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'shop', name: 'db' })) as unknown as { spec: { template: { metadata: { annotations?: unknown } } } };
    expect(sts.spec.template.metadata.annotations).toBeUndefined();
    const second = decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password');
    expect(second).not.toBe(first);
    expect(decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'url')).toContain(second);
    expect(secretOf(h.cluster, 'shop', 'db-connection')?.metadata.annotations['berth.dev/credentials-generation']).toBe('2');
    const worker = h.cluster.objects.get(refKey({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'worker-env' })) as unknown as { data: Record<string, string> };
    expect(worker.data.BERTH_CREDENTIALS_DB).toBe('2');
    await expect(h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'nope', actor: 'alice' })).rejects.toMatchObject({ code: 'BERTH_STACK_RESOURCE_NOT_FOUND' });
  });

  it('keeps the old password when the server does not take the new one, and retries with the same new one', async () => {
    const h = harness();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    const old = decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password');
    h.jobs.fail = true;
    const failed = await h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'db', actor: 'alice', wait: true });
    expect(failed.status?.phase).toBe('Failed');
    expect(failed.status?.message).toContain('did not take a new password: Job shop/db-rotate-2: BackoffLimitExceeded');
    expect(failed.status?.message).toContain('still holds the old password');
    // Nothing switched: the apps' Secrets (in every namespace) keep the old password; the new one waits.
    expect(decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password')).toBe(old);
    const pending = decoded(secretOf(h.cluster, 'shop', 'db-connection-next'), 'password');
    expect(pending).not.toBe(old);
    // The temporary policies went; the failed Job stays for its log.
    expect(h.cluster.objects.has(refKey({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace: 'shop', name: 'db-rotate-egress' }))).toBe(false);
    expect(h.cluster.objects.has(refKey({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'shop', name: 'db-rotate-2' }))).toBe(true);

    h.jobs.fail = false;
    expect((await h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'db', actor: 'alice', wait: true })).status?.phase).toBe('Ready');
    expect(decoded(secretOf(h.cluster, 'shop', 'db-connection'), 'password')).toBe(pending);
    expect(secretOf(h.cluster, 'shop', 'db-connection-next')).toBeUndefined();
  });

  it('does not rotate a server that is not Ready', async () => {
    const h = harness();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    const old = decoded(secretOf(h.cluster, 'auth', 'cache-connection'), 'password');
    h.cluster.tamper({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'auth', name: 'cache' }, (o) => ({ ...o, status: { readyReplicas: 0 } }) as typeof o);
    const r = await h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'cache', actor: 'alice', wait: true });
    expect(r.status?.message).toContain('is not Ready, and its password can only be changed while it runs');
    expect(decoded(secretOf(h.cluster, 'auth', 'cache-connection'), 'password')).toBe(old);
    expect(secretOf(h.cluster, 'auth', 'cache-connection-next')).toBeUndefined();
  });

  it('never stores, logs or audits a generated value', async () => {
    const h = harness();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    await h.stacks.rotate({ namespace: 'shop', name: 'shop', resource: 'cache', actor: 'alice', wait: true });
    const values = ['db-connection', 'files-connection'].flatMap((s) => Object.keys(secretOf(h.cluster, 'shop', s)?.data ?? {}).map((k) => decoded(secretOf(h.cluster, 'shop', s), k)))
      .concat(['cache-connection', 'session-key-connection'].flatMap((s) => ['password', 'value'].map((k) => decoded(secretOf(h.cluster, 'auth', s), k))))
      .filter((v) => v.startsWith('GENERATED') || v.includes('GENERATED'));
    expect(values.length).toBeGreaterThan(4);
    const stored = JSON.stringify([
      await h.store.listApps(),
      ...(await Promise.all((await h.store.listApps()).map((a) => h.store.listRevisions(a.namespace, a.name)))),
      await h.stacks.stacks.listStacks(),
      await h.stacks.stacks.listRevisions('shop', 'shop'),
      (await h.audit.query({ limit: 1000 })).items,
    ]);
    const rendered = JSON.stringify([...h.cluster.objects.values()].filter((o) => o.kind !== 'Secret'));
    for (const v of values) {
      const token = v.match(/GENERATED\d+/)?.[0] ?? v;
      expect(stored).not.toContain(token);
      expect(lines.join('\n')).not.toContain(token);
      expect(rendered).not.toContain(token);
    }
    expect((await h.audit.query({})).items.map((i) => i.action)).toContain('stack.rotate');
  });

  it('deletes a stack but keeps its data volumes unless purged', async () => {
    const h = harness();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    const deleted = await h.stacks.delete({ namespace: 'shop', name: 'shop', actor: 'alice' });
    expect(deleted.some((r) => r.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(deleted.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining(['StatefulSet/db', 'Deployment/api', 'Secret/db-connection', 'NetworkPolicy/shop-default-deny']));
    expect(await h.store.listApps()).toEqual([]);
    await expect(h.stacks.status('shop', 'shop')).rejects.toMatchObject({ code: 'BERTH_STACK_NOT_FOUND' });
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    h.cluster.objects.set(refKey({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data-db-0' }), { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-db-0', namespace: 'shop' } });
    const purged = await h.stacks.delete({ namespace: 'shop', name: 'shop', actor: 'alice', purge: true });
    expect(purged.map((r) => `${r.kind}/${r.name}`)).toContain('PersistentVolumeClaim/data-db-0');
    expect((await h.audit.query({})).items.filter((i) => i.action.startsWith('stack.')).map((i) => i.action)).toEqual(['stack.delete', 'stack.deploy', 'stack.delete', 'stack.deploy']);
  });

  it('refuses to take over an app deployed on its own, and rolls back to an earlier revision', async () => {
    const h = harness();
    await h.engine.deploy({ namespace: 'shop', name: 'worker', document: { apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name: 'worker', namespace: 'shop' }, spec: { image: 'nginx:1.27' } }, actor: 'bob', wait: true });
    await expect(h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice' })).rejects.toMatchObject({ code: 'BERTH_STACK_MEMBER_CONFLICT' });
    expect(await h.stacks.stacks.getStack('shop', 'shop')).toBeUndefined();
    await h.engine.delete({ namespace: 'shop', name: 'worker', actor: 'bob' });
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    const doc = shopStack() as { spec: { apps: unknown[] } };
    doc.spec.apps.pop();
    await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: doc, actor: 'alice', wait: true });
    expect(await h.store.getApp('shop', 'worker')).toBeUndefined();
    const back = await h.stacks.rollback({ namespace: 'shop', name: 'shop', revision: 1, actor: 'alice', wait: true });
    expect(back).toMatchObject({ revision: 3, status: { phase: 'Ready' } });
    expect(await h.store.getApp('shop', 'worker')).toBeDefined();
    expect((await h.stacks.stacks.listRevisions('shop', 'shop')).map((r) => [r.revision, r.action, r.rollbackOf])).toEqual([[3, 'rollback', 1], [2, 'deploy', null], [1, 'deploy', null]]);
  });

  it('shows which dependency an app waits on when a resource never becomes Ready', async () => {
    const h = harness();
    const cluster = h.cluster;
    // This cluster never starts the redis server.
    cluster.onChange(() => {
      for (const [k, o] of cluster.objects) if (o.kind === 'StatefulSet' && o.metadata.name === 'cache') cluster.objects.set(k, { ...o, status: { readyReplicas: 0 } } as typeof o);
    });
    const r = await h.stacks.deploy({ namespace: 'shop', name: 'shop', document: shopStack(), actor: 'alice', wait: true });
    expect(r.status?.phase).toBe('Failed');
    const auth = r.status?.members.find((m) => m.name === 'auth');
    expect(auth).toMatchObject({ state: 'Blocked', waitingOn: ['cache'] });
    expect(r.status?.members.find((m) => m.name === 'cache')?.state).toBe('Failed');
    expect(await h.store.getApp('auth', 'auth')).toBeUndefined();
    expect((await h.stacks.stacks.listRevisions('shop', 'shop'))[0]).toMatchObject({ outcome: 'failed', reason: 'BERTH_STACK_DEPENDENCY_FAILED' });
  });
});
