import { describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { planDeletion, readyToFinalize } from './deletion.ts';
import { ResourceRegistry } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';

const registry = new ResourceRegistry({ metrics: false });
const def = (group: string, resource: string): ResourceDef => {
  const d = registry.find(group, 'v1', resource);
  if (!d) throw new Error(`no ${resource}`);
  return d;
};
const pods = def('', 'pods');
const pod = (spec: Record<string, unknown>, meta: Partial<KObject['metadata']> = {}): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', generation: 1, ...meta }, spec, status: { phase: 'Running' } });

describe('graceful deletion', () => {
  it('gives a bound pod its grace period and removes unscheduled or finished pods at once', () => {
    const plan = planDeletion(pods, pod({ nodeName: 'n1', terminationGracePeriodSeconds: 7 }), {});
    expect(plan.kind).toBe('mark');
    if (plan.kind !== 'mark') return;
    expect(plan.object.metadata.deletionGracePeriodSeconds).toBe(7);
    expect(plan.object.metadata.generation).toBe(2);
    expect(planDeletion(pods, pod({}), {})).toEqual({ kind: 'remove' });
    expect(planDeletion(pods, { ...pod({ nodeName: 'n1' }), status: { phase: 'Succeeded' } }, {})).toEqual({ kind: 'remove' });
  });

  it('lets a repeated delete only shorten the grace period', () => {
    const marked = pod({ nodeName: 'n1' }, { deletionTimestamp: '2030-01-01T00:00:30Z', deletionGracePeriodSeconds: 30 });
    expect(planDeletion(pods, marked, {})).toEqual({ kind: 'unchanged' });
    const shorter = planDeletion(pods, marked, { gracePeriodSeconds: 5 });
    expect(shorter.kind === 'mark' && shorter.object.metadata.deletionGracePeriodSeconds).toBe(5);
  });

  it('turns propagation policies into finalizers; Jobs orphan by default', () => {
    const job: KObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' }, spec: {} };
    const orphan = planDeletion(def('batch', 'jobs'), job, {});
    expect(orphan.kind === 'mark' && orphan.object.metadata.finalizers).toEqual(['orphan']);
    const cm: KObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } };
    expect(planDeletion(def('', 'configmaps'), cm, {})).toEqual({ kind: 'remove' });
    const fg = planDeletion(def('', 'configmaps'), cm, { propagationPolicy: 'Foreground' });
    expect(fg.kind === 'mark' && fg.object.metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(cm.metadata.finalizers).toBeUndefined();
  });

  it('finalises a marked object once its finalizers and grace period are done', () => {
    expect(readyToFinalize(pod({}, { deletionTimestamp: 'x', deletionGracePeriodSeconds: 0 }))).toBe(true);
    expect(readyToFinalize(pod({}, { deletionTimestamp: 'x', deletionGracePeriodSeconds: 0, finalizers: ['f'] }))).toBe(false);
    expect(readyToFinalize(pod({}, { deletionTimestamp: 'x', deletionGracePeriodSeconds: 30 }))).toBe(false);
    expect(readyToFinalize(pod({}))).toBe(false);
  });
});
