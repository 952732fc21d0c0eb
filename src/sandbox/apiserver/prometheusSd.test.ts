import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RES } from '../client/resources.ts';
import { startSandbox, type Sandbox } from '../startSandbox.ts';
import type { KObject } from '../types.ts';
import { PROMETHEUS_SD_PATH, podTargetGroups, sanitizeLabelName } from './prometheusSd.ts';

function pod(name: string, opts: { ip?: string; ready?: boolean; ports?: unknown[]; labels?: Record<string, string>; namespace?: string } = {}): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'shop',
      uid: `uid-${name}`,
      labels: opts.labels ?? { 'app.kubernetes.io/name': 'hello' },
      annotations: { 'prometheus.io/scrape': 'true' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'hello-abc', uid: 'rs', controller: true }],
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'berth.local/hello:1.0.0', ports: opts.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
    status: {
      phase: 'Running',
      hostIP: '127.0.1.1',
      ...(opts.ip !== undefined ? { podIP: opts.ip } : {}),
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }],
    },
  };
}

describe('podTargetGroups: what Prometheus role "pod" discovery yields', () => {
  it('one target per container port at the pod IP, with the __meta_kubernetes_* labels', () => {
    expect(podTargetGroups([pod('hello-abc-1', { ip: '127.10.0.7' })])).toEqual([
      {
        targets: ['127.10.0.7:8080'],
        labels: {
          __meta_kubernetes_namespace: 'shop',
          __meta_kubernetes_pod_name: 'hello-abc-1',
          __meta_kubernetes_pod_ip: '127.10.0.7',
          __meta_kubernetes_pod_ready: 'true',
          __meta_kubernetes_pod_phase: 'Running',
          __meta_kubernetes_pod_node_name: 'node-1',
          __meta_kubernetes_pod_host_ip: '127.0.1.1',
          __meta_kubernetes_pod_uid: 'uid-hello-abc-1',
          __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
          __meta_kubernetes_pod_controller_name: 'hello-abc',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'hello',
          __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
          __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
          __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
          __meta_kubernetes_pod_container_name: 'app',
          __meta_kubernetes_pod_container_image: 'berth.local/hello:1.0.0',
          __meta_kubernetes_pod_container_init: 'false',
          __meta_kubernetes_pod_container_port_name: 'http',
          __meta_kubernetes_pod_container_port_number: '8080',
          __meta_kubernetes_pod_container_port_protocol: 'TCP',
        },
      },
    ]);
  });

  it('skips pods without an IP, gives a port-less container the bare IP, brackets IPv6 and reports readiness', () => {
    const groups = podTargetGroups([
      pod('pending'),
      pod('noports', { ip: '127.10.0.8', ports: [] }),
      pod('v6', { ip: 'fd00::5', ready: false, ports: [{ name: 'm', containerPort: 9090, protocol: 'TCP' }, { containerPort: 53, protocol: 'UDP' }] }),
    ]);
    expect(groups.map((g) => g.targets[0])).toEqual(['127.10.0.8', '[fd00::5]:9090', '[fd00::5]:53']);
    expect(groups[0]!.labels).not.toHaveProperty('__meta_kubernetes_pod_container_port_number');
    expect(groups[1]!.labels['__meta_kubernetes_pod_ready']).toBe('false');
    expect(groups[2]!.labels['__meta_kubernetes_pod_container_port_protocol']).toBe('UDP');
  });

  it('sanitises label names as Prometheus does', () => {
    expect(sanitizeLabelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
    expect(sanitizeLabelName('a-b:c')).toBe('a_b_c');
  });
});

describe(`GET ${PROMETHEUS_SD_PATH} on the sandbox API server`, () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, controllers: false });
    for (const ns of ['shop', 'other']) await sb.client.create(RES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const [name, ns, ip] of [
      ['a', 'shop', '127.10.0.2'],
      ['b', 'other', '127.10.0.3'],
    ] as const) {
      const { status, ...rest } = pod(name, { namespace: ns, ip });
      await sb.client.create(RES.pods, rest as KObject);
      // The sandbox's scheduler may bind the pod in between (a write that bumps resourceVersion): on a
      // conflict, read it again and retry, as any client of a real API server must.
      for (let attempt = 0; ; attempt++) {
        const latest = (await sb.client.get(RES.pods, ns, name)) as KObject;
        try {
          await sb.client.updateStatus(RES.pods, { ...latest, status });
          break;
        } catch (e) {
          if (attempt >= 5 || (e as { status?: { code?: number } }).status?.code !== 409) throw e;
        }
      }
    }
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('answers JSON target groups for every pod, narrowed by namespace and labelSelector', async () => {
    const get = async (query: string): Promise<{ status: number; type: string | null; body: Array<{ targets: string[] }> }> => {
      const res = await fetch(`${sb.url}${PROMETHEUS_SD_PATH}${query}`);
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Array<{ targets: string[] }> };
    };
    const all = await get('');
    expect(all.status).toBe(200);
    expect(all.type).toBe('application/json');
    expect(all.body.map((g) => g.targets[0]).sort()).toEqual(['127.10.0.2:8080', '127.10.0.3:8080']);
    expect((await get('?namespace=shop')).body.map((g) => g.targets[0])).toEqual(['127.10.0.2:8080']);
    expect((await get('?labelSelector=app.kubernetes.io%2Fname%3Dnobody')).body).toEqual([]);
  });

  it('refuses other methods', async () => {
    expect((await fetch(`${sb.url}${PROMETHEUS_SD_PATH}`, { method: 'POST' })).status).toBe(405);
  });
});
