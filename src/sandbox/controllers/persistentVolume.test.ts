import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../apiserver/apiServer.ts';
import { createInProcessClient } from '../apiserver/inProcessClient.ts';
import type { ClusterClient, KObject } from '../types.ts';
import { createCluster } from '../createCluster.ts';
import type { ClusterComponents } from '../createCluster.ts';
import { asRecord, isApiError, spec, status } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { VolumeProvisioner } from './persistentVolume.ts';
import { eventually } from './testing/fakeClient.ts';

/** The PersistentVolume controller and the StatefulSet's claims against the real API server core, in process. */
let api: ApiServer;
let client: ClusterClient;
let set: ClusterComponents;
const provisioned: string[] = [];
const removed: string[] = [];
const provisioner: VolumeProvisioner = {
  name: 'berth.dev/sandbox-local-path',
  provision: async (volume, claim) => {
    provisioned.push(`${volume}:${claim.namespace}/${claim.name}`);
    return `/volumes/${volume}`;
  },
  remove: async (path) => {
    removed.push(path);
  },
};

beforeAll(async () => {
  api = new ApiServer();
  api.bootstrap();
  api.startGc(100);
  client = createInProcessClient(api);
  set = createCluster(client, { nodes: 1, timeScale: 0.02, provisioner });
  for (const c of set.controllers) await c.start();
});

afterAll(async () => {
  for (const c of set?.controllers ?? []) await c.stop();
  api?.stop();
});

function claim(name: string, extra: Record<string, unknown> = {}): KObject {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra } };
}

const phase = (o: KObject | undefined): unknown => status(o ?? ({ metadata: {} } as KObject))['phase'];

describe('PersistentVolumeClaims', () => {
  it('defaults the class to standard, provisions a bound hostPath volume, and deletes it with the claim', async () => {
    const created = await client.create(RES.persistentvolumeclaims, claim('data'));
    expect(spec(created)['storageClassName']).toBe('standard');
    expect(created.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    const bound = await eventually(async () => {
      const c = await client.get(RES.persistentvolumeclaims, 'default', 'data');
      return phase(c) === 'Bound' ? c : undefined;
    });
    const volume = String(spec(bound)['volumeName']);
    expect(volume).toBe(`pvc-${created.metadata.uid}`);
    expect(status(bound)).toMatchObject({ accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    const pv = await client.get(RES.persistentvolumes, undefined, volume);
    expect(spec(pv as KObject)).toMatchObject({
      storageClassName: 'standard',
      persistentVolumeReclaimPolicy: 'Delete',
      hostPath: { path: `/volumes/${volume}` },
      claimRef: { namespace: 'default', name: 'data', uid: created.metadata.uid },
    });
    expect(phase(pv)).toBe('Bound');
    expect(provisioned).toContain(`${volume}:default/data`);

    await client.delete(RES.persistentvolumeclaims, 'default', 'data');
    await eventually(async () => ((await client.get(RES.persistentvolumes, undefined, volume)) ? undefined : true));
    expect(removed).toContain(`/volumes/${volume}`);
    expect(await client.get(RES.persistentvolumeclaims, 'default', 'data')).toBeUndefined();
  });

  it('binds a claim without a class to a matching static volume and releases a Retain volume', async () => {
    await client.create(RES.persistentvolumes, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'static-pv' },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: '/srv/static' } },
    });
    await client.create(RES.persistentvolumeclaims, claim('static', { storageClassName: '' }));
    await eventually(async () => (phase(await client.get(RES.persistentvolumeclaims, 'default', 'static')) === 'Bound' ? true : undefined));
    expect(spec((await client.get(RES.persistentvolumeclaims, 'default', 'static')) as KObject)['volumeName']).toBe('static-pv');
    await client.delete(RES.persistentvolumeclaims, 'default', 'static');
    await eventually(async () => (phase(await client.get(RES.persistentvolumes, undefined, 'static-pv')) === 'Released' ? true : undefined));
    expect(removed).not.toContain('/srv/static');
  });

  it('stays Pending with a FailedBinding event when no class and no volume fit', async () => {
    await client.create(RES.persistentvolumeclaims, claim('nothing', { storageClassName: 'missing' }));
    const ev = await eventually(async () => (await client.list(RES.events, { namespace: 'default' })).items.find((e) => asRecord(e['involvedObject'])['name'] === 'nothing' && e['reason'] === 'FailedBinding'));
    expect(ev['message']).toBe('storageclass.storage.k8s.io "missing" not found');
    expect(phase(await client.get(RES.persistentvolumeclaims, 'default', 'nothing'))).toBe('Pending');
  });

  it('refuses claims without access modes or size, and spec changes after creation', async () => {
    const bad = await client.create(RES.persistentvolumeclaims, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'bad', namespace: 'default' }, spec: {} }).catch((e: unknown) => e);
    expect(isApiError(bad, 422) && bad.message).toContain('spec.accessModes: Required value: at least 1 access mode is required');
    expect(isApiError(bad, 422) && bad.message).toContain('spec.resources[storage]: Required value');
    const c = await client.create(RES.persistentvolumeclaims, claim('fixed'));
    const changed = await client.update(RES.persistentvolumeclaims, { ...c, spec: { ...spec(c), accessModes: ['ReadWriteMany'] } }).catch((e: unknown) => e);
    expect(isApiError(changed, 422) && changed.message).toContain('spec is immutable after creation');
  });

  it('keeps a claim in use by a pod until the pod is gone', async () => {
    await client.create(RES.persistentvolumeclaims, claim('used'));
    await eventually(async () => (phase(await client.get(RES.persistentvolumeclaims, 'default', 'used')) === 'Bound' ? true : undefined));
    await client.create(RES.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'used' } }] } });
    await client.delete(RES.persistentvolumeclaims, 'default', 'used');
    await new Promise((r) => setTimeout(r, 200));
    expect((await client.get(RES.persistentvolumeclaims, 'default', 'used'))?.metadata.deletionTimestamp).toBeDefined();
    await client.delete(RES.pods, 'default', 'user', { gracePeriodSeconds: 0 });
    await eventually(async () => ((await client.get(RES.persistentvolumeclaims, 'default', 'used')) ? undefined : true));
  });
});

