/**
 * Bucket arithmetic: adding a probe result to a minute, merging minutes into an hour (or any span),
 * and reading ratios and latency quantiles back out. Pure; the aggregator, the rollup, the health
 * API and the alert rules all use these, so they agree on every number.
 */
import type { ProbeResult } from './httpProber.ts';
import { PROBE_ERROR_KINDS, PROBE_LATENCY_BOUNDS_MS, type ProbeBucket, type ProbeErrorKind } from './probeMinute.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export type ProbeTargetKind = ProbeBucket['target'];
type StatusClass = keyof ProbeBucket['byClass'];

/** A bucket under construction. */
export interface MutableBucket {
  namespace: string;
  name: string;
  start: number;
  total: number;
  failed: number;
  byClass: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  errors: Record<ProbeErrorKind, number>;
  latency: number[];
  target: ProbeTargetKind;
}

export function floorTo(ms: number, step: number): number {
  return Math.floor(ms / step) * step;
}

export function emptyBucket(namespace: string, name: string, start: number, target: ProbeTargetKind): MutableBucket {
  return {
    namespace,
    name,
    start,
    total: 0,
    failed: 0,
    byClass: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: { timeout: 0, connect: 0, status5xx: 0, unexpectedStatus: 0 },
    latency: new Array<number>(PROBE_LATENCY_BOUNDS_MS.length + 1).fill(0),
    target,
  };
}

/** Index of the latency bucket `ms` falls in (the last one is the overflow). */
export function latencyIndex(ms: number): number {
  for (let i = 0; i < PROBE_LATENCY_BOUNDS_MS.length; i++) if (ms <= (PROBE_LATENCY_BOUNDS_MS[i] ?? Infinity)) return i;
  return PROBE_LATENCY_BOUNDS_MS.length;
}

function statusClass(status: number): StatusClass | undefined {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 5 ? (`${c}xx` as StatusClass) : undefined;
}

export function addResult(b: MutableBucket, r: ProbeResult): void {
  b.total++;
  if (!r.ok) b.failed++;
  if (r.status !== undefined) {
    const c = statusClass(r.status);
    if (c) b.byClass[c]++;
  }
  if (r.error !== undefined) b.errors[r.error]++;
  const i = latencyIndex(r.latencyMs);
  b.latency[i] = (b.latency[i] ?? 0) + 1;
}

/** Sums buckets of one app into one starting at `start`; the target is the newest bucket's. */
export function mergeBuckets(namespace: string, name: string, start: number, buckets: readonly ProbeBucket[]): ProbeBucket {
  const out = emptyBucket(namespace, name, start, buckets.at(-1)?.target ?? 'service');
  for (const b of buckets) {
    out.total += b.total;
    out.failed += b.failed;
    for (const k of Object.keys(out.byClass) as StatusClass[]) out.byClass[k] += b.byClass[k];
    for (const k of PROBE_ERROR_KINDS) out.errors[k] += b.errors[k];
    for (let i = 0; i < out.latency.length; i++) out.latency[i] = (out.latency[i] ?? 0) + (b.latency[i] ?? 0);
  }
  return out;
}

export function errorRatio(b: Pick<ProbeBucket, 'total' | 'failed'>): number | null {
  return b.total === 0 ? null : b.failed / b.total;
}

/**
 * The q-quantile (0..1) of a latency histogram in ms, interpolated linearly inside its bucket as
 * Prometheus's histogram_quantile does; the overflow bucket answers with the highest bound. null
 * when the histogram is empty.
 */
export function latencyQuantile(latency: readonly number[], q: number): number | null {
  const total = latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < latency.length; i++) {
    const n = latency[i] ?? 0;
    if (n > 0 && below + n >= rank) {
      if (i >= PROBE_LATENCY_BOUNDS_MS.length) return PROBE_LATENCY_BOUNDS_MS.at(-1) ?? null;
      const lower = i === 0 ? 0 : (PROBE_LATENCY_BOUNDS_MS[i - 1] ?? 0);
      const upper = PROBE_LATENCY_BOUNDS_MS[i] ?? lower;
      return lower + ((upper - lower) * (rank - below)) / n;
    }
    below += n;
  }
  return PROBE_LATENCY_BOUNDS_MS.at(-1) ?? null;
}

/** A deep copy, so a stored or returned bucket never aliases the aggregator's counters. */
export function frozenCopy(b: ProbeBucket): ProbeBucket {
  return { ...b, byClass: { ...b.byClass }, errors: { ...b.errors }, latency: [...b.latency] };
}

/**
 * Collects probe results into the current minute per app. Closed minutes (their minute ended) are
 * taken out by `takeClosed` for the store; the open minute stays readable for the live health view.
 */
export class ProbeAggregator {
  /** app key → minute start → bucket. */
  private readonly open = new Map<string, Map<number, MutableBucket>>();

  record(namespace: string, name: string, target: ProbeTargetKind, at: number, r: ProbeResult): void {
    const key = `${namespace}/${name}`;
    const start = floorTo(at, MINUTE_MS);
    let minutes = this.open.get(key);
    if (!minutes) this.open.set(key, (minutes = new Map()));
    let b = minutes.get(start);
    if (!b) minutes.set(start, (b = emptyBucket(namespace, name, start, target)));
    b.target = target;
    addResult(b, r);
  }

  /** Removes and returns every bucket of a minute that ended at or before `now`. */
  takeClosed(now: number): ProbeBucket[] {
    const current = floorTo(now, MINUTE_MS);
    const out: ProbeBucket[] = [];
    for (const [key, minutes] of this.open) {
      for (const [start, b] of minutes) {
        if (start < current) {
          out.push(frozenCopy(b));
          minutes.delete(start);
        }
      }
      if (minutes.size === 0) this.open.delete(key);
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** The app's buckets not yet taken (normally just the current, partial minute). */
  pending(namespace: string, name: string): ProbeBucket[] {
    return [...(this.open.get(`${namespace}/${name}`)?.values() ?? [])].map(frozenCopy).sort((a, b) => a.start - b.start);
  }

  /** Drops what a deleted app had gathered. */
  forget(namespace: string, name: string): void {
    this.open.delete(`${namespace}/${name}`);
  }
}
