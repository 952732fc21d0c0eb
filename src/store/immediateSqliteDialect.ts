/**
 * Kysely's SQLite dialect, except that transactions start with BEGIN IMMEDIATE.
 *
 * Kysely's SqliteDriver runs every query of a store on its one connection behind a mutex, so within
 * one store instance transactions never interleave. Across connections (a second store instance, a
 * second process) its plain BEGIN is deferred: two transactions can both read revision N and then
 * race to write N+1, and the loser cannot upgrade its lock. BEGIN IMMEDIATE takes the write lock up
 * front, so the read-check-write of createRevision is serialised across connections.
 *
 * Waiting for that lock is done here, asynchronously, instead of through SQLite's busy_timeout:
 * better-sqlite3 is synchronous, so a busy wait would block the event loop, and a second store in the
 * same process holding the lock across an `await` could then never release it.
 */
import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDriver,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
} from 'kysely';

export interface ImmediateSqliteDialectOptions {
  /** Opens and configures the database; called once, on first use, so open errors surface from a query. */
  readonly open: () => BetterSqlite3.Database;
  /** How long a transaction waits for another connection's write lock before giving up (SQLITE_BUSY). */
  readonly busyTimeoutMs: number;
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #handle: { db?: BetterSqlite3.Database };
  readonly #busyTimeoutMs: number;

  constructor(opts: ImmediateSqliteDialectOptions) {
    const handle: { db?: BetterSqlite3.Database } = {};
    super({
      database: async () => {
        handle.db = opts.open();
        return handle.db;
      },
    });
    this.#handle = handle;
    this.#busyTimeoutMs = opts.busyTimeoutMs;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const db = this.#handle.db;
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      db?.pragma('busy_timeout = 0');
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        return;
      } catch (e) {
        if (!isBusy(e) || Date.now() >= deadline) throw e;
      } finally {
        db?.pragma(`busy_timeout = ${this.#busyTimeoutMs}`);
      }
      // Jittered, capped backoff so contending connections do not retry in lock-step.
      await sleep(Math.min(2 ** attempt, 25) * (0.5 + Math.random()));
    }
  }
}

/**
 * SQLite DDL is transactional; Kysely's adapter says otherwise, which makes its Migrator run without a
 * transaction (its SQLite migration lock is a no-op that trusts the single connection). Two processes
 * migrating a fresh file then both run 0001. Claiming transactional DDL makes the Migrator run inside
 * a BEGIN IMMEDIATE transaction, so the second process waits and then finds nothing to do.
 */
class ImmediateSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class ImmediateSqliteDialect implements Dialect {
  readonly #opts: ImmediateSqliteDialectOptions;

  constructor(opts: ImmediateSqliteDialectOptions) {
    this.#opts = opts;
  }

  createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#opts);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new ImmediateSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
