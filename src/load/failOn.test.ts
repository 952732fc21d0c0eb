import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseFailOn } from './failOn.ts';
import type { LoadSummary } from './types.ts';

const summary: LoadSummary = {
  target: 'http://x/',
  method: 'GET',
  startedAt: '2025-01-01T00:00:00.000Z',
  durationMs: 10_000,
  asked: 1000,
  sent: 990,
  completed: 990,
  errors: 20,
  late: 5,
  dropped: 10,
  askedRate: 100,
  achievedRate: 99,
  errorRatio: 20 / 990,
  latency: { p50Ms: 10, p90Ms: 50, p95Ms: 80, p99Ms: 600, p999Ms: 900, maxMs: 1200 },
  statuses: { '200': 970, '503': 20 },
  errorsByKind: {},
  workers: 1,
};

describe('--fail-on', () => {
  it('parses latencies with units, shares as percentages, the rate as a number', () => {
    expect(parseFailOn('p99>500ms')).toEqual({ expression: 'p99>500ms', metric: 'p99', op: '>', value: 500 });
    expect(parseFailOn('p99.9 >= 1s')).toMatchObject({ metric: 'p99.9', op: '>=', value: 1000 });
    expect(parseFailOn('max>250us')).toMatchObject({ metric: 'max', value: 0.25 });
    expect(parseFailOn('errors>1%')).toMatchObject({ metric: 'errors', value: 0.01 });
    expect(parseFailOn('dropped>0')).toMatchObject({ metric: 'dropped', value: 0 });
    expect(parseFailOn('rate<450')).toMatchObject({ metric: 'rate', op: '<', value: 450 });
  });

  it('rejects what it cannot read exactly, with BERTH_LOAD_FAIL_ON_INVALID', () => {
    for (const bad of ['p99>500', 'p99>5%', 'p98>1ms', 'errors>1', 'errors>1ms', 'errors>101%', 'rate<5%', 'p99=>1ms', 'p99 > ', 'p99>500ms;rm', 'P99>1ms']) {
      expect(() => parseFailOn(bad), bad).toThrow(expect.objectContaining({ code: 'BERTH_LOAD_FAIL_ON_INVALID' }));
    }
  });

  it('evaluates each threshold against the summary', () => {
    const results = evaluateThresholds(summary, ['p99>500ms', 'p50>500ms', 'errors>1%', 'errors>5%', 'dropped>0', 'rate<99', 'late>=0.5%'].map(parseFailOn));
    expect(results.map((r) => [r.expression, r.failed])).toEqual([
      ['p99>500ms', true],
      ['p50>500ms', false],
      ['errors>1%', true],
      ['errors>5%', false],
      ['dropped>0', true],
      ['rate<99', false],
      ['late>=0.5%', true],
    ]);
    expect(results[0]?.actual).toBe(600);
  });
});
