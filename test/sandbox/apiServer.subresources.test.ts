import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PolicyV1Api, Watch } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject, StatusObject } from '../../src/sandbox/types.ts';
import { kubeConfigFor, raw, statusOf, until } from './testing/sandboxTestKit.ts';

let sb: Sandbox;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;

const PODS = { group: '', version: 'v1', resource: 'pods' };

beforeAll(async () => {
  const t = Date.now();
  sb = await startSandbox({
    watchBookmarkIntervalMs: 100,
    port: 0,
    controllers: false,
    metrics: { podUsage: (_ns, name) => (name === 'm1' ? { containers: [{ name: 'c', cpuMillis: 250, memoryBytes: 64 * 1024 * 1024 }] } : undefined) },
  });
  expect(Date.now() - t).toBeLessThan(1000);
  kc = kubeConfigFor(sb.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});
afterAll(async () => {
  await sb.stop();
});

function pod(name: string, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } };
}

describe('pods', () => {
  it('binds through pods/binding once and deletes bound pods gracefully', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('bound') });
    const st = (await sb.client.createSubresource(PODS, 'default', 'bound', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n1' } } as KObject)) as StatusObject;
    expect(st.status).toBe('Success');
    const again = await sb.client.createSubresource(PODS, 'default', 'bound', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n2' } } as KObject).catch((e: { status: StatusObject }) => e.status);
    expect(again).toMatchObject({ code: 409, message: 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "n1"' });
    const p = await core.readNamespacedPod({ name: 'bound', namespace: 'default' });
    expect(p.spec?.nodeName).toBe('n1');
    expect(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');

    const deleting = await core.deleteNamespacedPod({ name: 'bound', namespace: 'default' });
    expect(deleting.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    expect((await core.readNamespacedPod({ name: 'bound', namespace: 'default' })).metadata?.deletionTimestamp).toBeDefined();
    await sb.client.delete(PODS, 'default', 'bound', { gracePeriodSeconds: 0 });
    expect(await sb.client.get(PODS, 'default', 'bound')).toBeUndefined();
  });

  it('evicts pods unless a PodDisruptionBudget forbids it', async () => {
    const policy = kc.makeApiClient(PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({ namespace: 'default', body: { metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'ev' } } } } });
    await core.createNamespacedPod({ namespace: 'default', body: pod('ev1', { app: 'ev' }) });
    await sb.client.patch(PODS, 'default', 'ev1', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge', { subresource: 'status' });
    const s = await statusOf(() => core.createNamespacedPodEviction({ name: 'ev1', namespace: 'default', body: { metadata: { name: 'ev1', namespace: 'default' } } }));
    expect(s).toMatchObject({ code: 429, reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget." });
    expect(s.details?.causes?.[0]).toEqual({ reason: 'DisruptionBudget', message: 'The disruption budget pdb needs 1 healthy pods and has 1 currently' });
    await core.createNamespacedPod({ namespace: 'default', body: pod('ev2', { app: 'ev' }) });
    await sb.client.patch(PODS, 'default', 'ev2', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'merge', { subresource: 'status' });
    await core.createNamespacedPodEviction({ name: 'ev1', namespace: 'default', body: { metadata: { name: 'ev1', namespace: 'default' } } });
    expect(await sb.client.get(PODS, 'default', 'ev1')).toBeUndefined();
  });

  it('rejects pods whose service account is missing and forbids spec changes', async () => {
    const sa = await statusOf(() => core.createNamespacedPod({ namespace: 'default', body: { ...pod('nosa'), spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'x' }] } } }));
    expect(sa).toMatchObject({ code: 403, message: 'pods "nosa" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found' });
    await core.createNamespacedPod({ namespace: 'default', body: pod('immutable') });
    const img = await core.patchNamespacedPod({ name: 'immutable', namespace: 'default', body: [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.28' }] });
    expect(img.spec?.containers[0]?.image).toBe('nginx:1.28');
    const s = await statusOf(() => core.patchNamespacedPod({ name: 'immutable', namespace: 'default', body: [{ op: 'replace', path: '/spec/restartPolicy', value: 'Never' }] }));
    expect(s.code).toBe(422);
    expect(s.message).toContain('Pod "immutable" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`');
  });
});

describe('scale and status', () => {
  it('reads and writes the scale subresource', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'default',
      body: { metadata: { name: 'sc' }, spec: { selector: { matchLabels: { app: 'sc' } }, template: { metadata: { labels: { app: 'sc' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } } },
    });
    const scale = await apps.readNamespacedDeploymentScale({ name: 'sc', namespace: 'default' });
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=sc' } });
    const put = await apps.replaceNamespacedDeploymentScale({ name: 'sc', namespace: 'default', body: { ...scale, spec: { replicas: 4 } } });
    expect(put.spec?.replicas).toBe(4);
    const d = await apps.readNamespacedDeployment({ name: 'sc', namespace: 'default' });
    expect(d.spec?.replicas).toBe(4);
    expect(d.metadata?.generation).toBe(2);
    const stale = await statusOf(() => apps.replaceNamespacedDeploymentScale({ name: 'sc', namespace: 'default', body: { ...scale, spec: { replicas: 5 } } }));
    expect(stale.code).toBe(409);
  });

  it('applies to the status subresource without touching spec', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const body = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sc', namespace: 'default' }, status: { observedGeneration: 2, replicas: 4 } };
    const res = await raw(sb.url, '/apis/apps/v1/namespaces/default/deployments/sc/status?fieldManager=ctrl', { method: 'PATCH', headers: { 'Content-Type': 'application/apply-patch+yaml' }, body: JSON.stringify({ ...body, spec: { replicas: 99 } }) });
    expect(res.status).toBe(200);
    const d = (await objects.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'sc', namespace: 'default' } })) as { spec: { replicas: number }; status: { replicas: number }; metadata: { managedFields: { manager: string; subresource?: string }[] } };
    expect(d.spec.replicas).toBe(4);
    expect(d.status.replicas).toBe(4);
    expect(d.metadata.managedFields.find((m) => m.manager === 'ctrl')?.subresource).toBe('status');
  });
});

