import type { KObject, PatchType, StatusObject } from '../types.ts';
import type { DeleteOpts, WriteOpts, WriteResult } from './apiTypes.ts';
import { isTerminalPod } from './deletion.ts';
import { arr, clone, isObject, nowRfc3339, obj } from './json.ts';
import type { ObjectStore } from './objectStore.ts';
import { mergePatch, patchObject } from './patches.ts';
import { storageId } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { matchLabelSelector } from './selectors.ts';
import { apiError, conflict, fieldErr, invalid, MODIFIED, resourceNotFound, statusObject } from './statusErrors.ts';

/** What the subresources need from the storage of the resource they belong to. */
export interface ResourceStorage {
  def(group: string, version: string, resource: string): ResourceDef;
  /** The live stored object (read-only); NotFound when there is none. */
  current(d: ResourceDef, namespace: string | undefined, name: string): KObject;
  /** The update pipeline (admission, validation, field ownership, no-op detection) for a change made through `subresource`. */
  update(d: ResourceDef, old: KObject, next: KObject, opts: WriteOpts, subresource: string): WriteResult;
  delete(d: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOpts): unknown;
}

/**
 * The REST storage of `scale`, `pods/binding` and `pods/eviction`: each reads and writes its parent
 * object through the parent's storage, as kube-apiserver's ScaleREST, BindingREST and EvictionREST do.
 */
export class Subresources {
  constructor(
    private readonly storage: ResourceStorage,
    private readonly store: Pick<ObjectStore, 'scan' | 'put'>,
  ) {}

  getScale(d: ResourceDef, namespace: string | undefined, name: string): KObject {
    if (!d.subresources?.includes('scale')) throw resourceNotFound();
    return toScale(this.storage.current(d, namespace, name));
  }

  updateScale(d: ResourceDef, namespace: string | undefined, name: string, body: unknown, opts: WriteOpts = {}): WriteResult {
    const cur = this.storage.current(d, namespace, name);
    const scale = obj(body);
    const rv = obj(scale['metadata'])['resourceVersion'];
    if (rv && rv !== cur.metadata.resourceVersion) throw conflict(d, name, MODIFIED);
    const replicas = obj(scale['spec'])['replicas'];
    if (typeof replicas !== 'number' || replicas < 0)
      throw invalid({ ...d, group: 'autoscaling', kind: 'Scale' }, name, [fieldErr.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
    const next = clone(cur);
    obj(next['spec'])['replicas'] = replicas;
    const r = this.storage.update(d, cur, next, opts, 'scale');
    return { object: toScale(r.object), warnings: r.warnings };
  }

  patchScale(d: ResourceDef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts: WriteOpts = {}): WriteResult {
    const scale = this.getScale(d, namespace, name);
    const patched = type === 'apply' ? mergePatch(scale, patch) : patchObject(scale, patch, type);
    return this.updateScale(d, namespace, name, patched, opts);
  }

  bind(namespace: string, name: string, body: unknown): StatusObject {
    const d = this.storage.def('', 'v1', 'pods');
    const pod = this.storage.current(d, namespace, name);
    const node = obj(obj(body)['target'])['name'];
    if (typeof node !== 'string' || !node) throw invalid({ ...d, kind: 'Binding' }, name, [fieldErr.required('target.name')]);
    const spec = obj(pod['spec']);
    if (pod.metadata.deletionTimestamp) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (spec['nodeName']) throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node "${String(spec['nodeName'])}"`);
    const next = clone(pod);
    obj(next['spec'])['nodeName'] = node;
    const st = obj(next['status']);
    const conds = arr(st['conditions']).filter((c) => obj(c)['type'] !== 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: nowRfc3339() });
    st['conditions'] = conds;
    next['status'] = st;
    // Binding writes spec.nodeName, which the pod update validation otherwise forbids.
    this.store.put(storageId(d), next, 'MODIFIED');
    return { ...statusObject(201, '', ''), status: 'Success', message: '', reason: '' } as StatusObject;
  }

  evict(namespace: string, name: string, body: unknown): StatusObject {
    const d = this.storage.def('', 'v1', 'pods');
    const pod = this.storage.current(d, namespace, name);
    if (!pod.metadata.deletionTimestamp && !isTerminalPod(pod)) {
      for (const pdb of this.store.scan('policy/poddisruptionbudgets')) {
        if (pdb.metadata.namespace !== namespace) continue;
        const spec = obj(pdb['spec']);
        if (!matchLabelSelector(spec['selector'], pod.metadata.labels)) continue;
        const pods = [...this.store.scan('/pods')].filter((p) => p.metadata.namespace === namespace && !p.metadata.deletionTimestamp && matchLabelSelector(spec['selector'], p.metadata.labels));
        const healthy = pods.filter((p) => arr(obj(p['status'])['conditions']).some((c) => obj(c)['type'] === 'Ready' && obj(c)['status'] === 'True')).length;
        const expected = pods.length;
        const resolve = (v: unknown, roundUp: boolean): number => {
          if (typeof v === 'number') return v;
          if (typeof v === 'string' && v.endsWith('%')) {
            const x = (Number(v.slice(0, -1)) * expected) / 100;
            return roundUp ? Math.ceil(x) : Math.floor(x);
          }
          return 0;
        };
        const desiredHealthy = spec['minAvailable'] !== undefined ? resolve(spec['minAvailable'], true) : Math.max(0, expected - resolve(spec['maxUnavailable'] ?? 0, true));
        if (healthy - desiredHealthy < 1 || !obj(pod['status'])['conditions'] || healthy === 0) {
          const pdbName = pdb.metadata.name ?? '';
          throw apiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdbName} needs ${desiredHealthy} healthy pods and has ${healthy} currently` }],
          });
        }
      }
    }
    const delOpts = obj(obj(body)['deleteOptions']);
    const o: DeleteOpts = {};
    if (typeof delOpts['gracePeriodSeconds'] === 'number') o.gracePeriodSeconds = delOpts['gracePeriodSeconds'];
    this.storage.delete(d, namespace, name, o);
    return { ...statusObject(201, '', ''), status: 'Success', message: '', reason: '' } as StatusObject;
  }
}

/** The autoscaling/v1 Scale of a workload; the selector is written as a label-selector string. */
function toScale(o: KObject): KObject {
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  const sel = spec['selector'];
  let selector = '';
  if (isObject(sel)) {
    const parts = Object.entries(obj(sel['matchLabels'])).map(([k, v]) => `${k}=${String(v)}`);
    for (const e of arr(sel['matchExpressions'])) {
      const ex = obj(e);
      const vals = arr(ex['values']).map(String).join(',');
      if (ex['operator'] === 'In') parts.push(`${String(ex['key'])} in (${vals})`);
      else if (ex['operator'] === 'NotIn') parts.push(`${String(ex['key'])} notin (${vals})`);
      else if (ex['operator'] === 'Exists') parts.push(String(ex['key']));
      else if (ex['operator'] === 'DoesNotExist') parts.push(`!${String(ex['key'])}`);
    }
    selector = parts.join(',');
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name ?? '',
      namespace: o.metadata.namespace ?? '',
      uid: o.metadata.uid ?? '',
      resourceVersion: o.metadata.resourceVersion ?? '',
      creationTimestamp: o.metadata.creationTimestamp ?? '',
    },
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 0 },
    status: { replicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0, selector },
  };
}

