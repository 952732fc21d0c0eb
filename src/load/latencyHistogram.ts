/**
 * The HDR histogram behind every latency number (hdr-histogram-js, pure JS mode: no WebAssembly start-up
 * cost, and worker threads can hand their histograms over as compressed base64). Values are recorded
 * in microseconds from 1 µs to 1 hour with 3 significant digits: about 93 KiB each (32-bit counters: 7× faster to record than the packed form), whatever the
 * number of requests, so a long run's memory stays flat.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { LatencyQuantiles } from './types.ts';

export type { Histogram };

const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return build({ bitBucketSize: 32, useWebAssembly: false, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: false });
}

/** Records a latency in ms; values beyond the histogram's range are clamped, never thrown. */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  const h = newHistogram();
  h.add(decodeFromCompressedBase64(s, 32, false));
  return h;
}

const ms = (us: number): number => Math.round(us) / 1000;

export function quantilesOf(h: Histogram): LatencyQuantiles {
  if (h.totalCount === 0) return { p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    p50Ms: ms(h.getValueAtPercentile(50)),
    p90Ms: ms(h.getValueAtPercentile(90)),
    p95Ms: ms(h.getValueAtPercentile(95)),
    p99Ms: ms(h.getValueAtPercentile(99)),
    p999Ms: ms(h.getValueAtPercentile(99.9)),
    maxMs: ms(h.maxValue),
  };
}
