import { describe, expect, it } from 'vitest';
import { mostRecent, nextAfter, parseCron } from './cron.ts';
import { EventRecorder } from '../client/eventRecorder.ts';
import type { Clock } from '../client/clock.ts';
import { computeHash, fnv32a, safeEncodeString } from './hash.ts';
import { behaviorFrom, normalizeWithBehavior, utilizationReplicas } from './hpaMath.ts';
import { cpuMillis, matchesSelector, memoryBytes, podRequests } from '../client/objects.ts';
import { maxUnavailable, newRSNewReplicas, planOldReplicaSetScaleDown, proportionalScale, resolveFenceposts } from './rollout.ts';
import { RES } from '../client/resources.ts';
import { filterNode, unschedulableMessage } from './scheduler.ts';
import { FakeClient } from './testing/fakeClient.ts';
import { WorkQueue } from '../client/workQueue.ts';
import { ApiError } from '../types.ts';

describe('rollout arithmetic', () => {
  it('rounds surge up and unavailable down', () => {
    expect(resolveFenceposts('25%', '25%', 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts('25%', '25%', 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, 0, 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts(2, '50%', 3)).toEqual({ surge: 2, unavailable: 1 });
  });
  it('caps maxUnavailable at replicas and is zero for Recreate', () => {
    expect(maxUnavailable({ replicas: 2, rolling: true, maxUnavailable: 5 })).toBe(2);
    expect(maxUnavailable({ replicas: 2, rolling: false })).toBe(0);
  });
  it('grows the new ReplicaSet within maxSurge', () => {
    const p = { replicas: 4, rolling: true, maxSurge: 1, maxUnavailable: 0 };
    expect(newRSNewReplicas(p, 4, 0)).toBe(1);
    expect(newRSNewReplicas(p, 5, 1)).toBe(1);
    expect(newRSNewReplicas({ replicas: 4, rolling: false }, 4, 0)).toBe(4);
  });
  it('scales old ReplicaSets down: unhealthy first, then as availability allows', () => {
    const p = { replicas: 4, rolling: true, maxSurge: 1, maxUnavailable: 1 };
    // old: 4 replicas, 1 unavailable; new: 1 replica, not available yet.
    const plan = planOldReplicaSetScaleDown(p, [{ name: 'old', replicas: 4, available: 3, created: 1 }], { name: 'new', replicas: 1, available: 0, created: 2 });
    expect(plan.get('old')).toBe(3);
    const plan2 = planOldReplicaSetScaleDown(p, [{ name: 'old', replicas: 3, available: 3, created: 1 }], { name: 'new', replicas: 2, available: 2, created: 2 });
    expect(plan2.get('old')).toBe(1);
  });
  it('scales proportionally, leftovers to the largest', () => {
    const m = proportionalScale([{ name: 'a', replicas: 6 }, { name: 'b', replicas: 4 }], 5);
    expect((m.get('a') ?? 0) + (m.get('b') ?? 0)).toBe(15);
    expect(m.get('a')).toBe(9);
  });
});

describe('pod-template-hash', () => {
  it('is FNV-32a, safe-encoded, stable across key order, sensitive to collisionCount', () => {
    expect(fnv32a(Buffer.from(''))).toBe(0x811c9dc5);
    expect(fnv32a(Buffer.from('a'))).toBe(0xe40c292c);
    expect(safeEncodeString('0123')).toBe(safeEncodeString('0123'));
    const a = computeHash({ spec: { containers: [{ name: 'a', image: 'x' }] }, metadata: { labels: { app: 'x' } } });
    const b = computeHash({ metadata: { labels: { app: 'x' } }, spec: { containers: [{ image: 'x', name: 'a' }] } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(computeHash({ x: 1 }, 1)).not.toBe(computeHash({ x: 1 }));
  });
});

describe('cron', () => {
  const t = (s: string): number => Date.parse(s);
  it('parses fields, names, steps and macros', () => {
    const s = parseCron('*/15 9-17 * * mon-fri');
    expect([...s.minutes]).toEqual([0, 15, 30, 45]);
    expect([...s.dows]).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('@hourly').minutes).toEqual(new Set([0]));
    expect(parseCron('0 0 * * 7').dows).toEqual(new Set([0]));
    expect(() => parseCron('61 * * * *')).toThrow(/above maximum/);
    expect(() => parseCron('* * *')).toThrow(/exactly 5 fields/);
  });
  it('finds the next activation in UTC', () => {
    expect(nextAfter(parseCron('*/5 * * * *'), t('2026-01-01T10:02:30Z'))).toBe(t('2026-01-01T10:05:00Z'));
    expect(nextAfter(parseCron('0 0 1 * *'), t('2026-01-15T00:00:00Z'))).toBe(t('2026-02-01T00:00:00Z'));
    expect(nextAfter(parseCron('30 8 * * 1'), t('2026-01-01T00:00:00Z'))).toBe(t('2026-01-05T08:30:00Z'));
    // dom and dow both restricted: either matches
    expect(nextAfter(parseCron('0 0 13 * 5'), t('2026-01-01T00:00:00Z'))).toBe(t('2026-01-02T00:00:00Z'));
    expect(nextAfter(parseCron('0 0 29 2 *'), t('2026-03-01T00:00:00Z'))).toBe(t('2028-02-29T00:00:00Z'));
  });
  it('reports the most recent missed time', () => {
    const r = mostRecent(parseCron('* * * * *'), t('2026-01-01T00:00:00Z'), t('2026-01-01T00:03:10Z'));
    expect(r).toEqual({ time: t('2026-01-01T00:03:00Z'), missed: 3 });
  });
});

describe('HPA arithmetic', () => {
  const pods = (usages: (number | undefined)[], req = 100, ready = true) => usages.map((u, i) => ({ name: `p${i}`, usage: u, request: req, ready }));
  it('scales by the usage ratio with 10% tolerance', () => {
    expect(utilizationReplicas(2, 50, pods([100, 100])).replicas).toBe(4);
    expect(utilizationReplicas(2, 50, pods([52, 53])).replicas).toBe(2);
    expect(utilizationReplicas(4, 50, pods([10, 10, 10, 10])).replicas).toBe(1);
    expect(utilizationReplicas(2, 50, pods([100, 100])).utilization).toBe(100);
  });
  it('treats missing pods conservatively', () => {
    // scale-up with one pod lacking metrics: missing counts as 0%.
    expect(utilizationReplicas(3, 50, pods([100, 100, undefined])).replicas).toBe(4);
  });
  it('stabilises scale-down and clamps to min/max', () => {
    const behavior = behaviorFrom(undefined);
    const now = 1_000_000;
    const history = [{ at: now - 100_000, replicas: 5 }];
    const r = normalizeWithBehavior({ now, current: 5, recommended: 2, min: 1, max: 10, behavior, history, events: [], msPerSecond: 1000 });
    expect(r).toMatchObject({ replicas: 5, reason: 'ScaleDownStabilized' });
    const r2 = normalizeWithBehavior({ now, current: 5, recommended: 2, min: 1, max: 10, behavior: behaviorFrom({ scaleDown: { stabilizationWindowSeconds: 0 } }), history, events: [], msPerSecond: 1000 });
    expect(r2.replicas).toBe(2);
    const r3 = normalizeWithBehavior({ now, current: 2, recommended: 20, min: 1, max: 10, behavior, history: [], events: [], msPerSecond: 1000 });
    expect(r3).toMatchObject({ replicas: 6, reason: 'ScaleUpLimit' });
    const r4 = normalizeWithBehavior({ now, current: 8, recommended: 20, min: 1, max: 10, behavior, history: [], events: [], msPerSecond: 1000 });
    expect(r4).toMatchObject({ replicas: 10, reason: 'TooManyReplicas' });
  });
});

describe('scheduler filters', () => {
  const node = { name: 'n', labels: { disk: 'ssd' }, taints: [], unschedulable: false, ready: true, allocatable: { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30, pods: 110 } };
  it('reports kube-scheduler reasons', () => {
    expect(filterNode({}, { cpuMillis: 5000, memoryBytes: 0 }, node, { cpuMillis: 0, memoryBytes: 0, pods: 0 })).toEqual(['Insufficient cpu']);
    expect(filterNode({ nodeSelector: { disk: 'hdd' } }, { cpuMillis: 0, memoryBytes: 0 }, node, { cpuMillis: 0, memoryBytes: 0, pods: 0 })).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    const tainted = { ...node, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] };
    expect(filterNode({}, { cpuMillis: 0, memoryBytes: 0 }, tainted, { cpuMillis: 0, memoryBytes: 0, pods: 0 })).toEqual(['node(s) had untolerated taint {dedicated: gpu}']);
    expect(filterNode({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }, { cpuMillis: 0, memoryBytes: 0 }, tainted, { cpuMillis: 0, memoryBytes: 0, pods: 0 })).toEqual([]);
  });
  it('formats the FitError message', () => {
    expect(unschedulableMessage(3, [['Insufficient cpu'], ['Insufficient cpu', 'Insufficient memory'], ["node(s) didn't match Pod's node affinity/selector"]])).toBe(
      "0/3 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
    );
  });
});

describe('objects helpers', () => {
  it('parses quantities and pod requests', () => {
    expect(cpuMillis('250m')).toBe(250);
    expect(cpuMillis('1.5')).toBe(1500);
    expect(memoryBytes('128Mi')).toBe(128 * 2 ** 20);
    expect(memoryBytes('1G')).toBe(1e9);
    expect(podRequests({ containers: [{ resources: { requests: { cpu: '100m' } } }, { resources: { limits: { cpu: '200m', memory: '1Gi' } } }], initContainers: [{ resources: { requests: { cpu: '1' } } }] })).toEqual({ cpuMillis: 1000, memoryBytes: 2 ** 30 });
  });
  it('matches label selectors', () => {
    expect(matchesSelector({ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'In', values: ['x', 'y'] }] }, { a: '1', b: 'y' })).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, { b: '' })).toBe(false);
    expect(matchesSelector(undefined, {})).toBe(false);
    // Controllers read stored objects: a real API server has dropped unknown keys, so a bare map reads as {}.
    expect(matchesSelector({ app: 'other' }, { app: 'web' })).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'b', operator: 'Equals', values: ['x'] }] }, { b: 'x' })).toBe(false);
  });
});

