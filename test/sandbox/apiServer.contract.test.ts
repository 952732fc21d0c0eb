import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import { kubeConfigFor, raw, statusOf, until } from './testing/sandboxTestKit.ts';

let sb: Sandbox;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  sb = await startSandbox({ port: 0, controllers: false });
  kc = kubeConfigFor(sb.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
});
afterAll(async () => {
  await sb.stop();
});

function cm(name: string, labels: Record<string, string> = {}, namespace = 'default'): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { k: 'v' } };
}

function deployment(name: string, extra: Partial<V1Deployment['spec']> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }] } },
      ...extra,
    },
  };
}

describe('CRUD and errors', () => {
  it('creates, reads, updates with optimistic concurrency and deletes', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('crud') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    const again = await statusOf(() => core.createNamespacedConfigMap({ namespace: 'default', body: cm('crud') }));
    expect(again).toMatchObject({ kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'configmaps "crud" already exists' });

    const got = await core.readNamespacedConfigMap({ name: 'crud', namespace: 'default' });
    got.data = { k: 'v2' };
    const updated = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: 'default', body: got });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(got.metadata?.resourceVersion));
    const stale = await statusOf(() => core.replaceNamespacedConfigMap({ name: 'crud', namespace: 'default', body: got }));
    expect(stale.code).toBe(409);
    expect(stale.reason).toBe('Conflict');
    expect(stale.message).toBe('Operation cannot be fulfilled on configmaps "crud": the object has been modified; please apply your changes to the latest version and try again');

    await core.deleteNamespacedConfigMap({ name: 'crud', namespace: 'default' });
    const gone = await statusOf(() => core.readNamespacedConfigMap({ name: 'crud', namespace: 'default' }));
    expect(gone).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "crud" not found', reason: 'NotFound', details: { name: 'crud', kind: 'configmaps' }, code: 404 });
  });

  it('answers NotFound with the group in the message and 404 for unknown groups', async () => {
    const s = await statusOf(() => apps.readNamespacedDeployment({ name: 'nope', namespace: 'default' }));
    expect(s.message).toBe('deployments.apps "nope" not found');
    expect(s.details).toMatchObject({ group: 'apps', kind: 'deployments', name: 'nope' });
    const crd = await raw(sb.url, '/apis/monitoring.coreos.com/v1/namespaces/default/servicemonitors');
    expect(crd.status).toBe(404);
    expect(crd.body).toMatchObject({ kind: 'Status', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 });
  });

  it('rejects invalid objects with 422 and field causes', async () => {
    const d = deployment('invalid');
    delete (d.spec as { selector?: unknown }).selector;
    const s = await statusOf(() => apps.createNamespacedDeployment({ namespace: 'default', body: d }));
    expect(s.code).toBe(422);
    expect(s.reason).toBe('Invalid');
    expect(s.message).toBe('Deployment.apps "invalid" is invalid: spec.selector: Required value');
    expect(s.details?.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' }]);

    const bad = await statusOf(() =>
      core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 70000 }], type: 'Nope' } } }),
    );
    expect(bad.message).toContain('Service "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": a DNS-1035 label');
    expect(bad.details?.causes?.map((c) => c.field)).toEqual(['metadata.name', 'spec.type', 'spec.ports[0].port', 'spec.ports[0].targetPort']);
  });

  it('applies defaults and tracks generation on spec changes only', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('defaults') });
    expect(d.metadata?.generation).toBe(1);
    expect(d.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(d.spec?.revisionHistoryLimit).toBe(10);
    expect(d.spec?.progressDeadlineSeconds).toBe(600);
    const c = d.spec?.template.spec?.containers[0];
    expect(c?.imagePullPolicy).toBe('IfNotPresent');
    expect(d.spec?.template.spec?.containers[1]?.imagePullPolicy).toBe('Always');
    expect(c?.terminationMessagePath).toBe('/dev/termination-log');
    expect(d.spec?.template.spec?.restartPolicy).toBe('Always');
    const labelled = await apps.patchNamespacedDeployment({ name: 'defaults', namespace: 'default', body: { metadata: { labels: { a: 'b' } } } }, setMerge());
    expect(labelled.metadata?.generation).toBe(1);
    const scaled = await apps.patchNamespacedDeployment({ name: 'defaults', namespace: 'default', body: { spec: { replicas: 3 } } }, setMerge());
    expect(scaled.metadata?.generation).toBe(2);
    // The main resource ignores status; /status ignores spec.
    const withStatus = await apps.replaceNamespacedDeploymentStatus({
      name: 'defaults',
      namespace: 'default',
      body: { ...scaled, spec: { ...scaled.spec!, replicas: 9 }, status: { replicas: 3, readyReplicas: 2 } },
    });
    expect(withStatus.status?.readyReplicas).toBe(2);
    expect(withStatus.spec?.replicas).toBe(3);
    const ignored = await apps.replaceNamespacedDeployment({ name: 'defaults', namespace: 'default', body: { ...withStatus, status: { replicas: 0 } } });
    expect(ignored.status?.readyReplicas).toBe(2);

    const svc = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    expect(svc.spec?.type).toBe('ClusterIP');
    expect(svc.spec?.clusterIP).toMatch(/^127\.96\.\d+\.\d+$/);
    expect(svc.spec?.ports?.[0]).toMatchObject({ protocol: 'TCP', targetPort: 80 });
    expect(svc.spec?.sessionAffinity).toBe('None');
    const ns = await core.readNamespace({ name: 'default' });
    expect(ns.metadata?.labels?.['kubernetes.io/metadata.name']).toBe('default');
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
    expect(ns.status?.phase).toBe('Active');
    const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'kube-system' });
    expect(sa.metadata?.name).toBe('default');
  });

  it('honours dryRun=All on create, patch and delete', async () => {
    const dry = await core.createNamespacedConfigMap({ namespace: 'default', body: cm('dry'), dryRun: 'All' });
    expect(dry.metadata?.name).toBe('dry');
    await statusOf(() => core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' }));
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('dry') });
    const patched = await core.patchNamespacedConfigMap({ name: 'dry', namespace: 'default', body: { data: { k: 'x' } }, dryRun: 'All' }, setMerge());
    expect(patched.data?.['k']).toBe('x');
    expect((await core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' })).data?.['k']).toBe('v');
    await core.deleteNamespacedConfigMap({ name: 'dry', namespace: 'default', dryRun: 'All' });
    expect((await core.readNamespacedConfigMap({ name: 'dry', namespace: 'default' })).metadata?.name).toBe('dry');
  });

  it('generates names', async () => {
    const c = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    expect(c.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });
});

