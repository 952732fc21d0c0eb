/**
 * Recorded load runs, in the store (table `load_runs`, migration 0006; memory engine: a
 * `memoryTableOf` table). A run is bounded on the way in (series, replica points and scaling events
 * have maximum lengths; see validateLoadRun) and per app (the newest KEEP_PER_APP runs are kept),
 * so a deployer recording runs in a loop cannot grow the database without end.
 */
import { randomUUID } from 'node:crypto';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { memoryTableOf } from '../store/memoryAppStore.ts';
import type { LoadRunsTable } from '../store/schema.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import type { AppStore, AppStoreTx } from '../store/types.ts';
import type { LoadRun, LoadRunInput, LoadRunListItem } from './types.ts';

export const KEEP_PER_APP = 50;
const TABLE = 'load_runs';

export interface LoadRunStore {
  /** Stores a validated run; `alsoInTx` writes more in the same transaction (the audit row). */
  record(namespace: string, name: string, input: LoadRunInput, actor: string, alsoInTx?: (tx: AppStoreTx, run: LoadRun) => Promise<void>): Promise<LoadRun>;
  /** Newest first, without series. */
  list(namespace: string, name: string, limit?: number): Promise<LoadRunListItem[]>;
  get(namespace: string, name: string, id: string): Promise<LoadRun | undefined>;
}

export interface LoadRunStoreOptions {
  readonly store: AppStore;
  readonly clock?: Clock;
  /** `store.transaction`, or the audit log's (which logs the rows after the commit). */
  readonly transaction?: <T>(fn: (tx: AppStoreTx) => Promise<T>) => Promise<T>;
  readonly newId?: () => string;
}

interface Rows {
  insert(row: LoadRunsTable): Promise<void>;
  ofApp(namespace: string, name: string, limit: number): Promise<LoadRunsTable[]>;
  byId(namespace: string, name: string, id: string): Promise<LoadRunsTable | undefined>;
  /** Deletes all but the newest `keep` runs of the app. */
  trim(namespace: string, name: string, keep: number): Promise<void>;
}

const newestFirst = (a: LoadRunsTable, b: LoadRunsTable): number => (a.recorded_at < b.recorded_at ? 1 : a.recorded_at > b.recorded_at ? -1 : a.id < b.id ? 1 : -1);

function rowsOf(store: AppStore, tx: AppStoreTx): Rows {
  if (store.engine === 'memory') {
    const rows = memoryTableOf<LoadRunsTable>(tx, TABLE);
    const ofApp = (ns: string, name: string): LoadRunsTable[] => rows.filter((r) => r.namespace === ns && r.name === name).sort(newestFirst);
    return {
      async insert(row) {
        rows.push({ ...row });
      },
      ofApp: async (ns, name, limit) => ofApp(ns, name).slice(0, limit),
      byId: async (ns, name, id) => rows.find((r) => r.namespace === ns && r.name === name && r.id === id),
      async trim(ns, name, keep) {
        const drop = new Set(ofApp(ns, name).slice(keep));
        for (let i = rows.length - 1; i >= 0; i--) if (drop.has(rows[i] as LoadRunsTable)) rows.splice(i, 1);
      },
    };
  }
  const db = sqlExecutorOf(tx);
  const ofApp = (ns: string, name: string) => db.selectFrom('load_runs').where('namespace', '=', ns).where('name', '=', name).orderBy('recorded_at', 'desc').orderBy('id', 'desc');
  return {
    async insert(row) {
      await db.insertInto('load_runs').values(row).execute();
    },
    ofApp: (ns, name, limit) => ofApp(ns, name).selectAll().limit(limit).execute(),
    byId: (ns, name, id) => db.selectFrom('load_runs').selectAll().where('namespace', '=', ns).where('name', '=', name).where('id', '=', id).executeTakeFirst(),
    async trim(ns, name, keep) {
      const old = await ofApp(ns, name).select('id').offset(keep).limit(1000).execute();
      if (old.length > 0) await db.deleteFrom('load_runs').where('id', 'in', old.map((r) => r.id)).execute();
    },
  };
}

function toRun(r: LoadRunsTable): LoadRun {
  const data = JSON.parse(r.data) as Omit<LoadRunInput, 'summary'>;
  return { id: r.id, namespace: r.namespace, name: r.name, recordedAt: r.recorded_at, recordedBy: r.recorded_by, summary: JSON.parse(r.summary) as LoadRun['summary'], ...data };
}

export function createLoadRunStore(opts: LoadRunStoreOptions): LoadRunStore {
  const { store } = opts;
  const clock = opts.clock ?? realClock;
  const transaction = opts.transaction ?? (<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> => store.transaction(fn));
  const newId = opts.newId ?? randomUUID;
  return {
    async record(namespace, name, input, actor, alsoInTx) {
      const { summary, series, replicas, scalingEvents, thresholds, inCluster } = input;
      const row: LoadRunsTable = {
        id: newId(),
        namespace,
        name,
        recorded_at: nowDate(clock).toISOString(),
        recorded_by: actor,
        passed: thresholds.every((t) => !t.failed) ? 1 : 0,
        summary: JSON.stringify(summary),
        data: JSON.stringify({ series, replicas, scalingEvents, thresholds, inCluster }),
      };
      const run = toRun(row);
      await transaction(async (tx) => {
        const rows = rowsOf(store, tx);
        await rows.insert(row);
        await rows.trim(namespace, name, KEEP_PER_APP);
        await alsoInTx?.(tx, run);
      });
      return run;
    },
    async list(namespace, name, limit = KEEP_PER_APP) {
      const rows = await store.transaction(async (tx) => rowsOf(store, tx).ofApp(namespace, name, Math.max(1, Math.min(KEEP_PER_APP, limit))));
      return rows.map((r) => ({ id: r.id, namespace: r.namespace, name: r.name, recordedAt: r.recorded_at, recordedBy: r.recorded_by, summary: JSON.parse(r.summary) as LoadRun['summary'], passed: r.passed === 1 }));
    },
    async get(namespace, name, id) {
      const row = await store.transaction(async (tx) => rowsOf(store, tx).byId(namespace, name, id));
      return row ? toRun(row) : undefined;
    },
  };
}
