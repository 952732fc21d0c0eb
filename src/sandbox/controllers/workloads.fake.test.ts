import { afterEach, describe, expect, it } from 'vitest';
import type { KObject, LogLine, PodMetricsSource } from '../types.ts';
import { ApiError } from '../types.ts';
import { createCluster } from '../createCluster.ts';
import type { ClusterOptions, ClusterComponents } from '../createCluster.ts';
import { asArray, asRecord, getCondition, spec, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { FakeClient, eventually } from './testing/fakeClient.ts';

let running: ClusterComponents | undefined;
afterEach(async () => {
  for (const c of running?.controllers ?? []) await c.stop();
  running = undefined;
});

async function boot(opts: Partial<ClusterOptions> = {}): Promise<{ client: FakeClient; set: ClusterComponents }> {
  const client = new FakeClient();
  const set = createCluster(client, { nodes: 2, timeScale: 0.02, ...opts });
  running = set;
  for (const c of set.controllers) await c.start();
  return { client, set };
}

function deploy(name: string, image: string, replicas: number, podSpec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...podSpec } },
      ...extra,
    },
  };
}

async function readAll(set: ClusterComponents, pod: string, opts: Parameters<ClusterComponents['logs']['read']>[2] = {}): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of set.logs.read('default', pod, opts, new AbortController().signal)) out.push(l);
  return out;
}

describe('HPA', () => {
  it('scales out on high CPU and back in after the (zero) stabilisation window', async () => {
    let cpu = 90;
    const metrics: PodMetricsSource = { podUsage: () => ({ containers: [{ name: 'app', cpuMillis: cpu, memoryBytes: 1e6 }] }) };
    const { client } = await boot({ metrics, timeScale: 0.01 });
    await client.create(RES.deployments, deploy('web', 'nginx:1.27', 2));
    await eventually(async () => status((await client.get(RES.deployments, 'default', 'web')) as KObject)['availableReplicas'] === 2);
    await client.create(RES.hpas, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      },
    });
    const hpa = await eventually(async () => {
      const h = await client.get(RES.hpas, 'default', 'web');
      return h && status(h)['desiredReplicas'] === 4 ? h : undefined;
    }, 5000, 'scale out');
    expect(spec((await client.get(RES.deployments, 'default', 'web')) as KObject)['replicas']).toBe(4);
    expect(getCondition(status(hpa)['conditions'], 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(asArray(status(hpa)['currentMetrics'])[0]).toMatchObject({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } });
    expect(client.all(RES.events).some((e) => e['reason'] === 'SuccessfulRescale' && e['message'] === 'New size: 4; reason: cpu resource utilization (percentage of request) above target')).toBe(true);
    cpu = 10;
    await eventually(async () => spec((await client.get(RES.deployments, 'default', 'web')) as KObject)['replicas'] === 1, 5000, 'scale in');
    expect(client.all(RES.events).some((e) => e['message'] === 'New size: 1; reason: All metrics below target')).toBe(true);
  });

  it('reports FailedGetResourceMetric without a metrics source', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    await client.create(RES.deployments, deploy('web', 'nginx', 1));
    await client.create(RES.hpas, {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 },
    });
    const h = await eventually(async () => {
      const h = await client.get(RES.hpas, 'default', 'web');
      return h && getCondition(status(h)['conditions'], 'ScalingActive') ? h : undefined;
    });
    expect(getCondition(status(h)['conditions'], 'ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
    await eventually(() => client.all(RES.events).some((e) => e['reason'] === 'FailedGetResourceMetric' && e['type'] === 'Warning'), 3000, 'event');
  });

  it('enforces minReplicas and maxReplicas before reading any metric', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    await client.create(RES.deployments, deploy('low', 'nginx', 1));
    await client.create(RES.deployments, deploy('high', 'nginx', 6));
    for (const name of ['low', 'high']) {
      await client.create(RES.hpas, {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name, namespace: 'default' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, minReplicas: 3, maxReplicas: 4 },
      });
    }
    await eventually(async () => spec((await client.get(RES.deployments, 'default', 'low')) as KObject)['replicas'] === 3, 5000, 'raised to min');
    await eventually(async () => spec((await client.get(RES.deployments, 'default', 'high')) as KObject)['replicas'] === 4, 5000, 'lowered to max');
    // The event is recorded after the scale write, so it may trail the replica count.
    await eventually(() => client.all(RES.events).some((e) => e['message'] === 'New size: 3; reason: Current number of replicas below Spec.MinReplicas'), 5000, 'min event');
    await eventually(() => client.all(RES.events).some((e) => e['message'] === 'New size: 4; reason: Current number of replicas above Spec.MaxReplicas'), 5000, 'max event');
    const low = await eventually(async () => {
      const h = await client.get(RES.hpas, 'default', 'low');
      return h && getCondition(status(h)['conditions'], 'ScalingLimited') ? h : undefined;
    }, 5000, 'ScalingLimited');
    expect(getCondition(status(low)['conditions'], 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'TooFewReplicas' });
  });
});