function setMerge(): { middleware: never[]; middlewareMergeStrategy: 'append' } & Record<string, unknown> {
  // client-node picks the patch Content-Type from the first entry of its list: json-patch. Override it.
  return {
    middleware: [
      {
        pre: (ctx: { setHeaderParam(k: string, v: string): void }) => {
          ctx.setHeaderParam('Content-Type', 'application/merge-patch+json');
          return { toPromise: () => Promise.resolve(ctx) } as never;
        },
        post: (rc: unknown) => ({ toPromise: () => Promise.resolve(rc) }) as never,
      } as never,
    ],
    middlewareMergeStrategy: 'append',
  };
}

describe('list', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const specs: [string, Record<string, string>][] = [
      ['a', { app: 'web', tier: 'front' }],
      ['b', { app: 'web', tier: 'back' }],
      ['c', { app: 'db' }],
      ['d', {}],
      ['e', { app: 'cache', tier: 'back' }],
    ];
    for (const [n, l] of specs) await core.createNamespacedConfigMap({ namespace: 'sel', body: cm(n, l, 'sel') });
  });

  const names = async (labelSelector?: string, fieldSelector?: string): Promise<string[]> =>
    (await core.listNamespacedConfigMap({ namespace: 'sel', labelSelector, fieldSelector })).items.map((i) => i.metadata?.name ?? '').filter((n) => n !== 'kube-root-ca.crt');

  it('filters with the full label selector grammar', async () => {
    expect(await names('app=web')).toEqual(['a', 'b']);
    expect(await names('app==web,tier!=front')).toEqual(['b']);
    expect(await names('app in (web, db)')).toEqual(['a', 'b', 'c']);
    expect(await names('app notin (web),tier')).toEqual(['e']);
    expect(await names('!app')).toEqual(['d']);
    expect(await names('tier')).toEqual(['a', 'b', 'e']);
    const s = await statusOf(() => names('app in web'));
    expect(s.code).toBe(400);
  });

  it('filters with field selectors', async () => {
    expect(await names(undefined, 'metadata.name=c')).toEqual(['c']);
    expect(await names(undefined, 'metadata.name!=c,metadata.namespace=sel')).toEqual(['a', 'b', 'd', 'e']);
    const s = await statusOf(() => names(undefined, 'spec.nodeName=x'));
    expect(s.message).toBe('field label not supported: spec.nodeName');
  });

  it('paginates with limit and an opaque continue token', async () => {
    const p1 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 2 });
    expect(p1.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    expect(p1.metadata?.remainingItemCount).toBe(3);
    const p2 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 2, _continue: p1.metadata?._continue });
    expect(p2.items.map((i) => i.metadata?.name)).toEqual(['c', 'd']);
    const p3 = await core.listNamespacedConfigMap({ namespace: 'sel', limit: 2, _continue: p2.metadata?._continue });
    expect(p3.items.map((i) => i.metadata?.name)).toEqual(['e']);
    expect(p3.metadata?._continue).toBeUndefined();
  });
});

