/**
 * Sliding-window error ratios over the prober's per-minute (and hourly) buckets, and the SLO burn-rate
 * table. Pure: the engine (alertEngine.ts) fetches the buckets, these functions do the arithmetic.
 *
 * Partial minutes: a window [now - W, now] covers the current, still-filling minute in full and the
 * bucket at its far edge only in part. That edge bucket counts in proportion to its overlap with the
 * window (samples are assumed spread evenly across their minute), so a 5-minute window slides every
 * evaluation instead of jumping once a minute. This is what lets a total outage page in under a
 * minute and a recovery resolve 5 minutes later rather than up to a minute either side (ADR 0010).
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

/** What a window needs of a bucket: where it starts, how long it is and its two counters. */
export interface CountedBucket {
  readonly start: number;
  readonly total: number;
  readonly failed: number;
}

export interface WindowCounts {
  /** Weighted sample counts (fractional at the window's far edge). */
  readonly total: number;
  readonly failed: number;
}

/** failed / total, or 0 for a window without samples (no data never alerts). */
export function ratioOf(c: WindowCounts): number {
  return c.total > 0 ? c.failed / c.total : 0;
}

/**
 * Counts of `buckets` (each `bucketMs` long) inside [from, to] as seen at `now`. A bucket counts in
 * proportion to the part of its elapsed time inside the range; one that has started but not ended is
 * elapsed up to `now`, so the current minute counts in full: its samples are all in the past.
 */
export function rangeCounts(buckets: readonly CountedBucket[], bucketMs: number, from: number, to: number, now: number): WindowCounts {
  let total = 0;
  let failed = 0;
  for (const b of buckets) {
    const elapsedEnd = Math.min(b.start + bucketMs, now);
    if (b.start > to || elapsedEnd <= from) continue;
    const elapsed = elapsedEnd - b.start;
    const inside = Math.min(elapsedEnd, to) - Math.max(b.start, from);
    const weight = elapsed <= 0 ? 1 : Math.min(1, Math.max(0, inside / elapsed));
    total += b.total * weight;
    failed += b.failed * weight;
  }
  return { total, failed };
}

/** Counts in the window [now - windowMs, now], its start clipped to `notBefore` when given. */
export function windowCounts(buckets: readonly CountedBucket[], bucketMs: number, now: number, windowMs: number, notBefore?: number): WindowCounts {
  return rangeCounts(buckets, bucketMs, Math.max(now - windowMs, notBefore ?? Number.NEGATIVE_INFINITY), now, now);
}

export function addCounts(a: WindowCounts, b: WindowCounts): WindowCounts {
  return { total: a.total + b.total, failed: a.failed + b.failed };
}

/** One window pair of the SRE workbook's multi-window, multi-burn-rate table. */
export interface BurnWindowPair {
  readonly long: string;
  readonly longMs: number;
  readonly short: string;
  readonly shortMs: number;
  /** Burn-rate factor: the error ratio must exceed factor × (1 - objective) in both windows. */
  readonly factor: number;
}

const pair = (long: string, longMs: number, short: string, shortMs: number, factor: number): BurnWindowPair => ({ long, longMs, short, shortMs, factor });

/**
 * Sloth's values: a page when 2 % of a 30-day budget burns in 1 h (14.4×) or 5 % in 6 h (6×); a ticket
 * when 10 % burns in 1 d (3×) or 10 % in 3 d (1×).
 */
export const SLO_BURN_WINDOWS = {
  page: [pair('1h', HOUR_MS, '5m', 5 * MINUTE_MS, 14.4), pair('6h', 6 * HOUR_MS, '30m', 30 * MINUTE_MS, 6)],
  ticket: [pair('1d', 24 * HOUR_MS, '2h', 2 * HOUR_MS, 3), pair('3d', 72 * HOUR_MS, '6h', 6 * HOUR_MS, 1)],
} as const satisfies Record<'page' | 'ticket', readonly BurnWindowPair[]>;

/** Windows up to this length are read from minute buckets at every evaluation. */
export const FAST_WINDOW_LIMIT_MS = 2 * HOUR_MS;

/** The error budget as a ratio: 99.9 (%) → 0.001. */
export function errorBudget(objectivePercent: number): number {
  return Math.max(1e-9, (100 - objectivePercent) / 100);
}

/** How fast the budget burns at this error ratio (1 = exactly at the objective). */
export function burnRate(ratio: number, objectivePercent: number): number {
  return ratio / errorBudget(objectivePercent);
}
