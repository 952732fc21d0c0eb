import { describe, expect, it } from 'vitest';
import { addResult, emptyBucket, errorRatio, latencyIndex, latencyQuantile, mergeBuckets, ProbeAggregator } from './probeBuckets.ts';

describe('probe buckets', () => {
  it('classifies results: status class, error kind, failed, latency bucket', () => {
    const b = emptyBucket('n', 'a', 0, 'service');
    addResult(b, { ok: true, status: 204, latencyMs: 4 });
    addResult(b, { ok: false, status: 503, error: 'status5xx', latencyMs: 30 });
    addResult(b, { ok: false, status: 404, error: 'unexpectedStatus', latencyMs: 7 });
    addResult(b, { ok: false, error: 'timeout', latencyMs: 20_000 });
    expect(b).toMatchObject({ total: 4, failed: 3, byClass: { '2xx': 1, '4xx': 1, '5xx': 1 }, errors: { timeout: 1, connect: 0, status5xx: 1, unexpectedStatus: 1 } });
    expect(b.latency).toEqual([1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(errorRatio(b)).toBe(0.75);
    expect(errorRatio(emptyBucket('n', 'a', 0, 'service'))).toBeNull();
    expect([latencyIndex(0), latencyIndex(5), latencyIndex(5.1), latencyIndex(10_000), latencyIndex(10_001)]).toEqual([0, 0, 1, 10, 11]);
  });

  it('quantiles interpolate inside a bucket; the overflow answers the highest bound; empty is null', () => {
    const lat = new Array<number>(12).fill(0);
    lat[2] = 100; // 10..25 ms
    expect(latencyQuantile(lat, 0.5)).toBe(17.5);
    expect(latencyQuantile(lat, 1)).toBe(25);
    lat[11] = 100;
    expect(latencyQuantile(lat, 0.99)).toBe(10_000);
    expect(latencyQuantile(new Array<number>(12).fill(0), 0.5)).toBeNull();
  });

  it('merges counts field by field and keeps the newest target', () => {
    const a = emptyBucket('n', 'a', 0, 'service');
    const b = emptyBucket('n', 'a', 60_000, 'url');
    addResult(a, { ok: true, status: 200, latencyMs: 1 });
    addResult(b, { ok: false, error: 'connect', latencyMs: 1 });
    expect(mergeBuckets('n', 'a', 0, [a, b])).toMatchObject({ start: 0, total: 2, failed: 1, target: 'url', errors: { connect: 1 }, byClass: { '2xx': 1 } });
  });

  it('the aggregator hands out closed minutes once and keeps the open one', () => {
    const agg = new ProbeAggregator();
    agg.record('n', 'a', 'service', 59_999, { ok: true, status: 200, latencyMs: 1 });
    agg.record('n', 'a', 'service', 60_000, { ok: true, status: 200, latencyMs: 1 });
    expect(agg.takeClosed(60_500).map((b) => [b.start, b.total])).toEqual([[0, 1]]);
    expect(agg.takeClosed(60_500)).toEqual([]);
    expect(agg.pending('n', 'a').map((b) => b.start)).toEqual([60_000]);
    agg.forget('n', 'a');
    expect(agg.pending('n', 'a')).toEqual([]);
  });
});
