/** Annotation names and field readers the deployment controller shares between its reconcile loop and its status. */
import type { KObject } from '../types.ts';
import { parseTime } from '../client/clock.ts';
import { asRecord, deepEqual, num, spec, status } from '../client/objects.ts';
import type { IntOrString, RolloutParams } from './rollout.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const HASH_LABEL = 'pod-template-hash';

export function replicas(o: KObject): number {
  return num(spec(o)['replicas'], 1);
}
export function statusNum(o: KObject | undefined, f: string): number {
  return o ? num(status(o)[f], 0) : 0;
}
export function revisionOf(o: KObject): number {
  const n = Number(o.metadata.annotations?.[REVISION]);
  return Number.isFinite(n) ? n : 0;
}
export function created(o: KObject): number {
  return parseTime(o.metadata.creationTimestamp) ?? 0;
}

/** Pod template without the hash label, for EqualIgnoreHash. */
export function templateIgnoringHash(t: unknown): unknown {
  const c = structuredClone(asRecord(t));
  const meta = asRecord(c['metadata']);
  const labels = asRecord(meta['labels']);
  delete labels[HASH_LABEL];
  if (Object.keys(labels).length === 0) delete meta['labels'];
  if (Object.keys(meta).length === 0) delete c['metadata'];
  return c;
}

export function rolloutParams(d: KObject): RolloutParams {
  const strat = asRecord(spec(d)['strategy']);
  const rolling = (strat['type'] ?? 'RollingUpdate') === 'RollingUpdate';
  const ru = asRecord(strat['rollingUpdate']);
  return {
    replicas: replicas(d),
    rolling,
    maxSurge: ru['maxSurge'] as IntOrString | undefined,
    maxUnavailable: ru['maxUnavailable'] as IntOrString | undefined,
  };
}

export function findNewRS(d: KObject, rsList: KObject[]): KObject | undefined {
  const want = templateIgnoringHash(spec(d)['template']);
  return [...rsList].sort((a, b) => created(a) - created(b)).find((rs) => deepEqual(templateIgnoringHash(spec(rs)['template']), want));
}