describe('EventRecorder', () => {
  it('aggregates identical events into count/lastTimestamp', async () => {
    const client = new FakeClient();
    const rec = new EventRecorder(client, 'test-controller');
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' } };
    rec.event(obj, 'Warning', 'BackOff', 'same');
    rec.event(obj, 'Warning', 'BackOff', 'same');
    rec.event(obj, 'Warning', 'BackOff', 'same');
    rec.event(obj, 'Normal', 'Other', 'different');
    await rec.flush();
    const evs = client.all(RES.events);
    expect(evs).toHaveLength(2);
    const agg = evs.find((e) => e['reason'] === 'BackOff');
    expect(agg?.['count']).toBe(3);
    expect(agg?.metadata.name).toMatch(/^p\.[0-9a-f]+$/);
    expect(agg?.['involvedObject']).toMatchObject({ kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1' });
    expect(agg?.['source']).toEqual({ component: 'test-controller' });
    expect(agg?.['reportingComponent']).toBe('test-controller');
  });

  it('never gives two recorders the same event name for same-named objects in the same millisecond', async () => {
    const client = new FakeClient();
    const frozen: Clock = { now: () => 1_700_000_000_000, setTimeout: () => () => undefined };
    const deployments = new EventRecorder(client, 'deployment-controller', undefined, frozen);
    const hpas = new EventRecorder(client, 'horizontal-pod-autoscaler', undefined, frozen);
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ns', uid: 'd1' } };
    const hpa = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'ns', uid: 'h1' } };
    deployments.event(deploy, 'Normal', 'ScalingReplicaSet', 'Scaled up replica set web-1 to 6');
    hpas.event(hpa, 'Normal', 'SuccessfulRescale', 'New size: 4; reason: Current number of replicas above Spec.MaxReplicas');
    await Promise.all([deployments.flush(), hpas.flush()]);
    expect(client.all(RES.events).map((e) => e['reason']).sort()).toEqual(['ScalingReplicaSet', 'SuccessfulRescale']);
  });
});

