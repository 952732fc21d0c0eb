import type { KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, canonicalJson, deepEqual, isApiError, isPodReady, isTerminal, matchesMap, objKey, spec, splitKey, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Resolves a Service port's targetPort against a pod's container ports (by name or number). */
export function resolveTargetPort(svcPort: Record<string, unknown>, pod: KObject): number | undefined {
  const tp = svcPort['targetPort'] ?? svcPort['port'];
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^\d+$/.test(tp)) return Number(tp);
  const proto = str(svcPort['protocol']) ?? 'TCP';
  for (const c of asArray(spec(pod)['containers'])) {
    for (const p of asArray(asRecord(c)['ports'])) {
      const pr = asRecord(p);
      if (pr['name'] === tp && (str(pr['protocol']) ?? 'TCP') === proto && typeof pr['containerPort'] === 'number') return pr['containerPort'];
    }
  }
  return undefined;
}

/** The Endpoints subsets for a Service: ready addresses and notReadyAddresses, grouped by resolved ports. */
export function computeSubsets(svc: KObject, pods: KObject[]): Record<string, unknown>[] {
  const sel = asRecord(spec(svc)['selector']) as Record<string, string>;
  const publishNotReady = spec(svc)['publishNotReadyAddresses'] === true;
  const svcPorts = asArray(spec(svc)['ports']).map(asRecord);
  const groups = new Map<string, { ports: EndpointPort[]; addresses: Record<string, unknown>[]; notReady: Record<string, unknown>[] }>();
  const sorted = [...pods].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const pod of sorted) {
    if (pod.metadata.namespace !== svc.metadata.namespace || !matchesMap(sel, pod.metadata.labels)) continue;
    const ip = str(status(pod)['podIP']);
    if (!ip || isTerminal(pod)) continue;
    if (pod.metadata.deletionTimestamp && !publishNotReady) continue;
    const addr: Record<string, unknown> = {
      ip,
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
    };
    const nodeName = str(spec(pod)['nodeName']);
    if (nodeName) addr['nodeName'] = nodeName;
    const ports: EndpointPort[] = [];
    for (const sp of svcPorts) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      const ep: EndpointPort = { port, protocol: str(sp['protocol']) ?? 'TCP' };
      const name = str(sp['name']);
      if (name) ep.name = name;
      const ap = str(sp['appProtocol']);
      if (ap) ep.appProtocol = ap;
      ports.push(ep);
    }
    if (svcPorts.length > 0 && ports.length === 0) continue;
    const key = canonicalJson(ports);
    const g = groups.get(key) ?? { ports, addresses: [], notReady: [] };
    if (isPodReady(pod) || publishNotReady) g.addresses.push(addr);
    else g.notReady.push(addr);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => {
    const s: Record<string, unknown> = {};
    if (g.addresses.length) s['addresses'] = g.addresses;
    if (g.notReady.length) s['notReadyAddresses'] = g.notReady;
    if (g.ports.length) s['ports'] = g.ports;
    return s;
  });
}

export class EndpointsController extends QueueController {
  readonly name = 'endpoint-controller';
  private readonly svcInf: SharedInformer;
  private readonly podInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.svcInf = ctx.informers.for(RES.services);
    this.podInf = ctx.informers.for(RES.pods);
    this.svcInf.addHandler({
      add: (s) => this.queue.add(objKey(s)),
      update: (_o, s) => this.queue.add(objKey(s)),
      delete: (s) => this.queue.add(objKey(s)),
    });
    const onPod = (p: KObject): void => {
      for (const s of this.svcInf.list(p.metadata.namespace)) {
        if (matchesMap(asRecord(spec(s)['selector']) as Record<string, string>, p.metadata.labels)) this.queue.add(objKey(s));
      }
    };
    this.podInf.addHandler({
      add: onPod,
      update: (o, p) => {
        onPod(p);
        if (!deepEqual(o.metadata.labels, p.metadata.labels)) onPod(o);
      },
      delete: onPod,
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.svcInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.svcInf.list().map(objKey);
  }

  protected async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.svcInf.get(namespace, name);
    const client = this.ctx.client;
    if (!svc) {
      // The garbage collector does not own Endpoints; the endpoints controller deletes them.
      try {
        const ep = await client.get(RES.endpoints, namespace, name);
        if (ep && !ep.metadata.labels?.['endpointslice.kubernetes.io/skip-mirror']) await client.delete(RES.endpoints, namespace, name);
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
      return;
    }
    // Services without a selector have user-managed Endpoints.
    const sel = asRecord(spec(svc)['selector']);
    if (Object.keys(sel).length === 0) return;
    const subsets = computeSubsets(svc, this.podInf.list(namespace));
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (spec(svc)['clusterIP'] === 'None') labels['service.kubernetes.io/headless'] = '';
    const existing = await client.get(RES.endpoints, namespace, name);
    if (existing) {
      if (deepEqual(existing['subsets'] ?? [], subsets) && deepEqual(existing.metadata.labels ?? {}, labels)) return;
      const upd: KObject = { ...existing, metadata: { ...existing.metadata, labels }, subsets };
      await client.update(RES.endpoints, upd);
      return;
    }
    await client.create(RES.endpoints, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets });
  }
}
