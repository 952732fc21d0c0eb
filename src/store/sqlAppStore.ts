/**
 * The SQL AppStore on Kysely: one implementation, two engines (SQLite through better-sqlite3,
 * PostgreSQL through a pg Pool). Why and how it stays correct under concurrency:
 * docs/adr/0003-store-kysely-sqlite-postgres.md.
 *
 * Every method is a function of a Kysely executor, so the same code runs on the store's own
 * connection(s) and inside `transaction(fn)`. Later store features write their own tables in that
 * transaction through `sqlExecutorOf(tx)` (same-folder code only; see migrations.ts).
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from './privateFiles.ts';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Pool } from 'pg';
import { BerthError } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { ImmediateSqliteDialect } from './immediateSqliteDialect.ts';
import { migrateToLatest, type SqlEngine } from './migrations.ts';
import {
  UNFINISHED_OUTCOMES,
  fromJsonText,
  guardedTx,
  revisionConflict,
  revisionNotFound,
  storeClosed,
  supersededMessage,
  toJsonText,
} from './revisionRules.ts';
import type { AppsTable, Database, RevisionsTable } from './schema.ts';
import { ConcurrentChangeError, isRetryableWriteError, toStoreError } from './storeErrors.ts';
import type { AppRow, AppStore, AppStoreTx, NewRevision, ObjectRef, RevisionFinish, RevisionOutcome, RevisionRow } from './types.ts';

export interface SqlAppStoreOptions {
  /** Clock for every timestamp the store writes. */
  readonly clock?: Clock;
}

export interface SqliteAppStoreOptions extends SqlAppStoreOptions {
  /** A file path (its directory is created on first use) or ":memory:". */
  readonly path: string;
  /** How long a write waits for another connection's lock before failing with BERTH_STORE_UNAVAILABLE. */
  readonly busyTimeoutMs?: number;
}

export interface PostgresAppStoreOptions extends SqlAppStoreOptions {
  readonly connectionString: string;
  /** Names the database in error messages; must not contain a password. */
  readonly displayName: string;
  /** Strings scrubbed from error messages (the password). */
  readonly secrets?: readonly string[];
  readonly maxConnections?: number;
  readonly connectTimeoutMs?: number;
}

/** Attempts for a top-level write that lost a race (unique violation, serialisation failure). */
const WRITE_ATTEMPTS = 8;

const txExecutors = new WeakMap<AppStoreTx, Kysely<Database>>();

/**
 * For code that keeps its own table in the store (audit log, tokens): the Kysely transaction behind a
 * `tx` that `AppStore.transaction` handed to its callback, so a later feature (audit log) writes its
 * own table atomically with the change it records:
 *
 *   await store.transaction(async (tx) => {
 *     const r = await tx.createRevision(input);
 *     await sqlExecutorOf(tx).insertInto('audit_events').values({ ... }).execute();
 *   });
 *
 * Throws for a memory store's tx or once the transaction has ended.
 */
export function sqlExecutorOf(tx: AppStoreTx): Kysely<Database> {
  const db = txExecutors.get(tx);
  if (db === undefined) throw new BerthError('BERTH_INTERNAL', 'not an open transaction of a SQL store');
  return db;
}

function toAppRow(r: AppsTable): AppRow {
  return {
    namespace: r.namespace,
    name: r.name,
    revision: r.revision,
    spec: fromJsonText(r.spec),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    createdBy: r.created_by,
    updatedBy: r.updated_by,
  };
}

function toRevisionRow(r: RevisionsTable): RevisionRow {
  return {
    namespace: r.namespace,
    name: r.name,
    revision: r.revision,
    action: r.action,
    rollbackOf: r.rollback_of,
    spec: fromJsonText(r.spec),
    diffSummary: r.diff_summary,
    actor: r.actor,
    createdAt: r.created_at,
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    finishedAt: r.finished_at,
    inventory: fromJsonText(r.inventory) as ObjectRef[],
  };
}