describe('watch', () => {
  it('starts with ADDED for existing objects, resumes from a resourceVersion and reports 410 after compaction', async () => {
    await core.createNamespace({ body: { metadata: { name: 'w' } } });
    await core.createNamespacedConfigMap({ namespace: 'w', body: cm('first', {}, 'w') });
    const events: [string, string][] = [];
    const watch = new Watch(kc);
    const ctl = await watch.watch('/api/v1/namespaces/w/configmaps', {}, (type, o: V1ConfigMap) => events.push([type, o.metadata?.name ?? '']), () => {});
    await until(() => events.length >= 1 || undefined, 3000, 'initial ADDED');
    const second = await core.createNamespacedConfigMap({ namespace: 'w', body: cm('second', {}, 'w') });
    await core.patchNamespacedConfigMap({ name: 'second', namespace: 'w', body: { data: { x: 'y' } } }, setMerge());
    await core.deleteNamespacedConfigMap({ name: 'first', namespace: 'w' });
    await until(() => events.length >= 4 || undefined, 3000, 'live events');
    ctl.abort();
    expect(events).toEqual([
      ['ADDED', 'first'],
      ['ADDED', 'second'],
      ['MODIFIED', 'second'],
      ['DELETED', 'first'],
    ]);

    // Resume from the second object's creation: only what came after is replayed.
    const replay: [string, string][] = [];
    const ctl2 = await watch.watch('/api/v1/namespaces/w/configmaps', { resourceVersion: second.metadata?.resourceVersion }, (type, o: V1ConfigMap) => replay.push([type, o.metadata?.name ?? '']), () => {});
    await until(() => replay.length >= 2 || undefined, 3000, 'replay');
    ctl2.abort();
    expect(replay).toEqual([
      ['MODIFIED', 'second'],
      ['DELETED', 'first'],
    ]);

    sb.faults.compactHistory();
    const errors: unknown[] = [];
    let done = false;
    await watch.watch(
      '/api/v1/namespaces/w/configmaps',
      { resourceVersion: second.metadata?.resourceVersion },
      (type, o) => {
        if (type === 'ERROR') errors.push(o);
      },
      () => {
        done = true;
      },
    );
    await until(() => done || undefined, 3000, 'watch end');
    expect(errors[0]).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect((errors[0] as { message: string }).message).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('sends ADDED/DELETED when objects move in and out of a label selector', async () => {
    const events: string[] = [];
    const ctl = await new Watch(kc).watch('/api/v1/namespaces/default/configmaps', { labelSelector: 'team=x', resourceVersion: (await core.listNamespacedConfigMap({ namespace: 'default' })).metadata?.resourceVersion }, (t) => events.push(t), () => {});
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('mover') });
    await core.patchNamespacedConfigMap({ name: 'mover', namespace: 'default', body: { metadata: { labels: { team: 'x' } } } }, setMerge());
    await core.patchNamespacedConfigMap({ name: 'mover', namespace: 'default', body: { metadata: { labels: { team: 'y' } } } }, setMerge());
    await until(() => events.length >= 2 || undefined, 3000, 'selector events');
    ctl.abort();
    expect(events).toEqual(['ADDED', 'DELETED']);
  });
});