describe('watch details', () => {
  it('sends BOOKMARK events carrying the current resourceVersion', async () => {
    const marks: string[] = [];
    const ctl = await new Watch(kc).watch('/api/v1/namespaces/default/secrets', { allowWatchBookmarks: true }, (t, o: { metadata?: { resourceVersion?: string } }) => {
      if (t === 'BOOKMARK') marks.push(o.metadata?.resourceVersion ?? '');
    }, () => {});
    await until(() => marks.length >= 1 || undefined, 2000, 'bookmark');
    ctl.abort();
    expect(Number(marks[0])).toBeGreaterThan(0);
  });

  it('ends at timeoutSeconds and filters watches by field selector', async () => {
    const start = Date.now();
    const res = await fetch(`${sb.url}/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=${(await core.listNamespacedConfigMap({ namespace: 'default' })).metadata?.resourceVersion ?? ''}`);
    const text = await res.text();
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
    expect(text).toBe('');
    const events: string[] = [];
    let ended = false;
    await new Watch(kc).watch('/api/v1/namespaces/default/pods', { watch: true, fieldSelector: 'metadata.name=watched-pod' }, (t, o: V1Pod) => events.push(`${t}:${o.metadata?.name ?? ''}`), () => {
      ended = true;
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('other-pod') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('watched-pod') });
    await until(() => events.length >= 1 || undefined, 2000, 'pod event');
    expect(events).toEqual(['ADDED:watched-pod']);
    expect(ended).toBe(false);
  });
});

describe('autoscaling/v1', () => {
  it('serves HorizontalPodAutoscalers at v1 by converting the stored v2 object', async () => {
    const path = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
    const created = await raw(sb.url, path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sc' }, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ apiVersion: 'autoscaling/v1', spec: { minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } });
    const v2 = await raw(sb.url, '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h');
    expect(v2.body).toMatchObject({ apiVersion: 'autoscaling/v2', spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }] } });
    const patched = await raw(sb.url, `${path}/h`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ spec: { targetCPUUtilizationPercentage: 75 } }) });
    expect(patched.body).toMatchObject({ spec: { targetCPUUtilizationPercentage: 75 } });
    const group = await raw(sb.url, '/apis/autoscaling');
    expect(group.body).toMatchObject({ preferredVersion: { version: 'v2' }, versions: [{ version: 'v2' }, { version: 'v1' }] });
  });
});

describe('metrics.k8s.io', () => {
  it('serves pod metrics from the metrics source', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('m1') });
    const list = await raw(sb.url, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods');
    expect(list.body).toMatchObject({ kind: 'PodMetricsList', items: [{ metadata: { name: 'm1' }, containers: [{ name: 'c', usage: { cpu: '250000000n', memory: '65536Ki' } }] }] });
    expect((await raw(sb.url, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/m1')).status).toBe(200);
    expect((await raw(sb.url, '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope')).status).toBe(404);
  });
});
