import { AppsV1Api, AutoscalingV2Api, BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { CoreV1Event, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../startSandbox.ts';
import type { PodMetricsSource } from '../types.ts';
import { eventually } from './testing/fakeClient.ts';

/**
 * The controllers and simulated kubelet behind the real API server, driven over HTTP with the official
 * client exactly as berth drives a cluster.
 */

let cpuMillis = 50;
const metrics: PodMetricsSource = { podUsage: () => ({ containers: [{ name: 'app', cpuMillis, memoryBytes: 32 * 2 ** 20 }] }) };

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let core: CoreV1Api;
let apps: AppsV1Api;
let batch: BatchV1Api;
let autoscaling: AutoscalingV2Api;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, timeScale: 0.05, nodes: 3, metrics });
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  autoscaling = kc.makeApiClient(AutoscalingV2Api);
});

afterAll(async () => {
  await sandbox?.stop();
});

async function ns(name: string, labels: Record<string, string> = {}): Promise<string> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

function deployment(name: string, image: string, replicas: number, container: Record<string, unknown> = {}): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '64Mi' } }, ...container }] },
      },
    },
  };
}

async function events(namespace: string, reason?: string): Promise<CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace });
  return list.items.filter((e) => !reason || e.reason === reason);
}

async function pods(namespace: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace })).items;
}

/** What `kubectl rollout status` checks. */
function rolledOut(d: V1Deployment): boolean {
  const st = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  if ((st.observedGeneration ?? 0) < (d.metadata?.generation ?? 1)) return false;
  const prog = st.conditions?.find((c) => c.type === 'Progressing');
  if (prog?.reason === 'ProgressDeadlineExceeded') throw new Error(`deployment exceeded its progress deadline`);
  return (st.updatedReplicas ?? 0) === want && (st.replicas ?? 0) === want && (st.availableReplicas ?? 0) === want;
}

