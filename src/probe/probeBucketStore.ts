/**
 * Probe buckets in the store (table `probe_buckets`, migration 0004; memory engine: a `memoryTableOf`
 * table): minutes as the prober closes them, hours rolled up from minutes, and retention. One
 * implementation over `AppStore.transaction`, so SQLite, PostgreSQL and memory pass one contract
 * (testing/probeBucketStore.contract.ts).
 */
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { ProbeBucketsTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';
import { floorTo, HOUR_MS, mergeBuckets } from './probeBuckets.ts';
import { PROBE_ERROR_KINDS, PROBE_LATENCY_BOUNDS_MS, type ProbeBucket, type ProbeBucketReader } from './probeMinute.ts';

export type BucketStep = 'm' | 'h';

export interface ProbeBucketStore extends ProbeBucketReader {
  /** Upserts closed minutes (a retried write replaces, never doubles, a bucket). */
  writeMinutes(buckets: readonly ProbeBucket[]): Promise<void>;
  /** Rebuilds the hour buckets of [fromHour, toHour) from their minutes; returns how many it wrote. */
  rollUp(fromHour: number, toHour: number): Promise<number>;
  /** Deletes minutes starting before `minutesBefore` and hours before `hoursBefore`. */
  prune(minutesBefore: number, hoursBefore: number): Promise<{ readonly minutes: number; readonly hours: number }>;
  /** Start of the newest hour bucket of any app, or null. */
  latestHour(): Promise<number | null>;
}

const TABLE = 'probe_buckets';
const iso = (ms: number): string => new Date(ms).toISOString();

function toRow(b: ProbeBucket, step: BucketStep): ProbeBucketsTable {
  return {
    namespace: b.namespace,
    name: b.name,
    step,
    start: iso(b.start),
    total: b.total,
    failed: b.failed,
    by_class: JSON.stringify(b.byClass),
    errors: JSON.stringify(b.errors),
    latency: JSON.stringify(b.latency),
    target: b.target,
  };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Reads a row defensively: a histogram stored with fewer bounds (an older berth) is padded, not misread. */
function fromRow(r: ProbeBucketsTable): ProbeBucket {
  const byClass = JSON.parse(r.by_class) as Record<string, unknown>;
  const errors = JSON.parse(r.errors) as Record<string, unknown>;
  const latency = JSON.parse(r.latency) as unknown[];
  return {
    namespace: r.namespace,
    name: r.name,
    start: Date.parse(r.start),
    total: Number(r.total),
    failed: Number(r.failed),
    byClass: { '1xx': num(byClass['1xx']), '2xx': num(byClass['2xx']), '3xx': num(byClass['3xx']), '4xx': num(byClass['4xx']), '5xx': num(byClass['5xx']) },
    errors: Object.fromEntries(PROBE_ERROR_KINDS.map((k) => [k, num(errors[k])])) as ProbeBucket['errors'],
    latency: Array.from({ length: PROBE_LATENCY_BOUNDS_MS.length + 1 }, (_, i) => num(latency[i])),
    target: r.target === 'ingress' || r.target === 'url' ? r.target : 'service',
  };
}

interface Rows {
  upsert(rows: readonly ProbeBucketsTable[]): Promise<void>;
  select(q: { namespace?: string; name?: string; step: BucketStep; from: string; to: string }): Promise<ProbeBucketsTable[]>;
  deleteBefore(step: BucketStep, before: string): Promise<number>;
  latest(step: BucketStep): Promise<string | null>;
}

/** Keeps PostgreSQL's parameter limit (65535) far away: 10 columns × 500 rows per statement. */
const CHUNK = 500;

function rowsOf(store: AppStore, tx: AppStoreTx): Rows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<ProbeBucketsTable>(tx, TABLE);
    const same = (a: ProbeBucketsTable, b: ProbeBucketsTable): boolean => a.namespace === b.namespace && a.name === b.name && a.step === b.step && a.start === b.start;
    return {
      async upsert(list) {
        for (const r of list) {
          const i = rows.findIndex((x) => same(x, r));
          if (i >= 0) rows[i] = { ...r };
          else rows.push({ ...r });
        }
      },
      async select(q) {
        return rows
          .filter((r) => r.step === q.step && r.start >= q.from && r.start < q.to && (q.namespace === undefined || r.namespace === q.namespace) && (q.name === undefined || r.name === q.name))
          .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
          .map((r) => ({ ...r }));
      },
      async deleteBefore(step, before) {
        const keep = rows.filter((r) => !(r.step === step && r.start < before));
        const n = rows.length - keep.length;
        rows.splice(0, rows.length, ...keep);
        return n;
      },
      async latest(step) {
        let max: string | null = null;
        for (const r of rows) if (r.step === step && (max === null || r.start > max)) max = r.start;
        return max;
      },
    };
  }
  const db = sqlExecutorOf(tx);
  return {
    async upsert(list) {
      for (let i = 0; i < list.length; i += CHUNK) {
        await db
          .insertInto('probe_buckets')
          .values(list.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.columns(['namespace', 'name', 'step', 'start']).doUpdateSet((eb) => ({
              total: eb.ref('excluded.total'),
              failed: eb.ref('excluded.failed'),
              by_class: eb.ref('excluded.by_class'),
              errors: eb.ref('excluded.errors'),
              latency: eb.ref('excluded.latency'),
              target: eb.ref('excluded.target'),
            })),
          )
          .execute();
      }
    },
    async select(q) {
      let sel = db.selectFrom('probe_buckets').selectAll().where('step', '=', q.step).where('start', '>=', q.from).where('start', '<', q.to);
      if (q.namespace !== undefined) sel = sel.where('namespace', '=', q.namespace);
      if (q.name !== undefined) sel = sel.where('name', '=', q.name);
      return sel.orderBy('start').execute();
    },
    async deleteBefore(step, before) {
      const r = await db.deleteFrom('probe_buckets').where('step', '=', step).where('start', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async latest(step) {
      const r = await db.selectFrom('probe_buckets').select((eb) => eb.fn.max('start').as('max')).where('step', '=', step).executeTakeFirst();
      return (r?.max as string | null | undefined) ?? null;
    },
  };
}

export function createProbeBucketStore(store: AppStore): ProbeBucketStore {
  const run = <T>(fn: (rows: Rows) => Promise<T>): Promise<T> => store.transaction((tx) => fn(rowsOf(store, tx)));
  const read = (step: BucketStep) => async (namespace: string, name: string, from: number, to: number): Promise<ProbeBucket[]> =>
    (await run((rows) => rows.select({ namespace, name, step, from: iso(from), to: iso(to) }))).map(fromRow);
  return {
    minutes: read('m'),
    hours: read('h'),
    async writeMinutes(buckets) {
      if (buckets.length === 0) return;
      await run((rows) => rows.upsert(buckets.map((b) => toRow(b, 'm'))));
    },
    async rollUp(fromHour, toHour) {
      const from = floorTo(fromHour, HOUR_MS);
      const to = floorTo(toHour, HOUR_MS);
      if (to <= from) return 0;
      // One transaction: readers never see an hour half rebuilt.
      return run(async (rows) => {
        const groups = new Map<string, ProbeBucket[]>();
        for (const r of await rows.select({ step: 'm', from: iso(from), to: iso(to) })) {
          const b = fromRow(r);
          const key = `${b.namespace}\u0000${b.name}\u0000${floorTo(b.start, HOUR_MS)}`;
          const list = groups.get(key);
          if (list) list.push(b);
          else groups.set(key, [b]);
        }
        const hours = [...groups.values()].map((list) => {
          const first = list[0] as ProbeBucket;
          return toRow(mergeBuckets(first.namespace, first.name, floorTo(first.start, HOUR_MS), list), 'h');
        });
        await rows.upsert(hours);
        return hours.length;
      });
    },
    async prune(minutesBefore, hoursBefore) {
      return run(async (rows) => ({ minutes: await rows.deleteBefore('m', iso(minutesBefore)), hours: await rows.deleteBefore('h', iso(hoursBefore)) }));
    },
    async latestHour() {
      const l = await run((rows) => rows.latest('h'));
      return l === null ? null : Date.parse(l);
    },
  };
}
