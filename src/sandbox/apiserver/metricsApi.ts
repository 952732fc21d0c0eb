import type { KObject, PodMetricsSource } from '../types.ts';
import { nowRfc3339, obj } from './json.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { notFound } from './statusErrors.ts';

/** The stored pods and nodes that metrics are reported for. */
export interface MetricsObjects {
  scan(sid: string): Iterable<KObject>;
}

function podMetrics(metrics: PodMetricsSource | undefined, pod: KObject): KObject | undefined {
  const usage = metrics?.podUsage(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  if (!usage) return undefined;
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', creationTimestamp: nowRfc3339(), ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}) },
    timestamp: nowRfc3339(),
    window: '30s',
    containers: usage.containers.map((c) => ({ name: c.name, usage: { cpu: `${Math.round(c.cpuMillis * 1e6)}n`, memory: `${Math.round(c.memoryBytes / 1024)}Ki` } })),
  };
}

/** metrics.k8s.io PodMetrics or NodeMetrics (per node, the sum of its pods), computed when read, as metrics-server serves them. */
export function listMetrics(objects: MetricsObjects, metrics: PodMetricsSource | undefined, d: ResourceDef, namespace: string | undefined): KObject[] {
  const pods = [...objects.scan('/pods')].filter((p) => !namespace || p.metadata.namespace === namespace);
  if (d.resource === 'pods') return pods.map((p) => podMetrics(metrics, p)).filter((x): x is KObject => x !== undefined);
  const byNode = new Map<string, { cpu: number; mem: number }>();
  for (const n of objects.scan('/nodes')) byNode.set(n.metadata.name ?? '', { cpu: 0, mem: 0 });
  for (const p of pods) {
    const node = obj(p['spec'])['nodeName'];
    const agg = typeof node === 'string' ? byNode.get(node) : undefined;
    const u = metrics?.podUsage(p.metadata.namespace ?? '', p.metadata.name ?? '');
    if (!agg || !u) continue;
    for (const c of u.containers) {
      agg.cpu += c.cpuMillis;
      agg.mem += c.memoryBytes;
    }
  }
  return [...byNode].map(([name, u]) => ({
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'NodeMetrics',
    metadata: { name, creationTimestamp: nowRfc3339() },
    timestamp: nowRfc3339(),
    window: '30s',
    usage: { cpu: `${Math.round(u.cpu * 1e6)}n`, memory: `${Math.round(u.mem / 1024)}Ki` },
  }));
}

export function getMetrics(objects: MetricsObjects, metrics: PodMetricsSource | undefined, d: ResourceDef, namespace: string | undefined, name: string): KObject {
  const found = listMetrics(objects, metrics, d, namespace).find((m) => m.metadata.name === name);
  if (!found) throw notFound(d, name);
  return found;
}