describe('patch', () => {
  it('merges containers by name with a strategic merge patch and supports $patch: delete', async () => {
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('smp') });
    const spec = { spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:1.28', env: [{ name: 'A', value: '1' }] }] } } } };
    const d = await objects.patch({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'smp', namespace: 'default' }, ...spec }, undefined, undefined, undefined, undefined, PatchStrategy.StrategicMergePatch);
    const containers = (d as V1Deployment).spec?.template.spec?.containers ?? [];
    expect(containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=nginx:1.28', 'side=busybox']);
    expect(containers[0]?.env).toEqual([{ name: 'A', value: '1' }]);
    // client-node's serializer drops `$patch`, so send this one raw.
    const del = await raw(sb.url, '/apis/apps/v1/namespaces/default/deployments/smp', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'side', $patch: 'delete' }] } } } }),
    });
    expect((del.body as V1Deployment).spec?.template.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('applies JSON patches and merge patches', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm('jp') });
    const j = await core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: [{ op: 'add', path: '/data/n', value: '1' }, { op: 'remove', path: '/data/k' }] });
    expect(j.data).toEqual({ n: '1' });
    const m = await core.patchNamespacedConfigMap({ name: 'jp', namespace: 'default', body: { data: { n: null, o: '2' } } }, setMerge());
    expect(m.data).toEqual({ o: '2' });
    const bad = await raw(sb.url, '/api/v1/namespaces/default/configmaps/jp', { method: 'PATCH', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    expect(bad.status).toBe(415);
    expect(bad.body).toMatchObject({ reason: 'UnsupportedMediaType' });
  });
});

describe('server-side apply', () => {
  const applied = (replicas: number, image = 'nginx:1.27'): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ssa', namespace: 'default', labels: { owner: 'a' } },
    spec: { replicas, selector: { matchLabels: { app: 'ssa' } }, template: { metadata: { labels: { app: 'ssa' } }, spec: { containers: [{ name: 'app', image }] } } },
  });
  const apply = (o: V1Deployment, manager: string, force = false): Promise<V1Deployment> => objects.patch(o, undefined, undefined, manager, force, PatchStrategy.ServerSideApply) as Promise<V1Deployment>;

  it('tracks ownership, reports conflicts in kube-apiserver shape, forces and removes dropped fields', async () => {
    const first = await apply(applied(2), 'manager-a');
    expect(first.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['manager-a', 'Apply']]);
    const fields = first.metadata?.managedFields?.[0]?.fieldsV1 as Record<string, Record<string, unknown>>;
    expect(fields['f:spec']?.['f:replicas']).toEqual({});
    expect(Object.keys(fields['f:spec']?.['f:template'] ?? {})).toEqual(['f:metadata', 'f:spec']);
    expect(fields['f:spec']?.['f:revisionHistoryLimit']).toBeUndefined();

    // Same value: shared ownership, no conflict.
    await apply({ ...applied(2), metadata: { name: 'ssa', namespace: 'default' } }, 'manager-b');
    const s = await statusOf(() => apply({ ...applied(5), metadata: { name: 'ssa', namespace: 'default' } }, 'manager-c'));
    expect(s.code).toBe(409);
    expect(s.reason).toBe('Conflict');
    expect(s.message).toBe('Apply failed with 2 conflicts: conflicts with "manager-a":\n- .spec.replicas\nconflicts with "manager-b":\n- .spec.replicas');

    await apps.patchNamespacedDeployment({ name: 'ssa', namespace: 'default', body: { spec: { replicas: 3 } }, fieldManager: 'kubectl-client-side-apply' }, setMerge());
    const one = await statusOf(() => apply({ ...applied(4), metadata: { name: 'ssa', namespace: 'default' } }, 'manager-a'));
    expect(one.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(one.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);

    const forced = await apply(applied(4), 'manager-a', true);
    expect(forced.spec?.replicas).toBe(4);
    expect(forced.metadata?.managedFields?.find((m) => m.manager === 'kubectl-client-side-apply')).toBeUndefined();

    // manager-a stops setting the label: nobody else owns it, so it is removed.
    const dropped = await apply({ ...applied(4), metadata: { name: 'ssa', namespace: 'default' } }, 'manager-a');
    expect(dropped.metadata?.labels?.['owner']).toBeUndefined();

    const missing = await statusOf(() => objects.patch(applied(1), undefined, undefined, undefined, undefined, PatchStrategy.ServerSideApply));
    expect(missing.code).toBe(400);
  });
});

