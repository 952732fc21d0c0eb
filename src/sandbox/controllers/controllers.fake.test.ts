import { afterEach, describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { createCluster } from '../createCluster.ts';
import type { ClusterComponents } from '../createCluster.ts';
import { asArray, asRecord, getCondition, spec, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { FakeClient, eventually } from './testing/fakeClient.ts';

let running: ClusterComponents | undefined;
afterEach(async () => {
  for (const c of running?.controllers ?? []) await c.stop();
  running = undefined;
});

async function boot(opts: Partial<Parameters<typeof createCluster>[1]> = {}): Promise<{ client: FakeClient; set: ClusterComponents }> {
  const client = new FakeClient();
  await client.create(RES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const set = createCluster(client, { nodes: 3, timeScale: 0.02, ...opts });
  running = set;
  for (const c of set.controllers) await c.start();
  return { client, set };
}

function deployment(name: string, image: string, replicas = 3, extra: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      ...extra,
    },
  };
}

function events(client: FakeClient, reason?: string): KObject[] {
  return client.all(RES.events).filter((e) => !reason || e['reason'] === reason);
}

describe('controllers against a fake API', () => {
  it('registers nodes and rolls a Deployment out to Available', async () => {
    const { client } = await boot();
    expect(client.all(RES.nodes).map((n) => n.metadata.name).sort()).toEqual(['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3']);
    await client.create(RES.deployments, deployment('web', 'nginx:1.27'));
    const d = await eventually(async () => {
      const d = await client.get(RES.deployments, 'default', 'web');
      return d && status(d)['availableReplicas'] === 3 && getCondition(status(d)['conditions'], 'Progressing')?.reason === 'NewReplicaSetAvailable' ? d : undefined;
    }, 8000, 'deployment available');
    expect(getCondition(status(d)['conditions'], 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' });
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    const rs = client.all(RES.replicasets);
    expect(rs).toHaveLength(1);
    expect(rs[0]?.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    const pods = client.all(RES.pods);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(status(p)['phase']).toBe('Running');
      expect(String(status(p)['podIP'])).toMatch(/^127\.10\./);
      expect(p.metadata.name).toMatch(new RegExp(`^${rs[0]?.metadata.name}-[a-z0-9]{5}$`));
    }
    expect(new Set(pods.map((p) => status(p)['podIP'])).size).toBe(3);
    const reasons = new Set(events(client).map((e) => e['reason']));
    for (const r of ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) expect(reasons).toContain(r);
    expect(events(client, 'ScalingReplicaSet')[0]?.['message']).toBe(`Scaled up replica set ${rs[0]?.metadata.name} from 0 to 3`);
  });

  it('rolls out an image change with a second ReplicaSet and scales the old one to zero', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deployment('web', 'nginx:1.26'));
    await eventually(async () => status((await client.get(RES.deployments, 'default', 'web')) as KObject)['availableReplicas'] === 3);
    const d = (await client.get(RES.deployments, 'default', 'web')) as KObject;
    const tpl = asRecord(spec(d)['template']);
    asRecord(asArray(asRecord(tpl['spec'])['containers'])[0])['image'] = 'nginx:1.27';
    await client.update(RES.deployments, d);
    const done = await eventually(async () => {
      const d = (await client.get(RES.deployments, 'default', 'web')) as KObject;
      const st = status(d);
      return st['updatedReplicas'] === 3 && st['availableReplicas'] === 3 && st['replicas'] === 3 && st['observedGeneration'] === 2 ? d : undefined;
    }, 10000, 'rollout');
    expect(done.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rss = client.all(RES.replicasets);
    expect(rss).toHaveLength(2);
    const old = rss.find((r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
    expect(spec(old as KObject)['replicas']).toBe(0);
    await eventually(() => client.all(RES.pods).length === 3, 5000, 'old pods gone');
  });

  it('reports ImagePullBackOff for an unknown image', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deployment('bad', 'doesnotexist/nope:1', 1));
    const pod = await eventually(() => client.all(RES.pods).find((p) => asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting'])['reason'] === 'ImagePullBackOff'), 5000, 'ImagePullBackOff');
    expect(pod).toBeDefined();
    const failed = events(client, 'Failed').map((e) => String(e['message']));
    expect(failed).toContain('Error: ErrImagePull');
    expect(failed).toContain('Error: ImagePullBackOff');
    expect(failed.some((m) => m.startsWith('Failed to pull image "doesnotexist/nope:1": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/doesnotexist/nope:1"'))).toBe(true);
  });
});

describe('failure modes', () => {
  it('crash-loops a failing container with restarts, BackOff and previous logs', async () => {
    const { client, set } = await boot({ timeScale: 0.005 });
    await client.create(RES.deployments, deployment('crash', 'berth.local/crashloop', 1));
    const pod = await eventually(() =>
      client.all(RES.pods).find((p) => {
        const cs = asRecord(asArray(status(p)['containerStatuses'])[0]);
        return Number(cs['restartCount']) >= 2 && asRecord(asRecord(cs['state'])['waiting'])['reason'] === 'CrashLoopBackOff' ? p : undefined;
      }), 8000, 'CrashLoopBackOff');
    const cs = asRecord(asArray(status(pod)['containerStatuses'])[0]);
    expect(asRecord(asRecord(cs['lastState'])['terminated'])).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(String(asRecord(asRecord(cs['state'])['waiting'])['message'])).toMatch(/^back-off \d+s restarting failed container=app pod=crash-/);
    expect(status(pod)['phase']).toBe('Running');
    const backoff = events(client, 'BackOff').map((e) => String(e['message']));
    expect(backoff.some((m) => m.startsWith(`Back-off restarting failed container app in pod ${pod.metadata.name}_default(`))).toBe(true);
    const lines: string[] = [];
    for await (const l of set.logs.read('default', pod.metadata.name ?? '', { previous: true }, new AbortController().signal)) lines.push(l.line);
    expect(lines).toContain('fatal: simulated crash (berth.local/crashloop)');
  });

  it('records FailedCreate with the admission message and the ReplicaFailure condition', async () => {
    const { client } = await boot();
    const { statusError } = await import('../client/objects.ts');
    client.admit = (res, obj) => {
      if (res.resource === 'pods')
        throw statusError(403, 'Forbidden', `pods "${obj.metadata.name}" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false)`);
    };
    await client.create(RES.deployments, deployment('psa', 'nginx', 2));
    const ev = await eventually(() => events(client, 'FailedCreate')[0], 5000, 'FailedCreate');
    expect(String(ev['message'])).toMatch(/^Error creating: pods "psa-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": /);
    expect(ev['type']).toBe('Warning');
    const rs = await eventually(() => client.all(RES.replicasets).find((r) => getCondition(status(r)['conditions'], 'ReplicaFailure')), 5000, 'ReplicaFailure');
    expect(getCondition(status(rs)['conditions'], 'ReplicaFailure')).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    const d = await eventually(async () => {
      const d = await client.get(RES.deployments, 'default', 'psa');
      return d && getCondition(status(d)['conditions'], 'ReplicaFailure') ? d : undefined;
    });
    expect(getCondition(status(d)['conditions'], 'Available')?.status).toBe('False');
  });

  it('leaves a pod Pending as Unschedulable when nothing fits, and schedules it when capacity frees', async () => {
    const { client } = await boot();
    const big = deployment('big', 'nginx', 1);
    asRecord(asArray(asRecord(asRecord(asRecord(big['spec'])['template'])['spec'])['containers'])[0])['resources'] = { requests: { cpu: '3' } };
    await client.create(RES.deployments, big);
    await eventually(() => client.all(RES.pods).length === 1 && status(client.all(RES.pods)[0] as KObject)['phase'] === 'Running');
    const huge = deployment('huge', 'nginx', 1);
    asRecord(asArray(asRecord(asRecord(asRecord(huge['spec'])['template'])['spec'])['containers'])[0])['resources'] = { requests: { cpu: '5' } };
    await client.create(RES.deployments, huge);
    const pod = await eventually(() => client.all(RES.pods).find((p) => getCondition(status(p)['conditions'], 'PodScheduled')?.reason === 'Unschedulable'), 5000, 'Unschedulable');
    expect(getCondition(status(pod)['conditions'], 'PodScheduled')?.message).toBe(
      '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
    expect(String(events(client, 'FailedScheduling')[0]?.['message'])).toContain('Insufficient cpu');
  });

  it('reports CreateContainerConfigError for a missing ConfigMap and starts once it exists', async () => {
    const { client } = await boot({ timeScale: 0.01 });
    const d = deployment('cfg', 'nginx:1.27', 1);
    asRecord(asArray(asRecord(asRecord(asRecord(d['spec'])['template'])['spec'])['containers'])[0])['env'] = [{ name: 'MESSAGES', valueFrom: { configMapKeyRef: { name: 'msgs', key: 'MESSAGES' } } }];
    await client.create(RES.deployments, d);
    const waitingReason = (p: KObject): unknown => asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting']);
    const pod = await eventually(() => client.all(RES.pods).find((p) => asRecord(waitingReason(p))['reason'] === 'CreateContainerConfigError'), 5000, 'config error');
    expect(asRecord(waitingReason(pod))['message']).toBe('configmap "msgs" not found');
    await client.create(RES.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'msgs', namespace: 'default' }, data: { OTHER: 'x' } });
    await eventually(() => client.all(RES.pods).find((p) => asRecord(waitingReason(p))['message'] === "couldn't find key MESSAGES in ConfigMap default/msgs"), 5000, 'key error');
    const cm = (await client.get(RES.configmaps, 'default', 'msgs')) as KObject;
    await client.update(RES.configmaps, { ...cm, data: { MESSAGES: 'hi' } });
    await eventually(() => client.all(RES.pods).find((p) => status(p)['phase'] === 'Running'), 5000, 'running');
  });
});

describe('services, scaling, deletion', () => {
  it('keeps Endpoints in step with ready pods and resolves named target ports', async () => {
    const { client } = await boot();
    const d = deployment('api', 'nginx:1.27', 2);
    asRecord(asArray(asRecord(asRecord(asRecord(d['spec'])['template'])['spec'])['containers'])[0])['ports'] = [{ name: 'http', containerPort: 8080 }];
    await client.create(RES.deployments, d);
    await client.create(RES.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'default' }, spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } });
    const ep = await eventually(async () => {
      const ep = await client.get(RES.endpoints, 'default', 'api');
      const s = asRecord(asArray(ep?.['subsets'])[0]);
      return asArray(s['addresses']).length === 2 ? s : undefined;
    }, 5000, 'endpoints');
    expect(ep['ports']).toEqual([{ name: 'web', port: 8080, protocol: 'TCP' }]);
    const dep = (await client.get(RES.deployments, 'default', 'api')) as KObject;
    await client.update(RES.deployments, { ...dep, spec: { ...spec(dep), replicas: 1 } });
    await eventually(async () => asArray(asRecord(asArray((await client.get(RES.endpoints, 'default', 'api'))?.['subsets'])[0])['addresses']).length === 1, 5000, 'endpoints shrink');
  });

  it('scales through the scale subresource and cascades deletion', async () => {
    const { client } = await boot();
    await client.create(RES.deployments, deployment('s', 'nginx', 1));
    await eventually(() => client.all(RES.pods).length === 1);
    await client.patch(RES.deployments, 'default', 's', { spec: { replicas: 4 } }, 'merge', { subresource: 'scale' });
    await eventually(async () => status((await client.get(RES.deployments, 'default', 's')) as KObject)['availableReplicas'] === 4, 5000, 'scaled');
    await client.delete(RES.deployments, 'default', 's');
    await eventually(() => client.all(RES.replicasets).length === 0 && client.all(RES.pods).length === 0, 5000, 'cascade');
    expect(events(client, 'Killing').length).toBeGreaterThan(0);
  });

  it('never drops below replicas - maxUnavailable nor above replicas + maxSurge during a rollout', async () => {
    const { client } = await boot({ timeScale: 0.02 });
    await client.create(RES.deployments, deployment('ru', 'nginx:1.26', 4, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    await eventually(async () => status((await client.get(RES.deployments, 'default', 'ru')) as KObject)['availableReplicas'] === 4, 8000);
    let minAvailable = Infinity;
    let maxPods = 0;
    const stop = client.watch(RES.pods, { resourceVersion: '0' }, () => {
      const active = client.all(RES.pods).filter((p) => !p.metadata.deletionTimestamp);
      maxPods = Math.max(maxPods, active.length);
      minAvailable = Math.min(minAvailable, active.filter((p) => getCondition(status(p)['conditions'], 'Ready')?.status === 'True').length);
    });
    const d = (await client.get(RES.deployments, 'default', 'ru')) as KObject;
    const tpl = structuredClone(asRecord(spec(d)['template']));
    asRecord(asArray(asRecord(tpl['spec'])['containers'])[0])['image'] = 'nginx:1.27';
    await client.update(RES.deployments, { ...d, spec: { ...spec(d), template: tpl } });
    await eventually(async () => {
      const d = (await client.get(RES.deployments, 'default', 'ru')) as KObject;
      return status(d)['observedGeneration'] === 2 && status(d)['updatedReplicas'] === 4 && status(d)['availableReplicas'] === 4 && status(d)['replicas'] === 4;
    }, 10000, 'rollout');
    stop();
    expect(minAvailable).toBeGreaterThanOrEqual(4);
    expect(maxPods).toBeLessThanOrEqual(5);
  });

  it('schedules a pending pod once capacity frees up', async () => {
    const { client } = await boot({ nodes: 1 });
    const withCpu = (name: string, cpu: string): KObject => {
      const d = deployment(name, 'nginx', 1);
      asRecord(asArray(asRecord(asRecord(asRecord(d['spec'])['template'])['spec'])['containers'])[0])['resources'] = { requests: { cpu } };
      return d;
    };
    await client.create(RES.deployments, withCpu('first', '3'));
    await eventually(() => client.all(RES.pods).some((p) => status(p)['phase'] === 'Running'), 5000, 'first running');
    await client.create(RES.deployments, withCpu('second', '2'));
    await eventually(() => client.all(RES.pods).find((p) => getCondition(status(p)['conditions'], 'PodScheduled')?.message === '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.'), 5000, 'unschedulable');
    await client.delete(RES.deployments, 'default', 'first');
    await eventually(() => client.all(RES.pods).some((p) => p.metadata.labels?.['app'] === 'second' && status(p)['phase'] === 'Running'), 8000, 'second scheduled');
  });
});