describe('sandbox controllers over HTTP', () => {
  it('rolls a Deployment out, then rolls an image change, and answers pod logs', async () => {
    const n = await ns('ctl-rollout');
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('web', 'nginx:1.26', 3) });
    const d = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: n });
      return rolledOut(d) ? d : undefined;
    }, 10000, 'rollout');
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.reason).toBe('MinimumReplicasAvailable');
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const running = await pods(n);
    expect(running.every((p) => p.status?.phase === 'Running' && p.status.podIP?.startsWith('127.10.'))).toBe(true);
    const log = await core.readNamespacedPodLog({ name: running[0]?.metadata?.name ?? '', namespace: n });
    expect(log).toContain('Configuration complete; ready for start up');

    await apps.patchNamespacedDeployment(
      { name: 'web', namespace: n, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.27' }] },
    );
    const d2 = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: 'web', namespace: n });
      return d.metadata?.generation === 2 && rolledOut(d) ? d : undefined;
    }, 15000, 'second rollout');
    expect(d2.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rs = (await apps.listNamespacedReplicaSet({ namespace: n })).items;
    expect(rs.map((r) => r.spec?.replicas).sort()).toEqual([0, 3]);
    await eventually(async () => (await pods(n)).filter((p) => !p.metadata?.deletionTimestamp).every((p) => p.spec?.containers[0]?.image === 'nginx:1.27'), 10000, 'old pods gone');
  });

  it('reports ImagePullBackOff and CrashLoopBackOff like a kubelet', async () => {
    const n = await ns('ctl-failures');
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('bad', 'nosuch/image:1', 1) });
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('crash', 'berth.local/crashloop', 1) });
    await eventually(async () => (await pods(n)).some((p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'), 8000, 'ImagePullBackOff');
    const failed = (await events(n, 'Failed')).map((e) => e.message ?? '');
    expect(failed).toContain('Error: ErrImagePull');
    expect(failed.some((m) => m.startsWith('Failed to pull image "nosuch/image:1": rpc error: code = NotFound'))).toBe(true);
    const crash = await eventually(async () => (await pods(n)).find((p) => p.metadata?.labels?.['app'] === 'crash' && (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 && p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'), 10000, 'CrashLoopBackOff');
    expect(crash.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
    expect((await events(n, 'BackOff')).some((e) => e.message?.startsWith('Back-off restarting failed container app in pod crash-'))).toBe(true);
    const prev = await core.readNamespacedPodLog({ name: crash.metadata?.name ?? '', namespace: n, previous: true });
    expect(prev).toContain('simulated crash');
  });

  it('turns a Pod Security rejection into FailedCreate, and oversized requests into Unschedulable', async () => {
    const n = await ns('ctl-psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('loose', 'nginx', 1) });
    const ev = await eventually(async () => (await events(n, 'FailedCreate'))[0], 8000, 'FailedCreate');
    expect(ev.message).toMatch(/^Error creating: pods "loose-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": /);
    const n2 = await ns('ctl-sched');
    await apps.createNamespacedDeployment({ namespace: n2, body: deployment('huge', 'nginx', 1, { resources: { requests: { cpu: '64' } } }) });
    const pod = await eventually(async () => (await pods(n2)).find((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')), 8000, 'Unschedulable');
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    expect((await events(n2, 'FailedScheduling')).length).toBeGreaterThan(0);
  });

  it('keeps Endpoints on ready pods, scales via the scale subresource, and cascades deletes', async () => {
    const n = await ns('ctl-svc');
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('api', 'nginx', 2, { ports: [{ name: 'http', containerPort: 8080 }] }) });
    await core.createNamespacedService({ namespace: n, body: { metadata: { name: 'api' }, spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 'http' }] } } });
    const ep = await eventually(async () => {
      const ep = await core.readNamespacedEndpoints({ name: 'api', namespace: n }).catch(() => undefined);
      return ep?.subsets?.[0]?.addresses?.length === 2 ? ep : undefined;
    }, 8000, 'endpoints');
    expect(ep.subsets?.[0]?.ports?.[0]?.port).toBe(8080);
    const scale = await apps.readNamespacedDeploymentScale({ name: 'api', namespace: n });
    await apps.replaceNamespacedDeploymentScale({ name: 'api', namespace: n, body: { ...scale, spec: { replicas: 4 } } });
    await eventually(async () => (await core.readNamespacedEndpoints({ name: 'api', namespace: n })).subsets?.[0]?.addresses?.length === 4, 8000, 'four endpoints');
    await apps.deleteNamespacedDeployment({ name: 'api', namespace: n });
    await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: n })).items.length === 0 && (await pods(n)).length === 0, 10000, 'cascade');
    await eventually(async () => !(await core.readNamespacedEndpoints({ name: 'api', namespace: n })).subsets?.length, 5000, 'endpoints emptied');
  });

  it('autoscales with an HPA and runs CronJobs', async () => {
    const n = await ns('ctl-hpa');
    await apps.createNamespacedDeployment({ namespace: n, body: deployment('web', 'nginx', 1) });
    await eventually(async () => rolledOut(await apps.readNamespacedDeployment({ name: 'web', namespace: n })), 8000, 'ready');
    cpuMillis = 300;
    await autoscaling.createNamespacedHorizontalPodAutoscaler({
      namespace: n,
      body: {
        metadata: { name: 'web' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 1,
          maxReplicas: 4,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
        },
      },
    });
    await eventually(async () => (await apps.readNamespacedDeployment({ name: 'web', namespace: n })).spec?.replicas === 4, 10000, 'scale out');
    cpuMillis = 10;
    await eventually(async () => (await apps.readNamespacedDeployment({ name: 'web', namespace: n })).spec?.replicas === 1, 10000, 'scale in');
    expect((await events(n, 'SuccessfulRescale')).length).toBeGreaterThanOrEqual(2);

    await batch.createNamespacedCronJob({
      namespace: n,
      body: {
        metadata: { name: 'tick' },
        spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo tick'] }] } } } } },
      },
    });
    const job = await eventually(async () => (await batch.listNamespacedJob({ namespace: n })).items.find((j) => j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')), 10000, 'cron job completed');
    expect(job.metadata?.ownerReferences?.[0]?.kind).toBe('CronJob');
  });
});
