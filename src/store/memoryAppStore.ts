/**
 * The in-memory AppStore: same contract and contract tests as the SQL engines, for unit tests of code
 * that needs a store (the HTTP server, the rollout engine) without a database file.
 *
 * Every operation runs under one lock, so a `transaction` sees no interleaved writes and can roll back
 * by restoring the snapshot it took when it started.
 */
import { BerthError } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import {
  compareKeys,
  fromJsonText,
  guardedTx,
  isUnfinished,
  revisionConflict,
  revisionNotFound,
  storeClosed,
  supersededMessage,
  toJsonText,
} from './revisionRules.ts';
import type { AppRow, AppStore, AppStoreTx, NewRevision, ObjectRef, RevisionFinish, RevisionRow } from './types.ts';

export interface MemoryAppStoreOptions {
  /** Clock for every timestamp the store writes. */
  readonly clock?: Clock;
}

/** Rows as stored: JSON members kept as text so callers never share objects with the store. */
interface StoredApp extends Omit<AppRow, 'spec'> {
  readonly specJson: string;
}
interface StoredRevision extends Omit<RevisionRow, 'spec' | 'inventory'> {
  readonly specJson: string;
  readonly inventoryJson: string;
}

interface MemoryState {
  apps: Map<string, StoredApp>;
  /** Per app key, ascending by revision. */
  revisions: Map<string, StoredRevision[]>;
  /** Extra tables of later features (see `memoryTableOf`); part of every snapshot. */
  tables: Map<string, unknown[]>;
}

const txState = new WeakMap<AppStoreTx, MemoryState>();

/**
 * For code that keeps its own table in the store (audit log, tokens): a named extra table that lives
 * in the store's state and is rolled back with the transaction, the memory counterpart of a table
 * added by a migration. Write through it only inside `transaction(fn)`, with the `tx` given to `fn`.
 */
export function memoryTableOf<T>(tx: AppStoreTx, table: string): T[] {
  const state = txState.get(tx);
  if (state === undefined) throw new BerthError('BERTH_INTERNAL', 'not a transaction of a memory store');
  let rows = state.tables.get(table);
  if (rows === undefined) {
    rows = [];
    state.tables.set(table, rows);
  }
  return rows as T[];
}