describe('WorkQueue', () => {
  it('dedups, never runs a key twice at once, and retries conflicts with back-off', async () => {
    const seen: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    let fails = 2;
    const q = new WorkQueue(
      async (k) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        seen.push(k);
        await new Promise((r) => setTimeout(r, 5));
        concurrent--;
        if (k === 'conflict' && fails-- > 0) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'conflict', reason: 'Conflict', code: 409 });
      },
      { name: 't', workers: 4, baseDelayMs: 1 },
    );
    q.start();
    q.add('a');
    q.add('a');
    q.add('conflict');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.filter((k) => k === 'a')).toHaveLength(1);
    expect(seen.filter((k) => k === 'conflict')).toHaveLength(3);
    expect(maxConcurrent).toBeLessThanOrEqual(2);
    q.stop();
  });
});

describe('PodDisruptionBudget arithmetic', () => {
  it('computes desiredHealthy and disruptionsAllowed', async () => {
    const { pdbNumbers } = await import('./pdb.ts');
    expect(pdbNumbers({ minAvailable: 1 }, 3, 3)).toEqual({ desiredHealthy: 1, disruptionsAllowed: 2 });
    expect(pdbNumbers({ minAvailable: '50%' }, 3, 2)).toEqual({ desiredHealthy: 2, disruptionsAllowed: 0 });
    expect(pdbNumbers({ maxUnavailable: 1 }, 4, 4)).toEqual({ desiredHealthy: 3, disruptionsAllowed: 1 });
    expect(pdbNumbers({ maxUnavailable: '25%' }, 3, 3)).toEqual({ desiredHealthy: 2, disruptionsAllowed: 1 });
  });
});
