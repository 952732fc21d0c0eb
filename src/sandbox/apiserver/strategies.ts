import { randomUUID } from 'node:crypto';
import type { KObject } from '../types.ts';
import { clone, deepEqual, obj } from './json.ts';
import type { JsonObject } from './json.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { fieldErr, invalid } from './statusErrors.ts';

/*
 * The registry strategies' PrepareForCreate/PrepareForUpdate: what a write may change, per kind,
 * before defaulting and validation run.
 */

/** A new object: status is the controllers' to write (except where the creator sets it), and it gets its uid. */
export function prepareForCreate(d: ResourceDef, next: KObject): void {
  const hasStatusSub = d.subresources?.includes('status') ?? false;
  if (hasStatusSub && d.kind !== 'Namespace' && d.kind !== 'Node' && d.kind !== 'Pod') delete next['status'];
  if (d.kind === 'Pod') next['status'] = {};
  next.metadata.uid = randomUUID();
}

/**
 * A change to `old`: the main resource ignores status and `/status` ignores everything else;
 * identity and deletion metadata cannot change; finalizers can only be removed once deletion has
 * started. Returns the object to continue with.
 */
export function prepareForUpdate(d: ResourceDef, old: KObject, next: KObject, subresource: string | undefined): KObject {
  const name = next.metadata.name ?? '';
  if (d.subresources?.includes('status') ?? false) {
    if (subresource === 'status') {
      const st = next['status'];
      const labels = next.metadata.labels;
      const annotations = next.metadata.annotations;
      const mf = next.metadata.managedFields;
      next = clone(old);
      if (st === undefined) delete next['status'];
      else next['status'] = st;
      // kube-apiserver lets status writers (e.g. kubelet) keep metadata changes on nodes only.
      if (d.kind === 'Node') {
        if (labels) next.metadata.labels = labels;
        if (annotations) next.metadata.annotations = annotations;
      }
      if (mf) next.metadata.managedFields = mf;
    } else if (old['status'] === undefined) delete next['status'];
    else next['status'] = clone(old['status']);
  }
  for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'namespace', 'name'] as const) {
    if (old.metadata[k] === undefined) delete next.metadata[k];
    else (next.metadata as Record<string, unknown>)[k] = old.metadata[k];
  }
  if (old.metadata.deletionTimestamp) {
    const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
    if (added.length) throw invalid(d, name, [fieldErr.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((a) => JSON.stringify(a)).join(', ')}}`)]);
  }
  return next;
}

/** Per-kind fields derived after defaulting: a Job's generated selector, a terminating Namespace's phase. */
export function completeForKind(d: ResourceDef, old: KObject | undefined, next: KObject): void {
  if (d.kind === 'Job' && !old) defaultJobSelector(next);
  if (d.kind === 'Namespace' && old && old.metadata.deletionTimestamp) {
    const st = obj(next['status']);
    st['phase'] = 'Terminating';
    next['status'] = st;
  }
}

/** Generation counts spec changes (everything outside metadata and status). */
export function nextGeneration(old: KObject | undefined, next: KObject): number {
  if (!old) return 1;
  return (old.metadata.generation ?? 1) + (deepEqual(specOf(old), specOf(next)) ? 0 : 1);
}

function specOf(o: KObject): JsonObject {
  const c: JsonObject = { ...o };
  delete c['metadata'];
  delete c['status'];
  delete c['apiVersion'];
  delete c['kind'];
  return c;
}

/** The Job strategy's generated selector: pods are matched by the Job's uid unless manualSelector is set. */
function defaultJobSelector(job: KObject): void {
  const spec = obj(job['spec']);
  if (spec['manualSelector'] === true) return;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  spec['selector'] = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const tmpl = obj(spec['template']);
  const meta = obj(tmpl['metadata']);
  meta['labels'] = { ...obj(meta['labels']), 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
  tmpl['metadata'] = meta;
  spec['template'] = tmpl;
  job['spec'] = spec;
}