describe('server-side apply: who owns a field afterwards', () => {
  const cmOf = (name: string, data: Record<string, string>): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
  const apply = (o: V1ConfigMap, manager: string, force = false): Promise<V1ConfigMap> => objects.patch(o, undefined, undefined, manager, force, PatchStrategy.ServerSideApply) as Promise<V1ConfigMap>;
  const managers = (o: V1ConfigMap): Array<Array<string | undefined>> => (o.metadata?.managedFields ?? []).map((m) => [m.manager, m.operation]);

  it('drops a manager whose only field another manager took by force (kube-apiserver keeps no empty entry)', async () => {
    await apply(cmOf('owners-force', { x: '1' }), 'manager-a');
    const forced = await apply(cmOf('owners-force', { x: '2' }), 'manager-b', true);
    expect(forced.data).toEqual({ x: '2' });
    expect(managers(forced)).toEqual([['manager-b', 'Apply']]);
  });

  it('moves a field to the manager that updated it, keeps it when the applier stops applying it, and deletes what nobody owns', async () => {
    await apply(cmOf('owners-update', { x: '1', y: '1', z: '1' }), 'manager-a');
    await core.patchNamespacedConfigMap({ name: 'owners-update', namespace: 'default', body: { data: { x: '2' } }, fieldManager: 'editor' }, setMerge());
    const updated = await core.readNamespacedConfigMap({ name: 'owners-update', namespace: 'default' });
    expect(managers(updated)).toEqual([
      ['manager-a', 'Apply'],
      ['editor', 'Update'],
    ]);
    expect(JSON.stringify(updated.metadata?.managedFields?.[1]?.fieldsV1)).toBe('{"f:data":{"f:x":{}}}');

    // manager-a now applies only y: x stays (the editor owns it), z goes (nobody else owns it).
    const after = await apply(cmOf('owners-update', { y: '1' }), 'manager-a');
    expect(after.data).toEqual({ x: '2', y: '1' });
    expect(managers(after)).toEqual([
      ['manager-a', 'Apply'],
      ['editor', 'Update'],
    ]);
  });
});

