import type { LoadRunInput } from '../types.ts';

/** A small, valid recorded run. */
export function sampleRun(over: Partial<LoadRunInput> = {}): LoadRunInput {
  return {
    summary: {
      target: 'http://api.shop.example/work',
      method: 'GET',
      startedAt: '2025-03-01T09:59:00.000Z',
      durationMs: 3000,
      asked: 300,
      sent: 300,
      completed: 300,
      errors: 3,
      late: 0,
      dropped: 0,
      askedRate: 100,
      achievedRate: 100,
      errorRatio: 0.01,
      latency: { p50Ms: 4, p90Ms: 9, p95Ms: 12, p99Ms: 40, p999Ms: 80, maxMs: 81 },
      statuses: { '200': 297, '503': 3 },
      errorsByKind: {},
      workers: 1,
    },
    series: [0, 1, 2].map((t) => ({ t, asked: 100, sent: 100, completed: 100, errors: t === 2 ? 3 : 0, late: 0, dropped: 0, p99Ms: 40, p50Ms: 4 })),
    replicas: [
      { t: 0, ready: 1, desired: 1, hpaDesired: 1, cpuUtilization: 20 },
      { t: 2, ready: 1, desired: 2, hpaDesired: 2, cpuUtilization: 120 },
    ],
    scalingEvents: [{ at: '2025-03-01T09:59:02.000Z', t: 2, from: 1, to: 2, reason: 'SuccessfulRescale', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target' }],
    thresholds: [],
    inCluster: false,
    ...over,
  };
}
