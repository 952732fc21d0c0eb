/**
 * The contract of the probe bucket store on every engine: upsert of closed minutes, reads by app and
 * range, hourly roll-up, retention. probeBucketStore.test.ts runs it on memory and SQLite,
 * probeBucketStore.int.test.ts on PostgreSQL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AppStore } from '../../store/types.ts';
import { createProbeBucketStore } from '../probeBucketStore.ts';
import { emptyBucket, HOUR_MS, MINUTE_MS, type MutableBucket } from '../probeBuckets.ts';

export interface OpenedStore {
  readonly store: AppStore;
  cleanup(): Promise<void>;
}

const T0 = Date.parse('2030-01-02T03:00:00.000Z');

function bucket(name: string, start: number, total: number, failed: number, ns = 'shop'): MutableBucket {
  const b = emptyBucket(ns, name, start, 'service');
  b.total = total;
  b.failed = failed;
  b.byClass['2xx'] = total - failed;
  b.byClass['5xx'] = failed;
  b.errors.status5xx = failed;
  b.latency[2] = total;
  return b;
}

export function describeProbeBucketStoreContract(engine: string, open: () => Promise<OpenedStore>): void {
  describe(`ProbeBucketStore contract: ${engine}`, () => {
    let opened: OpenedStore | undefined;
    const setup = async (): Promise<ReturnType<typeof createProbeBucketStore>> => {
      opened = await open();
      return createProbeBucketStore(opened.store);
    };
    afterEach(async () => {
      await opened?.cleanup();
      opened = undefined;
    });

    it('returns an app\'s minutes in [from, to), oldest first, field by field', async () => {
      const s = await setup();
      await s.writeMinutes([bucket('api', T0 + MINUTE_MS, 12, 1), bucket('api', T0, 12, 0), bucket('web', T0, 6, 6), bucket('api', T0 + 2 * MINUTE_MS, 12, 2)]);
      const got = await s.minutes('shop', 'api', T0, T0 + 2 * MINUTE_MS);
      expect(got.map((b) => b.start)).toEqual([T0, T0 + MINUTE_MS]);
      const b = got[1];
      expect(b).toEqual({
        namespace: 'shop',
        name: 'api',
        start: T0 + MINUTE_MS,
        total: 12,
        failed: 1,
        byClass: { '1xx': 0, '2xx': 11, '3xx': 0, '4xx': 0, '5xx': 1 },
        errors: { timeout: 0, connect: 0, status5xx: 1, unexpectedStatus: 0 },
        latency: [0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        target: 'service',
      });
      expect(await s.minutes('shop', 'web', T0, T0 + HOUR_MS)).toHaveLength(1);
      expect(await s.minutes('other', 'api', T0, T0 + HOUR_MS)).toEqual([]);
    });

    it('writing a minute again replaces it (a retried flush never doubles counts)', async () => {
      const s = await setup();
      await s.writeMinutes([bucket('api', T0, 12, 1)]);
      await s.writeMinutes([bucket('api', T0, 12, 1)]);
      const got = await s.minutes('shop', 'api', T0, T0 + MINUTE_MS);
      expect(got).toHaveLength(1);
      expect(got[0]?.total).toBe(12);
    });

    it('rolls minutes up into hours per app, and a second roll-up gives the same hours', async () => {
      const s = await setup();
      const minutes = [];
      for (let i = 0; i < 60; i++) minutes.push(bucket('api', T0 + i * MINUTE_MS, 12, i < 6 ? 12 : 0));
      minutes.push(bucket('api', T0 + HOUR_MS, 10, 5), bucket('web', T0 + 5 * MINUTE_MS, 4, 1));
      await s.writeMinutes(minutes);
      expect(await s.rollUp(T0, T0 + 2 * HOUR_MS)).toBe(3);
      expect(await s.rollUp(T0, T0 + 2 * HOUR_MS)).toBe(3);
      const hours = await s.hours('shop', 'api', T0, T0 + 2 * HOUR_MS);
      expect(hours.map((h) => [h.start, h.total, h.failed])).toEqual([
        [T0, 720, 72],
        [T0 + HOUR_MS, 10, 5],
      ]);
      expect(hours[0]?.latency[2]).toBe(720);
      expect(hours[0]?.errors.status5xx).toBe(72);
      expect((await s.hours('shop', 'web', T0, T0 + HOUR_MS))[0]?.total).toBe(4);
      expect(await s.latestHour()).toBe(T0 + HOUR_MS);
    });

    it('prunes minutes and hours older than their retention, and nothing newer', async () => {
      const s = await setup();
      await s.writeMinutes([bucket('api', T0, 1, 0), bucket('api', T0 + MINUTE_MS, 1, 0), bucket('api', T0 + HOUR_MS, 1, 0)]);
      await s.rollUp(T0, T0 + 2 * HOUR_MS);
      const pruned = await s.prune(T0 + MINUTE_MS, T0 + HOUR_MS);
      expect(pruned).toEqual({ minutes: 1, hours: 1 });
      expect((await s.minutes('shop', 'api', 0, T0 + 2 * HOUR_MS)).map((b) => b.start)).toEqual([T0 + MINUTE_MS, T0 + HOUR_MS]);
      expect((await s.hours('shop', 'api', 0, T0 + 2 * HOUR_MS)).map((b) => b.start)).toEqual([T0 + HOUR_MS]);
    });

    it('has no hours before anything was rolled up', async () => {
      const s = await setup();
      expect(await s.latestHour()).toBeNull();
      expect(await s.hours('shop', 'api', 0, T0)).toEqual([]);
    });

    it('writes many buckets at once (several statements on SQL)', async () => {
      const s = await setup();
      const many = Array.from({ length: 1_200 }, (_, i) => bucket(`app-${i}`, T0, 1, 0));
      await s.writeMinutes(many);
      expect(await s.minutes('shop', 'app-1199', T0, T0 + MINUTE_MS)).toHaveLength(1);
      expect(await s.rollUp(T0, T0 + HOUR_MS)).toBe(1_200);
    });
  });
}
