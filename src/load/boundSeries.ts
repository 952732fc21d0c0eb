import { MAX_SERIES_POINTS, type LoadSecond } from './types.ts';

/**
 * A series short enough to store: while longer than MAX_SERIES_POINTS, adjacent seconds are merged
 * (counts summed, the larger p99/p50 kept: a merged point never hides a slow second).
 */
export function boundSeries(series: readonly LoadSecond[], max = MAX_SERIES_POINTS): LoadSecond[] {
  let out = [...series];
  const worst = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));
  while (out.length > max) {
    const next: LoadSecond[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const a = out[i] as LoadSecond;
      const b = out[i + 1];
      next.push(
        b === undefined
          ? a
          : { t: a.t, asked: a.asked + b.asked, sent: a.sent + b.sent, completed: a.completed + b.completed, errors: a.errors + b.errors, late: a.late + b.late, dropped: a.dropped + b.dropped, p99Ms: worst(a.p99Ms, b.p99Ms), p50Ms: worst(a.p50Ms, b.p50Ms) },
      );
    }
    out = next;
  }
  return out;
}