function key(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

function snapshot(state: MemoryState): MemoryState {
  // Stored rows are replaced, never mutated, so copying the containers is enough for them.
  return {
    apps: new Map(state.apps),
    revisions: new Map([...state.revisions].map(([k, list]) => [k, [...list]])),
    tables: new Map([...state.tables].map(([k, rows]) => [k, structuredClone(rows)])),
  };
}

function restore(state: MemoryState, from: MemoryState): void {
  state.apps = from.apps;
  state.revisions = from.revisions;
  state.tables = from.tables;
}

function toAppRow(a: StoredApp): AppRow {
  const { specJson, ...rest } = a;
  return { ...rest, spec: fromJsonText(specJson) };
}

function toRevisionRow(r: StoredRevision): RevisionRow {
  const { specJson, inventoryJson, ...rest } = r;
  return { ...rest, spec: fromJsonText(specJson), inventory: fromJsonText(inventoryJson) as ObjectRef[] };
}

/** Serialises all operations: a promise chain is the whole lock. */
class Lock {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function operations(state: MemoryState, now: () => Date): AppStoreTx {
  const stamp = (): string => now().toISOString();
  const revisionsOf = (namespace: string, name: string): StoredRevision[] => state.revisions.get(key(namespace, name)) ?? [];
  const replaceRevision = (namespace: string, name: string, next: StoredRevision): void => {
    const list = revisionsOf(namespace, name).map((r) => (r.revision === next.revision ? next : r));
    state.revisions.set(key(namespace, name), list);
  };
  const findRevision = (namespace: string, name: string, revision: number): StoredRevision => {
    const found = revisionsOf(namespace, name).find((r) => r.revision === revision);
    if (found === undefined) throw revisionNotFound(namespace, name, revision);
    return found;
  };

  return {
    async createRevision(input: NewRevision): Promise<RevisionRow> {
      const k = key(input.namespace, input.name);
      const app = state.apps.get(k);
      const current = app?.revision ?? 0;
      if (input.expectedRevision !== undefined && input.expectedRevision !== current) {
        throw revisionConflict(input.namespace, input.name, current, input.expectedRevision);
      }
      const at = stamp();
      const revision = current + 1;
      const specJson = toJsonText(input.spec);
      const superseded = revisionsOf(input.namespace, input.name).map((r) =>
        isUnfinished(r.outcome) ? { ...r, outcome: 'superseded' as const, message: supersededMessage(revision), finishedAt: at } : r,
      );
      const row: StoredRevision = {
        namespace: input.namespace,
        name: input.name,
        revision,
        action: input.action,
        rollbackOf: input.rollbackOf ?? null,
        specJson,
        diffSummary: input.diffSummary,
        actor: input.actor,
        createdAt: at,
        outcome: 'accepted',
        reason: null,
        message: null,
        finishedAt: null,
        inventoryJson: '[]',
      };
      state.revisions.set(k, [...superseded, row]);
      state.apps.set(k, {
        namespace: input.namespace,
        name: input.name,
        revision,
        specJson,
        createdAt: app?.createdAt ?? at,
        createdBy: app?.createdBy ?? input.actor,
        updatedAt: at,
        updatedBy: input.actor,
      });
      return toRevisionRow(row);
    },

    async getApp(namespace, name) {
      const app = state.apps.get(key(namespace, name));
      return app === undefined ? undefined : toAppRow(app);
    },

    async listApps(filter) {
      return [...state.apps.values()]
        .filter((a) => filter?.namespace === undefined || a.namespace === filter.namespace)
        .sort((a, b) => compareKeys([a.namespace, a.name], [b.namespace, b.name]))
        .map(toAppRow);
    },

    async getRevision(namespace, name, revision) {
      const found = revisionsOf(namespace, name).find((r) => r.revision === revision);
      return found === undefined ? undefined : toRevisionRow(found);
    },

    async listRevisions(namespace, name) {
      return [...revisionsOf(namespace, name)].reverse().map(toRevisionRow);
    },

    async setApplied(namespace, name, revision, inventory) {
      const found = findRevision(namespace, name, revision);
      replaceRevision(namespace, name, {
        ...found,
        inventoryJson: toJsonText(inventory),
        outcome: found.outcome === 'accepted' ? 'applied' : found.outcome,
      });
    },

    async finishRevision(namespace, name, revision, finish: RevisionFinish) {
      const found = findRevision(namespace, name, revision);
      if (!isUnfinished(found.outcome)) return;
      if (finish.outcome === 'applied') {
        replaceRevision(namespace, name, { ...found, outcome: 'applied', reason: finish.reason ?? null, message: finish.message ?? null });
        return;
      }
      replaceRevision(namespace, name, {
        ...found,
        outcome: finish.outcome,
        reason: finish.reason ?? null,
        message: finish.message ?? null,
        finishedAt: stamp(),
      });
    },

    async unfinishedRevisions() {
      return [...state.revisions.values()]
        .flat()
        .filter((r) => isUnfinished(r.outcome) && state.apps.has(key(r.namespace, r.name)))
        .sort(
          (a, b) =>
            (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0) ||
            compareKeys([a.namespace, a.name], [b.namespace, b.name]) ||
            a.revision - b.revision,
        )
        .map(toRevisionRow);
    },

    async deleteApp(namespace, name) {
      const k = key(namespace, name);
      const existed = state.apps.delete(k);
      state.revisions.delete(k);
      return existed;
    },
  };
}

export function createMemoryAppStore(opts: MemoryAppStoreOptions = {}): AppStore {
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const state: MemoryState = { apps: new Map(), revisions: new Map(), tables: new Map() };
  const lock = new Lock();
  const ops = operations(state, now);
  let closed = false;

  const locked = <T>(fn: () => Promise<T>): Promise<T> =>
    lock.run(async () => {
      if (closed) throw storeClosed();
      return fn();
    });

  return {
    engine: 'memory',
    migrate: () => locked(async () => undefined),
    ping: () => locked(async () => undefined),
    async close() {
      closed = true;
    },

    transaction<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> {
      return locked(async () => {
        const before = snapshot(state);
        let open = true;
        const guard = <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
          async (...args: A): Promise<R> => {
            // A tx used after its transaction ended would write around the lock.
            if (!open) throw new BerthError('BERTH_INTERNAL', 'transaction already finished');
            return op(...args);
          };
        const tx: AppStoreTx = guardedTx(ops, guard);
        txState.set(tx, state);
        try {
          return await fn(tx);
        } catch (e) {
          restore(state, before);
          throw e;
        } finally {
          open = false;
          txState.delete(tx);
        }
      });
    },

    createRevision: (input) => locked(() => ops.createRevision(input)),
    getApp: (namespace, name) => locked(() => ops.getApp(namespace, name)),
    listApps: (filter) => locked(() => ops.listApps(filter)),
    getRevision: (namespace, name, revision) => locked(() => ops.getRevision(namespace, name, revision)),
    listRevisions: (namespace, name) => locked(() => ops.listRevisions(namespace, name)),
    setApplied: (namespace, name, revision, inventory) => locked(() => ops.setApplied(namespace, name, revision, inventory)),
    finishRevision: (namespace, name, revision, finish) => locked(() => ops.finishRevision(namespace, name, revision, finish)),
    unfinishedRevisions: () => locked(() => ops.unfinishedRevisions()),
    deleteApp: (namespace, name) => locked(() => ops.deleteApp(namespace, name)),
  };
}
