import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../apiserver/apiServer.ts';
import { createInProcessClient } from '../apiserver/inProcessClient.ts';
import type { ClusterClient, KObject } from '../types.ts';
import { createCluster } from '../createCluster.ts';
import type { ClusterComponents } from '../createCluster.ts';
import { asArray, asRecord, getCondition, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { eventually } from './testing/fakeClient.ts';

/** Controllers against the real API server core (validation, defaulting, admission, GC), in process. */
let api: ApiServer;
let client: ClusterClient;
let set: ClusterComponents;

beforeAll(async () => {
  api = new ApiServer();
  api.bootstrap();
  api.startGc(100);
  client = createInProcessClient(api);
  set = createCluster(client, { nodes: 3, timeScale: 0.02 });
  for (const c of set.controllers) await c.start();
});

afterAll(async () => {
  for (const c of set?.controllers ?? []) await c.stop();
  api?.stop();
});

function deployment(name: string, image: string, replicas: number, container: Record<string, unknown> = {}): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image, resources: { requests: { cpu: '100m', memory: '64Mi' } }, ...container }] } },
    },
  };
}

async function list(res: typeof RES.pods, namespace = 'default'): Promise<KObject[]> {
  return (await client.list(res, { namespace })).items;
}

describe('controllers with the API server core', () => {
  it('rolls out a Deployment and cascades its deletion', async () => {
    await client.create(RES.deployments, deployment('web', 'nginx:1.27', 3));
    const d = await eventually(async () => {
      const d = await client.get(RES.deployments, 'default', 'web');
      return d && status(d)['availableReplicas'] === 3 && getCondition(status(d)['conditions'], 'Progressing')?.reason === 'NewReplicaSetAvailable' ? d : undefined;
    }, 8000, 'available');
    expect(status(d)['observedGeneration']).toBe(d.metadata.generation);
    const pods = (await list(RES.pods)).filter((p) => p.metadata.labels?.['app'] === 'web');
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => status(p)['phase'] === 'Running')).toBe(true);
    const nodes = (await client.list(RES.nodes)).items;
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3']);
    expect(getCondition(status(nodes[0] as KObject)['conditions'], 'Ready')?.status).toBe('True');
    await client.delete(RES.deployments, 'default', 'web');
    await eventually(async () => (await list(RES.replicasets)).length === 0 && (await list(RES.pods)).filter((p) => p.metadata.labels?.['app'] === 'web').length === 0, 8000, 'cascade');
  });

  it('turns Pod Security rejections into FailedCreate events', async () => {
    await client.create(RES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'strict', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    await client.create(RES.deployments, { ...deployment('loose', 'nginx', 1), metadata: { name: 'loose', namespace: 'strict' } });
    const ev = await eventually(async () => (await list(RES.events, 'strict')).find((e) => e['reason'] === 'FailedCreate'), 8000, 'FailedCreate');
    expect(String(ev['message'])).toMatch(/^Error creating: pods "loose-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": /);
  });

  it('reports image pull failures and crash loops in container statuses', async () => {
    await client.create(RES.deployments, deployment('bad', 'nosuch/image:1', 1));
    await client.create(RES.deployments, deployment('crash', 'berth.local/crashloop', 1));
    const waiting = (p: KObject): string => String(asRecord(asRecord(asRecord(asArray(status(p)['containerStatuses'])[0])['state'])['waiting'])['reason']);
    await eventually(async () => (await list(RES.pods)).some((p) => p.metadata.labels?.['app'] === 'bad' && waiting(p) === 'ImagePullBackOff'), 8000, 'ImagePullBackOff');
    await eventually(async () => (await list(RES.pods)).some((p) => p.metadata.labels?.['app'] === 'crash' && waiting(p) === 'CrashLoopBackOff'), 8000, 'CrashLoopBackOff');
  });

  it('runs a StatefulSet with ordered pods, rolling updates and scale-down', async () => {
    await client.create(RES.statefulsets, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const sts = await eventually(async () => {
      const s = await client.get(RES.statefulsets, 'default', 'db');
      return s && status(s)['readyReplicas'] === 3 ? s : undefined;
    }, 8000, 'sts ready');
    const pods = (await list(RES.pods)).filter((p) => p.metadata.labels?.['app'] === 'db').sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['db-0', 'db-1', 'db-2']);
    const created = pods.map((p) => Date.parse(String(p.metadata.creationTimestamp)));
    // OrderedReady: each ordinal is created no earlier than its predecessor.
    expect(created).toEqual([...created].sort((a, b) => a - b));
    const pvcs = (await client.list({ group: '', version: 'v1', resource: 'persistentvolumeclaims' }, { namespace: 'default' })).items.map((c) => c.metadata.name).sort();
    expect(pvcs).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    const rev1 = status(sts)['updateRevision'];
    await client.patch(RES.statefulsets, 'default', 'db', { spec: { template: { spec: { containers: [{ name: 'db', image: 'postgres:17' }] } } } }, 'merge');
    await eventually(async () => {
      const s = (await client.get(RES.statefulsets, 'default', 'db')) as KObject;
      return status(s)['updateRevision'] !== rev1 && status(s)['updatedReplicas'] === 3 && status(s)['readyReplicas'] === 3 && status(s)['currentRevision'] === status(s)['updateRevision'];
    }, 10000, 'sts rolled');
    await client.patch(RES.statefulsets, 'default', 'db', { spec: { replicas: 1 } }, 'merge');
    await eventually(async () => (await list(RES.pods)).filter((p) => p.metadata.labels?.['app'] === 'db').map((p) => p.metadata.name).join() === 'db-0', 8000, 'scaled down');
  });

  it('runs one DaemonSet pod per node', async () => {
    await client.create({ group: 'apps', version: 'v1', resource: 'daemonsets' }, {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'node-exporter', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'ne' } }, template: { metadata: { labels: { app: 'ne' } }, spec: { containers: [{ name: 'ne', image: 'prom/node-exporter:v1.8.2' }] } } },
    });
    const ds = await eventually(async () => {
      const d = await client.get({ group: 'apps', version: 'v1', resource: 'daemonsets' }, 'default', 'node-exporter');
      return d && status(d)['numberReady'] === 3 ? d : undefined;
    }, 8000, 'daemonset ready');
    expect(status(ds)).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberAvailable: 3 });
    const nodes = (await list(RES.pods)).filter((p) => p.metadata.labels?.['app'] === 'ne').map((p) => String(asRecord(p['spec'])['nodeName'])).sort();
    expect(nodes).toEqual(['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3']);
  });
});