describe('deletion', () => {
  const owner = async (name: string): Promise<V1ConfigMap> => core.createNamespacedConfigMap({ namespace: 'default', body: cm(name) });
  const dependent = (name: string, o: V1ConfigMap): Promise<V1ConfigMap> =>
    core.createNamespacedConfigMap({
      namespace: 'default',
      body: { ...cm(name), metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '', blockOwnerDeletion: true }] } },
    });
  const exists = async (name: string): Promise<V1ConfigMap | undefined> => {
    try {
      return await core.readNamespacedConfigMap({ name, namespace: 'default' });
    } catch {
      return undefined;
    }
  };

  it('garbage-collects dependents in the background', async () => {
    const o = await owner('gc-owner');
    await dependent('gc-dep', o);
    await core.deleteNamespacedConfigMap({ name: 'gc-owner', namespace: 'default' });
    await until(async () => ((await exists('gc-dep')) ? undefined : true), 3000, 'dependent collected');
  });

  it('deletes dependents first with Foreground and orphans them with Orphan', async () => {
    const o = await owner('fg-owner');
    await dependent('fg-dep', o);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { ...cm('blocker'), metadata: { name: 'blocker', finalizers: ['example.com/hold'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'fg-owner', uid: o.metadata?.uid ?? '' }] } } });
    await core.deleteNamespacedConfigMap({ name: 'fg-owner', namespace: 'default', propagationPolicy: 'Foreground' });
    const pending = await until(() => exists('fg-owner'), 1000, 'owner in deletion');
    expect(pending.metadata?.finalizers).toContain('foregroundDeletion');
    expect(pending.metadata?.deletionTimestamp).toBeDefined();
    await until(async () => ((await exists('fg-dep')) ? undefined : true), 3000, 'dependent deleted');
    expect(await exists('fg-owner')).toBeDefined();
    await core.patchNamespacedConfigMap({ name: 'blocker', namespace: 'default', body: { metadata: { finalizers: null } } }, setMerge());
    await until(async () => ((await exists('fg-owner')) ? undefined : true), 3000, 'owner deleted after dependents');

    const o2 = await owner('or-owner');
    await dependent('or-dep', o2);
    await core.deleteNamespacedConfigMap({ name: 'or-owner', namespace: 'default', propagationPolicy: 'Orphan' });
    await until(async () => ((await exists('or-owner')) ? undefined : true), 3000, 'orphaning owner deleted');
    const orphan = await exists('or-dep');
    expect(orphan?.metadata?.ownerReferences).toBeUndefined();
  });

  it('keeps objects with finalizers until they are removed', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { ...cm('fin'), metadata: { name: 'fin', finalizers: ['example.com/x'] } } });
    const res = await core.deleteNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    expect(res).toBeDefined();
    const held = await core.readNamespacedConfigMap({ name: 'fin', namespace: 'default' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    const s = await statusOf(() => core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { finalizers: ['example.com/x', 'example.com/y'] } } }, setMerge()));
    expect(s.code).toBe(422);
    await core.patchNamespacedConfigMap({ name: 'fin', namespace: 'default', body: { metadata: { finalizers: [] } } }, setMerge());
    expect(await exists('fin')).toBeUndefined();
  });

  it('deletes unscheduled pods at once and supports deletecollection', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p1', labels: { batch: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p2', labels: { batch: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    await core.deleteNamespacedPod({ name: 'p1', namespace: 'default' });
    await statusOf(() => core.readNamespacedPod({ name: 'p1', namespace: 'default' }));
    await core.deleteCollectionNamespacedPod({ namespace: 'default', labelSelector: 'batch=x' });
    expect((await core.listNamespacedPod({ namespace: 'default', labelSelector: 'batch=x' })).items).toEqual([]);
  });

  it('terminates namespaces: rejects new content, removes content, then the namespace', async () => {
    await core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { ...cm('held', {}, 'doomed'), metadata: { name: 'held', namespace: 'doomed', finalizers: ['example.com/x'] } } });
    await core.deleteNamespace({ name: 'doomed' });
    const ns = await core.readNamespace({ name: 'doomed' });
    expect(ns.status?.phase).toBe('Terminating');
    const s = await statusOf(() => core.createNamespacedConfigMap({ namespace: 'doomed', body: cm('late', {}, 'doomed') }));
    expect(s.code).toBe(403);
    expect(s.reason).toBe('Forbidden');
    expect(s.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
    await core.patchNamespacedConfigMap({ name: 'held', namespace: 'doomed', body: { metadata: { finalizers: null } } }, setMerge());
    await until(async () => {
      try {
        await core.readNamespace({ name: 'doomed' });
        return undefined;
      } catch {
        return true;
      }
    }, 3000, 'namespace gone');
    const missing = await statusOf(() => core.createNamespacedConfigMap({ namespace: 'nowhere', body: cm('x', {}, 'nowhere') }));
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound', message: 'namespaces "nowhere" not found' });
  });
});

