import { describe, expect, it } from 'vitest';
import { HelloMetrics } from '../src/metrics.ts';

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('HelloMetrics: the conventional request counter and latency histogram berth reads', () => {
  it('exposes http_requests_total{code="200"} and {code="500"} at 0 before any request', () => {
    const text = new HelloMetrics().render();
    expect(value(text, 'http_requests_total{code="200"}')).toBe(0);
    expect(value(text, 'http_requests_total{code="500"}')).toBe(0);
    expect(value(text, 'http_request_duration_seconds_count')).toBe(0);
    expect(text.match(/^# TYPE http_requests_total counter$/gm)).toHaveLength(1);
  });

  it('counts every status code on its own series, sorted numerically', () => {
    const m = new HelloMetrics([1]);
    for (const status of [503, 200, 200, 404, 500, 302]) m.observe(status, 0.5);
    const text = m.render();
    const codes = [...text.matchAll(/^http_requests_total\{code="(\d+)"\} (\d+)$/gm)].map(([, code, n]) => [Number(code), Number(n)]);
    expect(codes).toEqual([
      [200, 2],
      [302, 1],
      [404, 1],
      [500, 1],
      [503, 1],
    ]);
    // Error responses are in the all-responses histogram, not in the 2xx one.
    expect(value(text, 'http_request_duration_seconds_count')).toBe(6);
    expect(value(text, 'http_request_duration_seconds_bucket{le="+Inf"}')).toBe(6);
    expect(value(text, 'hello_http_request_duration_seconds_count')).toBe(2);
  });

  it('keeps the buckets cumulative with +Inf equal to _count', () => {
    const m = new HelloMetrics([0.1, 1]);
    for (const s of [0.05, 0.5, 5, 0.1]) m.observe(500, s);
    const text = m.render();
    expect([value(text, 'http_request_duration_seconds_bucket{le="0.1"}'), value(text, 'http_request_duration_seconds_bucket{le="1"}'), value(text, 'http_request_duration_seconds_bucket{le="+Inf"}')]).toEqual([2, 3, 4]);
    expect(value(text, 'http_request_duration_seconds_sum')).toBeCloseTo(5.65);
  });
});
