import type { KObject } from '../types.ts';
import type { DeleteOpts } from './apiTypes.ts';
import { arr, clone, deepEqual, nowRfc3339, obj } from './json.ts';
import type { ResourceDef } from './resourceRegistry.ts';

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** Whether a pod has finished running, so it needs neither a grace period nor a disruption budget. */
export function isTerminalPod(pod: KObject): boolean {
  return TERMINAL.has(String(obj(pod['status'])['phase']));
}

/**
 * What deleting `cur` does: remove it now, leave it as it is (already being deleted the same way),
 * or store `object`, marked for deletion with a grace period and/or finalizers.
 */
export type DeletionPlan = { kind: 'remove' } | { kind: 'unchanged' } | { kind: 'mark'; object: KObject };

/**
 * Graceful deletion, as kube-apiserver's `rest.BeforeDelete`: pods get their grace period (none when
 * unscheduled or finished), propagation policies become finalizers, namespaces wait for their
 * `spec.finalizers`; a repeated delete may only shorten the grace period or add finalizers.
 */
export function planDeletion(d: ResourceDef, cur: KObject, opts: DeleteOpts): DeletionPlan {
  const policy = opts.propagationPolicy ?? (d.group === 'batch' && d.resource === 'jobs' ? 'Orphan' : 'Background');
  const next = clone(cur);
  const meta = next.metadata;
  let grace = 0;
  if (d.kind === 'Pod') {
    const spec = obj(next['spec']);
    grace = opts.gracePeriodSeconds ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
    if (!spec['nodeName'] || isTerminalPod(next)) grace = 0;
    if (grace < 0) grace = 1;
  }
  const finalizers = [...(meta.finalizers ?? [])];
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  const nsPending = d.kind === 'Namespace' && arr(obj(next['spec'])['finalizers']).length > 0;
  if (!(grace > 0 || finalizers.length || nsPending)) return { kind: 'remove' };
  if (meta.deletionTimestamp) {
    const shorter = grace < (meta.deletionGracePeriodSeconds ?? 0);
    if (!shorter && deepEqual(finalizers, meta.finalizers ?? [])) return { kind: 'unchanged' };
    if (shorter) {
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = nowRfc3339(Date.now() + grace * 1000);
    }
  } else {
    meta.deletionTimestamp = nowRfc3339(Date.now() + grace * 1000);
    meta.deletionGracePeriodSeconds = grace;
    meta.generation = (meta.generation ?? 1) + 1;
  }
  if (finalizers.length) meta.finalizers = finalizers;
  if (d.kind === 'Namespace') next['status'] = { ...obj(next['status']), phase: 'Terminating' };
  return { kind: 'mark', object: next };
}

/** A marked object whose grace period and finalizers are all done: the write that got it there removes it. */
export function readyToFinalize(o: KObject): boolean {
  if (!o.metadata.deletionTimestamp) return false;
  if ((o.metadata.finalizers ?? []).length) return false;
  if (o.kind === 'Namespace' && arr(obj(o['spec'])['finalizers']).length) return false;
  return (o.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}