describe('pod security admission', () => {
  const privileged = { metadata: { name: 'priv' }, spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] } };

  it('rejects pods violating the enforce level with the kube-apiserver message', async () => {
    await core.createNamespace({ body: { metadata: { name: 'restricted', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } } });
    const s = await statusOf(() => core.createNamespacedPod({ namespace: 'restricted', body: privileged }));
    expect(s.code).toBe(403);
    expect(s.reason).toBe('Forbidden');
    expect(s.message).toBe('pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)');
  });

  it('returns warnings for workloads and warn-level pods', async () => {
    await core.createNamespace({ body: { metadata: { name: 'warned', labels: { 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted' } } } });
    const d = deployment('warned');
    d.metadata = { name: 'warned', namespace: 'warned' };
    const res = await raw(sb.url, '/apis/apps/v1/namespaces/warned/deployments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(d) });
    expect(res.status).toBe(201);
    const warning = res.headers.get('warning') ?? '';
    expect(warning).toContain('299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false');
    const pd = { ...deployment('warned-priv'), metadata: { name: 'warned-priv', namespace: 'warned' } };
    pd.spec!.template.spec!.containers[0]!.securityContext = { privileged: true };
    const res2 = await raw(sb.url, '/apis/apps/v1/namespaces/warned/deployments', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(pd) });
    expect(res2.status).toBe(201);
    expect(res2.headers.get('warning')).toContain('would violate PodSecurity \\"baseline:latest\\": privileged');
  });
});

describe('pod security on namespace changes', () => {
  it('warns about existing pods when the enforce level is raised and still accepts their status writes', async () => {
    await core.createNamespace({ body: { metadata: { name: 'relabel' } } });
    await core.createNamespacedPod({ namespace: 'relabel', body: { metadata: { name: 'old-priv' }, spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] } } });
    const res = await raw(sb.url, '/api/v1/namespaces/relabel', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('warning')).toBe('299 - "existing pods in namespace \\"relabel\\" violate the new PodSecurity enforce level \\"baseline:latest\\"", 299 - "old-priv: privileged"');
    const st = await core.patchNamespacedPodStatus({ name: 'old-priv', namespace: 'relabel', body: { status: { phase: 'Running' } } }, setMerge());
    expect(st.status?.phase).toBe('Running');
  });
});

describe('discovery', () => {
  it('serves version, groups and resource lists', async () => {
    expect((await raw(sb.url, '/version')).body).toMatchObject({ major: '1', minor: '32' });
    const groups = (await raw(sb.url, '/apis')).body as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'authorization.k8s.io', 'rbac.authorization.k8s.io']));
    expect(groups.groups.map((g) => g.name)).not.toContain('metrics.k8s.io');
    const core1 = (await raw(sb.url, '/api/v1')).body as { resources: { name: string; verbs: string[]; shortNames?: string[] }[] };
    expect(core1.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'pods/log', 'pods/status', 'pods/binding', 'pods/eviction', 'services', 'namespaces']));
    const appsList = (await raw(sb.url, '/apis/apps/v1')).body as { resources: { name: string; kind: string; group?: string }[] };
    expect(appsList.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({ kind: 'Scale', group: 'autoscaling' });
    const review = await raw(sb.url, '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'deployments', group: 'apps' } } }),
    });
    expect(review.body).toMatchObject({ status: { allowed: true } });
  });
});

describe('in-process client', () => {
  it('goes through the same admission and delivers watch events in order', async () => {
    const res = { group: '', version: 'v1', resource: 'configmaps' };
    const seen: string[] = [];
    const list = await sb.client.list(res, { namespace: 'default' });
    const stop = sb.client.watch(res, { namespace: 'default', resourceVersion: list.resourceVersion }, (ev) => seen.push(`${ev.type}:${ev.object.metadata.name ?? ''}`));
    await sb.client.create(res, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inproc', namespace: 'default' } });
    await sb.client.patch(res, 'default', 'inproc', { data: { a: 'b' } }, 'merge');
    await sb.client.delete(res, 'default', 'inproc');
    expect(await sb.client.get(res, 'default', 'inproc')).toBeUndefined();
    await until(() => seen.length >= 3 || undefined, 2000, 'in-process events');
    stop();
    expect(seen).toEqual(['ADDED:inproc', 'MODIFIED:inproc', 'DELETED:inproc']);
    await expect(sb.client.create(res, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'missing' } })).rejects.toMatchObject({ code: 404 });
  });
});
