import { describe, expect, it } from 'vitest';
import type { AppStatus } from '../status/types.ts';
import { LoadTimeline } from './loadTimeline.ts';

const START = Date.parse('2025-03-01T10:00:00Z');

function status(ready: number, desired: number, hpaDesired: number, cpu: number, events: { at: string; size: number }[] = []): AppStatus {
  return {
    namespace: 'shop',
    name: 'api',
    revision: 1,
    state: 'Available',
    reason: 'Ready',
    message: '',
    replicas: { desired, ready, updated: ready, available: ready, unavailable: 0 },
    pods: [],
    warnings: [],
    observedAt: '',
    autoscaling: {
      minReplicas: 1,
      maxReplicas: 5,
      currentReplicas: ready,
      desiredReplicas: hpaDesired,
      cpuUtilization: cpu,
      targetCpuUtilization: 50,
      lastScaleTime: null,
      events: events.map((e) => ({ at: e.at, reason: 'SuccessfulRescale', message: `New size: ${e.size}; reason: cpu resource utilization (percentage of request) above target`, newSize: e.size })).reverse(),
    },
  };
}

describe('LoadTimeline', () => {
  it('keeps a replica point per change and the scaling events of the run, each with where it came from', () => {
    const tl = new LoadTimeline(START);
    const old = { at: '2025-03-01T09:00:00Z', size: 1 };
    tl.observe(status(1, 1, 1, 20, [old]), START);
    tl.observe(status(1, 1, 1, 20, [old]), START + 1000);
    tl.observe(status(1, 3, 3, 160, [old, { at: '2025-03-01T10:00:12Z', size: 3 }]), START + 12_300);
    tl.observe(status(3, 4, 4, 90, [old, { at: '2025-03-01T10:00:12Z', size: 3 }, { at: '2025-03-01T10:00:30Z', size: 4 }]), START + 30_000);
    expect(tl.replicas()).toEqual([
      { t: 0, ready: 1, desired: 1, hpaDesired: 1, cpuUtilization: 20 },
      { t: 12.3, ready: 1, desired: 3, hpaDesired: 3, cpuUtilization: 160 },
      { t: 30, ready: 3, desired: 4, hpaDesired: 4, cpuUtilization: 90 },
    ]);
    expect(tl.scalingEvents().map((e) => [e.t, e.from, e.to])).toEqual([
      [12, 1, 3],
      [30, 3, 4],
    ]);
    tl.rebase(START + 2000);
    expect(tl.replicas().map((p) => p.t)).toEqual([0, 10.3, 28]);
    expect(tl.scalingEvents().map((e) => e.t)).toEqual([10, 28]);
  });
});