describe('Jobs and CronJobs', () => {
  it('runs a Job to completion and a failing Job to BackoffLimitExceeded', async () => {
    const { client } = await boot();
    const job = (name: string, command: string[], backoffLimit = 6): KObject => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace: 'default' },
      spec: { completions: 2, parallelism: 1, backoffLimit, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command }] } } },
    });
    await client.create(RES.jobs, job('ok', ['sh', '-c', 'echo hello']));
    await client.create(RES.jobs, job('bad', ['false'], 1));
    const ok = await eventually(async () => {
      const j = await client.get(RES.jobs, 'default', 'ok');
      return j && getCondition(status(j)['conditions'], 'Complete')?.status === 'True' ? j : undefined;
    }, 8000, 'complete');
    expect(status(ok)['succeeded']).toBe(2);
    expect(status(ok)['completionTime']).toBeDefined();
    const bad = await eventually(async () => {
      const j = await client.get(RES.jobs, 'default', 'bad');
      return j && getCondition(status(j)['conditions'], 'Failed')?.status === 'True' ? j : undefined;
    }, 8000, 'failed');
    expect(getCondition(status(bad)['conditions'], 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(status(bad)['failed']).toBe(2);
  });

  it('creates Jobs on schedule (cron time is scaled) and keeps successfulJobsHistoryLimit', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    await client.create(RES.cronjobs, {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick', namespace: 'default' },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Allow',
        successfulJobsHistoryLimit: 2,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'curlimages/curl', command: ['true'] }] } } } },
      },
    });
    await eventually(() => client.all(RES.jobs).length >= 2, 8000, 'two jobs');
    const cj = (await client.get(RES.cronjobs, 'default', 'tick')) as KObject;
    expect(status(cj)['lastScheduleTime']).toMatch(/:00Z$/);
    const j = client.all(RES.jobs)[0] as KObject;
    expect(j.metadata.name).toMatch(/^tick-\d+$/);
    expect(j.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    await eventually(() => client.all(RES.events).filter((e) => e['reason'] === 'SuccessfulCreate' && asRecord(e['involvedObject'])['kind'] === 'CronJob').length >= 4, 8000, 'four runs');
    await eventually(() => client.all(RES.events).some((e) => e['reason'] === 'SuccessfulDelete' && asRecord(e['involvedObject'])['kind'] === 'CronJob'), 8000, 'history cleanup');
    await eventually(() => client.all(RES.jobs).filter((x) => getCondition(status(x)['conditions'], 'Complete')).length <= 2, 8000, 'history limit');
  });
});