const unfinished = (): RevisionOutcome[] => [...UNFINISHED_OUTCOMES];

/** The store's operations on one executor: the store's own Kysely or an open transaction. */
function operations(db: Kysely<Database>, engine: SqlEngine, now: () => Date): AppStoreTx {
  const revisionExists = async (namespace: string, name: string, revision: number): Promise<boolean> =>
    (await db
      .selectFrom('revisions')
      .select('revision')
      .where('namespace', '=', namespace)
      .where('name', '=', name)
      .where('revision', '=', revision)
      .executeTakeFirst()) !== undefined;

  return {
    /** Must run inside a transaction (the store wraps it); see the ADR for the locking. */
    async createRevision(input: NewRevision): Promise<RevisionRow> {
      const at = now().toISOString();
      const specJson = toJsonText(input.spec);
      const { namespace, name } = input;
      // The app row is the per-app lock: create it if missing (revision 0; rolled back with the
      // transaction if the write fails), then lock it. On SQLite the transaction already holds the
      // database's write lock (BEGIN IMMEDIATE).
      await db
        .insertInto('apps')
        .values({ namespace, name, revision: 0, spec: 'null', created_at: at, updated_at: at, created_by: input.actor, updated_by: input.actor })
        .onConflict((oc) => oc.columns(['namespace', 'name']).doNothing())
        .execute();
      let locking = db.selectFrom('apps').select('revision').where('namespace', '=', namespace).where('name', '=', name);
      if (engine === 'postgres') locking = locking.forUpdate();
      const app = await locking.executeTakeFirst();
      if (app === undefined) throw new ConcurrentChangeError(`app ${namespace}/${name} was deleted while revision was being written`);
      const current = app.revision;
      if (input.expectedRevision !== undefined && input.expectedRevision !== current) {
        throw revisionConflict(namespace, name, current, input.expectedRevision);
      }
      const revision = current + 1;
      await db
        .updateTable('revisions')
        .set({ outcome: 'superseded', message: supersededMessage(revision), finished_at: at })
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .where('outcome', 'in', unfinished())
        .execute();
      const row: RevisionsTable = {
        namespace,
        name,
        revision,
        action: input.action,
        rollback_of: input.rollbackOf ?? null,
        spec: specJson,
        diff_summary: input.diffSummary,
        actor: input.actor,
        created_at: at,
        outcome: 'accepted',
        reason: null,
        message: null,
        finished_at: null,
        inventory: '[]',
      };
      await db.insertInto('revisions').values(row).execute();
      await db
        .updateTable('apps')
        .set({ revision, spec: specJson, updated_at: at, updated_by: input.actor })
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .execute();
      return toRevisionRow(row);
    },

    async getApp(namespace, name) {
      const r = await db.selectFrom('apps').selectAll().where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
      return r === undefined ? undefined : toAppRow(r);
    },

    async listApps(filter) {
      let q = db.selectFrom('apps').selectAll();
      if (filter?.namespace !== undefined) q = q.where('namespace', '=', filter.namespace);
      return (await q.orderBy('namespace').orderBy('name').execute()).map(toAppRow);
    },

    async getRevision(namespace, name, revision) {
      const r = await db
        .selectFrom('revisions')
        .selectAll()
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .where('revision', '=', revision)
        .executeTakeFirst();
      return r === undefined ? undefined : toRevisionRow(r);
    },

    async listRevisions(namespace, name) {
      const rows = await db
        .selectFrom('revisions')
        .selectAll()
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .orderBy('revision', 'desc')
        .execute();
      return rows.map(toRevisionRow);
    },

    async setApplied(namespace, name, revision, inventory) {
      const result = await db
        .updateTable('revisions')
        .set({
          inventory: toJsonText(inventory),
          // Only an accepted revision moves; a finished one keeps its outcome (never reopened).
          outcome: sql<RevisionOutcome>`case when outcome = 'accepted' then 'applied' else outcome end`,
        })
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .where('revision', '=', revision)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw revisionNotFound(namespace, name, revision);
    },

    async finishRevision(namespace, name, revision, finish: RevisionFinish) {
      const result = await db
        .updateTable('revisions')
        .set({
          outcome: finish.outcome,
          reason: finish.reason ?? null,
          message: finish.message ?? null,
          // "applied" is not final: the revision stays unfinished and is resumed at start.
          finished_at: finish.outcome === 'applied' ? null : now().toISOString(),
        })
        .where('namespace', '=', namespace)
        .where('name', '=', name)
        .where('revision', '=', revision)
        .where('outcome', 'in', unfinished())
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n && !(await revisionExists(namespace, name, revision))) {
        throw revisionNotFound(namespace, name, revision);
      }
    },

    async unfinishedRevisions() {
      const rows = await db
        .selectFrom('revisions')
        .innerJoin('apps', (j) => j.onRef('apps.namespace', '=', 'revisions.namespace').onRef('apps.name', '=', 'revisions.name'))
        .selectAll('revisions')
        .where('revisions.outcome', 'in', unfinished())
        .orderBy('revisions.created_at')
        .orderBy('revisions.namespace')
        .orderBy('revisions.name')
        .orderBy('revisions.revision')
        .execute();
      return rows.map(toRevisionRow);
    },

    async deleteApp(namespace, name) {
      // Explicit as well as ON DELETE CASCADE: a SQLite connection opened without foreign_keys=ON
      // (e.g. the sqlite3 shell) must not leave orphans behind.
      await db.deleteFrom('revisions').where('namespace', '=', namespace).where('name', '=', name).execute();
      const result = await db.deleteFrom('apps').where('namespace', '=', namespace).where('name', '=', name).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Builds the store on a Kysely instance. `target` names the database in error messages (redacted);
 * `secrets` are scrubbed from driver messages.
 */
function createSqlAppStore(engine: SqlEngine, db: Kysely<Database>, target: string, secrets: readonly string[], opts: SqlAppStoreOptions): AppStore {
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const direct = operations(db, engine, now);
  let closed = false;
  let destroyed: Promise<void> | undefined;

  const guarded = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (closed) throw storeClosed();
    try {
      return await fn();
    } catch (e) {
      throw toStoreError(e, target, secrets);
    }
  };

  /** A write in its own transaction, retried when it lost a race with another writer. */
  const write = <T>(fn: (ops: AppStoreTx) => Promise<T>): Promise<T> =>
    guarded(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await db.transaction().execute((trx) => fn(operations(trx, engine, now)));
        } catch (e) {
          if (attempt >= WRITE_ATTEMPTS || !isRetryableWriteError(e)) throw e;
          await sleep(Math.random() * 5 * attempt);
        }
      }
    });

  return {
    engine,
    migrate: () => guarded(async () => void (await migrateToLatest(db as Kysely<unknown>, engine))),
    // A read alone passes on a read-only database (a read-only mount, a standby), where every
    // write then fails: a write that matches no row proves the database takes writes.
    ping: () =>
      guarded(async () => {
        await sql`select 1`.execute(db);
        await sql`delete from apps where 1 = 0`.execute(db);
      }),
    async close() {
      closed = true;
      destroyed ??= db.destroy();
      await destroyed;
    },

    transaction<T>(fn: (tx: AppStoreTx) => Promise<T>): Promise<T> {
      // Not retried: fn may have done things outside the database. On SQLite the transaction holds the
      // write lock from its start; on PostgreSQL createRevision locks the app row it writes.
      return guarded(() =>
        db.transaction().execute(async (trx) => {
          const ops = operations(trx, engine, now);
          let open = true;
          const guard =
            <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
            async (...args: A): Promise<R> => {
              // After commit the connection is back in the pool (or SQLite's mutex is released).
              if (!open) throw new BerthError('BERTH_INTERNAL', 'transaction already finished');
              try {
                return await op(...args);
              } catch (e) {
                throw toStoreError(e, target, secrets);
              }
            };
          const tx: AppStoreTx = guardedTx(ops, guard);
          txExecutors.set(tx, trx);
          try {
            return await fn(tx);
          } finally {
            open = false;
            txExecutors.delete(tx);
          }
        }),
      );
    },

    createRevision: (input) => write((ops) => ops.createRevision(input)),
    getApp: (namespace, name) => guarded(() => direct.getApp(namespace, name)),
    listApps: (filter) => guarded(() => direct.listApps(filter)),
    getRevision: (namespace, name, revision) => guarded(() => direct.getRevision(namespace, name, revision)),
    listRevisions: (namespace, name) => guarded(() => direct.listRevisions(namespace, name)),
    // Single-statement writes still go through a transaction: on SQLite that is what takes the write
    // lock asynchronously (BEGIN IMMEDIATE) instead of blocking the event loop in busy_timeout.
    setApplied: (namespace, name, revision, inventory) => write((ops) => ops.setApplied(namespace, name, revision, inventory)),
    finishRevision: (namespace, name, revision, finish) => write((ops) => ops.finishRevision(namespace, name, revision, finish)),
    unfinishedRevisions: () => guarded(() => direct.unfinishedRevisions()),
    deleteApp: (namespace, name) => write((ops) => ops.deleteApp(namespace, name)),
  };
}