describe('StatefulSet claims', () => {
  function sts(name: string, replicas: number, retention?: Record<string, string>): KObject {
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: 'default' },
      spec: {
        replicas,
        podManagementPolicy: 'Parallel',
        serviceName: name,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
        ...(retention ? { persistentVolumeClaimRetentionPolicy: retention } : {}),
      },
    };
  }
  const claims = async (prefix: string): Promise<string[]> =>
    (await client.list(RES.persistentvolumeclaims, { namespace: 'default' })).items
      .map((c) => c.metadata.name ?? '')
      .filter((n) => n.startsWith(prefix))
      .sort();

  it('creates a bound claim per ordinal and keeps them after a scale-down and the deletion (Retain)', async () => {
    await client.create(RES.statefulsets, sts('keep', 2));
    await eventually(async () => ((await claims('data-keep-')).length === 2 ? true : undefined));
    expect(await claims('data-keep-')).toEqual(['data-keep-0', 'data-keep-1']);
    await eventually(async () => (phase(await client.get(RES.persistentvolumeclaims, 'default', 'data-keep-1')) === 'Bound' ? true : undefined));
    await client.patch(RES.statefulsets, 'default', 'keep', { spec: { replicas: 1 } }, 'merge');
    await eventually(async () => ((await client.get(RES.pods, 'default', 'keep-1')) ? undefined : true));
    await client.delete(RES.statefulsets, 'default', 'keep');
    await eventually(async () => ((await client.get(RES.pods, 'default', 'keep-0')) ? undefined : true));
    expect(await claims('data-keep-')).toEqual(['data-keep-0', 'data-keep-1']);
  });

  it('deletes claims with the StatefulSet and on scale-down when the retention policy says Delete', async () => {
    await client.create(RES.statefulsets, sts('drop', 2, { whenDeleted: 'Delete', whenScaled: 'Delete' }));
    await eventually(async () => ((await client.get(RES.pods, 'default', 'drop-1')) && (await claims('data-drop-')).length === 2 ? true : undefined));
    await client.patch(RES.statefulsets, 'default', 'drop', { spec: { replicas: 1 } }, 'merge');
    await eventually(async () => ((await claims('data-drop-')).length === 1 ? true : undefined), 10_000);
    await client.delete(RES.statefulsets, 'default', 'drop');
    await eventually(async () => ((await claims('data-drop-')).length === 0 ? true : undefined), 10_000);
  });
});