describe('kubelet details', () => {
  it('serves logs with container selection and the apiserver errors', async () => {
    const { client, set } = await boot();
    await client.create(RES.deployments, deploy('two', 'nginx:1.27', 1, { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'cache', image: 'redis:7' }] }));
    const pod = await eventually(() => client.all(RES.pods).find((p) => status(p)['phase'] === 'Running'), 5000, 'running');
    const name = pod.metadata.name ?? '';
    await expect(readAll(set, name)).rejects.toThrow(`a container name must be specified for pod ${name}, choose one of: [web cache]`);
    await expect(readAll(set, name, { container: 'nope' })).rejects.toThrow(`container nope is not valid for pod ${name}`);
    await expect(readAll(set, name, { container: 'web', previous: true })).rejects.toThrow(`previous terminated container "web" in pod "${name}" not found`);
    const err = await readAll(set, 'ghost').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(404);
    const lines = await eventually(async () => {
      const l = await readAll(set, name, { container: 'web' });
      return l.length > 5 ? l : undefined;
    });
    expect(lines.map((l) => l.line)).toContain('/docker-entrypoint.sh: Configuration complete; ready for start up');
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(await readAll(set, name, { container: 'web', tailLines: 2 })).toHaveLength(2);
    const redis = await readAll(set, name, { container: 'cache' });
    expect(redis.some((l) => l.line.includes('Ready to accept connections'))).toBe(true);
    // follow stays open until aborted
    const ac = new AbortController();
    const got: string[] = [];
    const done = (async () => {
      for await (const l of set.logs.read('default', name, { container: 'web', follow: true }, ac.signal)) got.push(l.line);
    })();
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await done;
    expect(got.length).toBeGreaterThan(5);
  });

  it('says a waiting container is waiting, honours readiness delays, and reports status fields', async () => {
    const { client, set } = await boot({ timeScale: 0.05 });
    await client.create(
      RES.deployments,
      deploy('slow', 'postgres:16', 1, {
        containers: [{ name: 'db', image: 'postgres:16', readinessProbe: { exec: { command: ['pg_isready'] }, initialDelaySeconds: 4, periodSeconds: 5 }, resources: { requests: { cpu: '100m', memory: '1Gi' }, limits: { cpu: '100m', memory: '1Gi' } } }],
      }),
    );
    const pod = await eventually(() => client.all(RES.pods).find((p) => spec(p)['nodeName']), 3000, 'bound');
    await expect(readAll(set, pod.metadata.name ?? '')).rejects.toThrow(`container "db" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    const running = await eventually(async () => {
      const p = await client.get(RES.pods, 'default', pod.metadata.name ?? '');
      return p && status(p)['phase'] === 'Running' ? p : undefined;
    }, 5000, 'running');
    expect(getCondition(status(running)['conditions'], 'Ready')?.status).toBe('False');
    const cs = asRecord(asArray(status(running)['containerStatuses'])[0]);
    expect(cs).toMatchObject({ name: 'db', image: 'docker.io/library/postgres:16', ready: false, started: true, restartCount: 0 });
    expect(String(cs['containerID'])).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(String(cs['imageID'])).toMatch(/^docker\.io\/library\/postgres@sha256:[0-9a-f]{64}$/);
    expect(status(running)['qosClass']).toBe('Guaranteed');
    expect(status(running)['hostIP']).toMatch(/^127\.0\.1\.[12]$/);
    const ready = await eventually(async () => {
      const p = await client.get(RES.pods, 'default', pod.metadata.name ?? '');
      return p && getCondition(status(p)['conditions'], 'Ready')?.status === 'True' ? p : undefined;
    }, 5000, 'ready');
    const started = Date.parse(String(asRecord(asRecord(asArray(status(ready)['containerStatuses'])[0])['state'])['running'] && String(asRecord(asRecord(asRecord(asArray(status(ready)['containerStatuses'])[0])['state'])['running'])['startedAt'])));
    expect(Date.now() - started).toBeGreaterThanOrEqual(0);
    const pulled = client.all(RES.events).find((e) => e['reason'] === 'Pulled');
    expect(String(pulled?.['message'])).toMatch(/^Successfully pulled image "postgres:16" in 3\.5s \(3\.5s including waiting\)\. Image size: \d+ bytes\.$/);
    expect(asRecord(pulled?.['involvedObject'])['fieldPath']).toBe('spec.containers{db}');
    expect(asRecord(pulled?.['source'])['component']).toBe('kubelet');
  });

  it('refuses runAsNonRoot for a root image without runAsUser', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deploy('root', 'nginx:1.27', 1, { securityContext: { runAsNonRoot: true } }));
    const p = await eventually(() => client.all(RES.pods).find((p) => asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting'])['reason'] === 'CreateContainerConfigError'), 5000);
    const msg = String(asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting'])['message']);
    expect(msg).toBe(`container has runAsNonRoot and image will run as root (pod: "${p.metadata.name}_default(${p.metadata.uid})", container: app)`);
  });

  it('Recreate scales the old ReplicaSet to zero before creating the new one', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deploy('rc', 'nginx:1.26', 2, {}, { strategy: { type: 'Recreate' } }));
    await eventually(async () => status((await client.get(RES.deployments, 'default', 'rc')) as KObject)['availableReplicas'] === 2);
    const d = (await client.get(RES.deployments, 'default', 'rc')) as KObject;
    const tpl = structuredClone(asRecord(spec(d)['template']));
    asRecord(asArray(asRecord(tpl['spec'])['containers'])[0])['image'] = 'nginx:1.27';
    await client.update(RES.deployments, { ...d, spec: { ...spec(d), template: tpl } });
    await eventually(async () => {
      const d = (await client.get(RES.deployments, 'default', 'rc')) as KObject;
      return status(d)['observedGeneration'] === 2 && status(d)['updatedReplicas'] === 2 && status(d)['availableReplicas'] === 2 && status(d)['replicas'] === 2;
    }, 8000, 'recreated');
    await eventually(() => client.all(RES.events).filter((e) => e['reason'] === 'ScalingReplicaSet').length >= 3);
    const scaling = client.all(RES.events).filter((e) => e['reason'] === 'ScalingReplicaSet').map((e) => String(e['message']));
    const down = scaling.findIndex((m) => m.startsWith('Scaled down'));
    const up2 = scaling.findIndex((m, i) => i > 0 && m.startsWith('Scaled up'));
    expect(down).toBeGreaterThan(0);
    expect(up2).toBeGreaterThan(down);
  });

  it('marks ProgressDeadlineExceeded when a rollout stalls', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    await client.create(RES.deployments, deploy('stuck', 'nosuchimage-xyz', 1, {}, { progressDeadlineSeconds: 100 }));
    const d = await eventually(async () => {
      const d = await client.get(RES.deployments, 'default', 'stuck');
      return d && getCondition(status(d)['conditions'], 'Progressing')?.reason === 'ProgressDeadlineExceeded' ? d : undefined;
    }, 8000, 'deadline');
    const rs = client.all(RES.replicasets)[0] as KObject;
    expect(getCondition(status(d)['conditions'], 'Progressing')).toMatchObject({ status: 'False', message: `ReplicaSet "${rs.metadata.name}" has timed out progressing.` });
  });

  it('runs init containers first and reports their statuses', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deploy('init', 'nginx:1.27', 1, { initContainers: [{ name: 'migrate', image: 'busybox', command: ['sh', '-c', 'echo migrating'] }] }));
    const p = await eventually(() => client.all(RES.pods).find((p) => status(p)['phase'] === 'Running'), 5000, 'running');
    const init = asRecord(asArray(status(p)['initContainerStatuses'])[0]);
    expect(asRecord(asRecord(init['state'])['terminated'])).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(getCondition(status(p)['conditions'], 'Initialized')?.status).toBe('True');
  });

  it('pauses a rollout and resumes it', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deploy('p', 'nginx:1.26', 2));
    await eventually(async () => status((await client.get(RES.deployments, 'default', 'p')) as KObject)['availableReplicas'] === 2);
    let d = (await client.get(RES.deployments, 'default', 'p')) as KObject;
    const tpl = structuredClone(asRecord(spec(d)['template']));
    asRecord(asArray(asRecord(tpl['spec'])['containers'])[0])['image'] = 'nginx:1.27';
    await client.update(RES.deployments, { ...d, spec: { ...spec(d), paused: true, template: tpl } });
    d = await eventually(async () => {
      const d = (await client.get(RES.deployments, 'default', 'p')) as KObject;
      return getCondition(status(d)['conditions'], 'Progressing')?.reason === 'DeploymentPaused' ? d : undefined;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(client.all(RES.replicasets)).toHaveLength(1);
    await client.update(RES.deployments, { ...d, spec: { ...spec(d), paused: false } });
    await eventually(async () => {
      const d = (await client.get(RES.deployments, 'default', 'p')) as KObject;
      return status(d)['updatedReplicas'] === 2 && status(d)['availableReplicas'] === 2 && status(d)['replicas'] === 2 && client.all(RES.replicasets).length === 2;
    }, 8000, 'resumed rollout');
  });

  it('keeps a pod in ContainerCreating while a ConfigMap volume is missing', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    await client.create(RES.deployments, deploy('vol', 'nginx:1.27', 1, { volumes: [{ name: 'cfg', configMap: { name: 'missing' } }] }));
    const ev = await eventually(() => client.all(RES.events).find((e) => e['reason'] === 'FailedMount'), 5000, 'FailedMount');
    expect(ev['message']).toBe('MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found');
    const p = client.all(RES.pods)[0] as KObject;
    expect(asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting'])['reason']).toBe('ContainerCreating');
    await client.create(RES.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'missing', namespace: 'default' }, data: {} });
    await eventually(() => client.all(RES.pods).some((p) => status(p)['phase'] === 'Running'), 5000, 'running');
  });

  it('simulates failing readiness and liveness probes on request', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    const probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1, failureThreshold: 2 };
    const d = deploy('sick', 'nginx:1.27', 1, { containers: [{ name: 'app', image: 'nginx:1.27', readinessProbe: probe, livenessProbe: probe }] });
    const tpl = asRecord(asRecord(d['spec'])['template']);
    tpl['metadata'] = { ...asRecord(tpl['metadata']), annotations: { 'sandbox.berth.dev/fail-probes': 'readiness,liveness' } };
    await client.create(RES.deployments, d);
    await eventually(() => client.all(RES.events).some((e) => e['reason'] === 'Unhealthy' && e['message'] === 'Readiness probe failed: HTTP probe failed with statuscode: 500'), 5000, 'readiness');
    await eventually(() => client.all(RES.events).some((e) => e['reason'] === 'Killing' && e['message'] === 'Container app failed liveness probe, will be restarted'), 5000, 'liveness kill');
    const p = await eventually(() => client.all(RES.pods).find((p) => Number(asRecord(asArray(status(p)['containerStatuses'])[0])['restartCount']) >= 1), 5000, 'restarted');
    expect(getCondition(status(p)['conditions'], 'Ready')?.status).toBe('False');
  });
});
