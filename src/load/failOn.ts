/**
 * `--fail-on` thresholds: `p99>500ms`, `errors>1%`, `max>=2s`, `dropped>0`, `rate<450`. Parsed
 * strictly (a typo must not silently pass CI) and evaluated against the summary.
 */
import { BerthError, problem } from '../errors.ts';
import type { LoadSummary, ThresholdResult } from './types.ts';

const LATENCY = { p50: 'p50Ms', p90: 'p90Ms', p95: 'p95Ms', p99: 'p99Ms', 'p99.9': 'p999Ms', max: 'maxMs' } as const;
type LatencyMetric = keyof typeof LATENCY;
type RatioMetric = 'errors' | 'dropped' | 'late';
export type ThresholdMetric = LatencyMetric | RatioMetric | 'rate';

export interface Threshold {
  readonly expression: string;
  readonly metric: ThresholdMetric;
  readonly op: '>' | '>=' | '<' | '<=';
  /** ms for latencies, a ratio 0..1 for errors/dropped/late, requests/s for rate. */
  readonly value: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000 };

function invalid(expression: string, why: string): BerthError {
  const message = `--fail-on "${expression}": ${why}`;
  return new BerthError('BERTH_LOAD_FAIL_ON_INVALID', message, { problems: [problem('BERTH_LOAD_FAIL_ON_INVALID', '--fail-on', message)] });
}

export function parseFailOn(expression: string): Threshold {
  const m = /^\s*(p50|p90|p95|p99\.9|p99|max|errors|dropped|late|rate)\s*(>=|<=|>|<)\s*(\d+(?:\.\d+)?)\s*(us|ms|s|%)?\s*$/.exec(expression);
  if (!m) throw invalid(expression, 'expected METRIC OP VALUE, e.g. p99>500ms, errors>1%, dropped>0, rate<450 (metrics: p50 p90 p95 p99 p99.9 max errors dropped late rate)');
  const metric = m[1] as ThresholdMetric;
  const op = m[2] as Threshold['op'];
  const n = Number(m[3]);
  const unit = m[4];
  if (metric in LATENCY) {
    if (unit === undefined || unit === '%') throw invalid(expression, `${metric} needs a time unit (us, ms or s), e.g. ${metric}>500ms`);
    return { expression, metric, op, value: n * (UNIT_MS[unit] ?? 1) };
  }
  if (metric === 'rate') {
    if (unit !== undefined) throw invalid(expression, 'rate is in requests per second and takes no unit, e.g. rate<450');
    return { expression, metric, op, value: n };
  }
  if (unit !== undefined && unit !== '%') throw invalid(expression, `${metric} is a share of requests: write a percentage (${metric}>1%) or a count of 0 (${metric}>0)`);
  if (unit === undefined && n !== 0) throw invalid(expression, `${metric} needs "%" unless it is 0, e.g. ${metric}>1%`);
  if (n > 100) throw invalid(expression, 'a percentage cannot exceed 100');
  return { expression, metric, op, value: n / 100 };
}

export function actualOf(summary: LoadSummary, metric: ThresholdMetric): number {
  if (metric in LATENCY) return summary.latency[LATENCY[metric as LatencyMetric]];
  if (metric === 'rate') return summary.achievedRate;
  if (metric === 'errors') return summary.errorRatio;
  const asked = Math.max(1, summary.asked);
  return (metric === 'dropped' ? summary.dropped : summary.late) / asked;
}

export function evaluateThresholds(summary: LoadSummary, thresholds: readonly Threshold[]): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = actualOf(summary, t.metric);
    const failed = t.op === '>' ? actual > t.value : t.op === '>=' ? actual >= t.value : t.op === '<' ? actual < t.value : actual <= t.value;
    return { expression: t.expression, actual, failed };
  });
}
