import type { KObject } from '../types.ts';
import { arr, clone, isObject, obj } from './json.ts';
import type { JsonObject } from './json.ts';

const CPU_UTILIZATION = (m: unknown): boolean => {
  const r = obj(obj(m)['resource']);
  return obj(m)['type'] === 'Resource' && r['name'] === 'cpu' && obj(r['target'])['type'] === 'Utilization';
};

/** Stored autoscaling/v2 HPA → its autoscaling/v1 view (CPU utilisation only, as kube converts it). */
export function hpaToV1(o: KObject): KObject {
  const spec = obj(o['spec']);
  const status = obj(o['status']);
  const cpu = arr(spec['metrics']).find(CPU_UTILIZATION);
  const v1Spec: JsonObject = { scaleTargetRef: spec['scaleTargetRef'], maxReplicas: spec['maxReplicas'] };
  if (spec['minReplicas'] !== undefined) v1Spec['minReplicas'] = spec['minReplicas'];
  const target = obj(obj(obj(cpu)['resource'])['target'])['averageUtilization'];
  if (target !== undefined) v1Spec['targetCPUUtilizationPercentage'] = target;
  const out: KObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: clone(o.metadata), spec: v1Spec };
  if (o['status'] !== undefined) {
    const v1Status: JsonObject = {};
    for (const k of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas']) if (status[k] !== undefined) v1Status[k] = status[k];
    const cur = arr(status['currentMetrics']).find((m) => obj(obj(m)['resource'])['name'] === 'cpu');
    const util = obj(obj(obj(cur)['resource'])['current'])['averageUtilization'];
    if (util !== undefined) v1Status['currentCPUUtilizationPercentage'] = util;
    out['status'] = v1Status;
  }
  return clone(out);
}

/** autoscaling/v1 HPA → autoscaling/v2, keeping the non-CPU metrics and behavior of `existing`. */
export function hpaFromV1(o: KObject, existing: KObject | undefined): KObject {
  const spec = obj(o['spec']);
  const prev = obj(existing?.['spec']);
  const v2Spec: JsonObject = { scaleTargetRef: spec['scaleTargetRef'], maxReplicas: spec['maxReplicas'] };
  if (spec['minReplicas'] !== undefined) v2Spec['minReplicas'] = spec['minReplicas'];
  const others = arr(prev['metrics']).filter((m) => !CPU_UTILIZATION(m));
  const target = spec['targetCPUUtilizationPercentage'];
  const metrics = [...(typeof target === 'number' ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] : []), ...others];
  if (metrics.length) v2Spec['metrics'] = metrics;
  if (prev['behavior'] !== undefined) v2Spec['behavior'] = prev['behavior'];
  const out: KObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: clone(isObject(o.metadata) ? o.metadata : {}), spec: v2Spec };
  if (existing?.['status'] !== undefined) out['status'] = existing['status'];
  // Nothing in the result may alias the stored object, which the write pipeline would then modify.
  return clone(out);
}
