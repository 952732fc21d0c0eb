/**
 * Reads the prober's buckets of one app for one evaluation and answers window counts from them.
 *
 * Windows up to 2 h (5m, 30m, 1h, 2h) are read fresh from minute buckets at every evaluation, the
 * current, still-filling minute included. Longer ones (6h, 1d, 3d) only move by a minute per minute,
 * so their older part (minute buckets of the last day, hourly buckets beyond it) is re-read at most
 * once a minute per app and joined to the fresh part: an evaluation every 10 s costs ~120 rows per
 * app, not ~1,500.
 */
import type { ProbeBucketReader } from '../probe/probeMinute.ts';
import { addCounts, FAST_WINDOW_LIMIT_MS, HOUR_MS, MINUTE_MS, rangeCounts, type CountedBucket, type WindowCounts } from './burnRate.ts';
import type { WindowReader } from './alertRules.ts';

/** How far back any rule looks (the 3d ticket window). */
export const LONGEST_WINDOW_MS = 72 * HOUR_MS;
const SLOW_REFRESH_MS = MINUTE_MS;

interface SlowPart {
  readonly fetchedAt: number;
  /** Minute buckets older than the fresh part. */
  readonly minutes: readonly CountedBucket[];
  /** Hourly buckets before the oldest minute fetched. */
  readonly hours: readonly CountedBucket[];
}

const slim = (b: CountedBucket): CountedBucket => ({ start: b.start, total: b.total, failed: b.failed });

export interface ProbeWindows {
  /** A reader over the app's buckets at `now` (one or two reads of the reader). */
  readerFor(namespace: string, name: string, now: number): Promise<WindowReader>;
  /** Drops what is cached for apps not in `keep` (deleted apps). */
  retain(keep: ReadonlySet<string>): void;
}

export function createProbeWindows(reader: ProbeBucketReader): ProbeWindows {
  const slow = new Map<string, SlowPart>();

  const slowPart = async (namespace: string, name: string, now: number): Promise<SlowPart> => {
    const key = `${namespace}/${name}`;
    const cached = slow.get(key);
    if (cached !== undefined && now - cached.fetchedAt < SLOW_REFRESH_MS && now >= cached.fetchedAt) return cached;
    // Minutes for the last day from an hour boundary, hours before it: the two never overlap.
    const split = Math.floor((now - 24 * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const [minutes, hours] = await Promise.all([
      reader.minutes(namespace, name, split, now + MINUTE_MS),
      reader.hours(namespace, name, Math.floor((now - LONGEST_WINDOW_MS) / HOUR_MS) * HOUR_MS, split),
    ]);
    const part: SlowPart = { fetchedAt: now, minutes: minutes.map(slim), hours: hours.filter((h) => h.start + HOUR_MS <= split).map(slim) };
    slow.set(key, part);
    return part;
  };

  return {
    async readerFor(namespace, name, now) {
      const freshFrom = Math.floor((now - FAST_WINDOW_LIMIT_MS) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
      const [fresh, old] = await Promise.all([reader.minutes(namespace, name, freshFrom, now + MINUTE_MS), slowPart(namespace, name, now)]);
      const freshSlim = fresh.filter((b) => b.start <= now).map(slim);
      const minutes = [...old.minutes.filter((b) => b.start < freshFrom), ...freshSlim];
      return (windowMs: number, notBefore?: number): WindowCounts => {
        const from = Math.max(now - windowMs, notBefore ?? Number.NEGATIVE_INFINITY);
        const m = rangeCounts(windowMs <= FAST_WINDOW_LIMIT_MS ? freshSlim : minutes, MINUTE_MS, from, now, now);
        return windowMs <= 24 * HOUR_MS ? m : addCounts(m, rangeCounts(old.hours, HOUR_MS, from, now, now));
      };
    },
    retain(keep) {
      for (const key of slow.keys()) if (!keep.has(key)) slow.delete(key);
    },
  };
}