function openSqlite(path: string, busyTimeoutMs: number): BetterSqlite3.Database {
  if (path !== ':memory:') {
    ensurePrivateDir(dirname(path));
    ensurePrivateFile(path);
  }
  const db = new BetterSqlite3(path);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    // WAL: readers never wait for the writer; NORMAL sync is durable across crashes of the process.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/** SQLite store; the file (and its directory) is opened on first use. */
export function createSqliteAppStore(opts: SqliteAppStoreOptions): AppStore {
  const busyTimeoutMs = opts.busyTimeoutMs ?? 5_000;
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ open: () => openSqlite(opts.path, busyTimeoutMs), busyTimeoutMs }),
  });
  const target = `SQLite database ${opts.path}`;
  const store = createSqlAppStore('sqlite', db, target, [], opts);
  if (opts.path === ':memory:') return store;
  return {
    ...store,
    // On a read-only filesystem SQLite cannot even open a WAL database ("unable to open database
    // file"); asking the filesystem first lets /readyz say what is actually wrong.
    async ping() {
      try {
        accessSync(dirname(opts.path), fsConstants.W_OK);
      } catch (e) {
        if ((e as { code?: unknown }).code === 'EROFS') throw new BerthError('BERTH_STORE_UNAVAILABLE', `${target} is on a read-only filesystem`, { cause: e });
      }
      await store.ping();
    },
  };
}

/** PostgreSQL store over a connection pool; connects on first use. */
export function createPostgresAppStore(opts: PostgresAppStoreOptions): AppStore {
  // pg (~16 MiB resident) loads with the first query, so a SQLite berth never carries it.
  const pool = async (): Promise<Pool> => {
    const { default: pg } = await import('pg');
    const p = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    });
    // An idle client losing its connection (server restart) must not crash the process; the next
    // query gets a fresh client or reports BERTH_STORE_UNAVAILABLE.
    p.on('error', () => undefined);
    // The pool listens only to idle clients: a connection reset while Kysely holds a client between two
    // statements (a transaction, a background task) would be an unhandled 'error' event and end the
    // process. Swallow it here; the client's next query fails and is reported as BERTH_STORE_UNAVAILABLE
    // (test/api/readyzStore.int.test.ts cuts the database off under a running server).
    p.on('connect', (client) => client.on('error', () => undefined));
    return p;
  };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return createSqlAppStore('postgres', db, `PostgreSQL database ${opts.displayName}`, opts.secrets ?? [], opts);
}
