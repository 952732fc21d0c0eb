import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BerthError } from '../errors.ts';
import { createAppStore, parseDatabaseUrl } from './createAppStore.ts';
import { redactUrl } from './storeErrors.ts';

async function failure(p: Promise<unknown>): Promise<BerthError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof BerthError)) throw new Error(`expected a BerthError, got ${String(e)}`);
  return e;
}

function syncFailure(fn: () => unknown): BerthError {
  try {
    fn();
  } catch (e) {
    if (e instanceof BerthError) return e;
    throw e;
  }
  throw new Error('expected a BerthError, nothing was thrown');
}

/** A 127.0.0.1 port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite::memory:', { engine: 'sqlite', path: ':memory:' }],
    [':memory:', { engine: 'sqlite', path: ':memory:' }],
    ['sqlite:.berth/berth.db', { engine: 'sqlite', path: '.berth/berth.db' }],
    ['sqlite:/var/lib/berth/berth.db', { engine: 'sqlite', path: '/var/lib/berth/berth.db' }],
    ['sqlite:///var/lib/berth/berth.db', { engine: 'sqlite', path: '/var/lib/berth/berth.db' }],
    ['.berth/berth.db', { engine: 'sqlite', path: '.berth/berth.db' }],
    ['/tmp/x/berth.db', { engine: 'sqlite', path: '/tmp/x/berth.db' }],
    ['postgres://berth:pw@db:5432/berth', { engine: 'postgres', url: 'postgres://berth:pw@db:5432/berth' }],
    ['postgresql://db/berth?sslmode=require', { engine: 'postgres', url: 'postgresql://db/berth?sslmode=require' }],
  ])('%s', (url, expected) => {
    expect(parseDatabaseUrl(url)).toEqual(expected);
  });

  it.each([[''], ['   '], ['mysql://root:hunter2@db/berth'], ['http://example.com'], ['sqlite:'], ['postgres://'], ['postgres://user:hunter2@:5432/db']])(
    'rejects %j as BERTH_CONFIG_INVALID at /databaseUrl without the password',
    (url) => {
      const e = syncFailure(() => createAppStore(url));
      expect(e.code).toBe('BERTH_CONFIG_INVALID');
      expect(e.problems).toHaveLength(1);
      expect(e.problems[0]?.path).toBe('/databaseUrl');
      expect(e.problems[0]?.code).toBe('BERTH_CONFIG_INVALID');
      expect(JSON.stringify(e.toJSON())).not.toContain('hunter2');
      expect(e.message).not.toContain('hunter2');
    },
  );

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgres://berth:s3cr%40t@db:5432/berth')).toBe('postgres://berth:***@db:5432/berth');
    expect(redactUrl('postgres://berth@db/berth')).toBe('postgres://berth@db/berth');
    expect(redactUrl('postgres://berth:hunter2@:5432/db')).toBe('postgres://berth:***@:5432/db');
  });
});

describe('createAppStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-create-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens SQLite lazily, creates the parent directory, uses WAL and records the migration', async () => {
    const file = join(dir, 'nested', '.berth', 'berth.db');
    const store = createAppStore(file);
    expect(store.engine).toBe('sqlite');
    expect(existsSync(file)).toBe(false);
    await store.migrate();
    await store.createRevision({ namespace: 'n', name: 'a', spec: {}, action: 'deploy', diffSummary: '', actor: 'x' });
    await store.close();

    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('select name from berth_migration order by name').all()).toEqual([{ name: '0001_apps_revisions' }, { name: '0002_tokens_audit' }, { name: '0003_audit_event_count' }, { name: '0006_load_runs' }]);
      expect(raw.prepare('select namespace, name, revision from revisions').all()).toEqual([{ namespace: 'n', name: 'a', revision: 1 }]);
    } finally {
      raw.close();
    }
  });

  it('enforces foreign keys on SQLite: a revision without its app is refused', async () => {
    const file = join(dir, 'fk.db');
    const store = createAppStore(`sqlite:${file}`);
    await store.migrate();
    const { sqlExecutorOf } = await import('./sqlAppStore.ts');
    await expect(
      store.transaction(async (tx) => {
        await sqlExecutorOf(tx)
          .insertInto('revisions')
          .values({
            namespace: 'n',
            name: 'orphan',
            revision: 1,
            action: 'deploy',
            rollback_of: null,
            spec: '{}',
            diff_summary: '',
            actor: 'x',
            created_at: '2030-01-01T00:00:00.000Z',
            outcome: 'accepted',
            reason: null,
            message: null,
            finished_at: null,
            inventory: '[]',
          })
          .execute();
      }),
    ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    await store.close();
  });

  it('reports an unusable SQLite path as BERTH_STORE_UNAVAILABLE', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const store = createAppStore(`sqlite:${join(blocker, 'berth.db')}`);
    const e = await failure(store.migrate());
    expect(e.code).toBe('BERTH_STORE_UNAVAILABLE');
    expect(e.status).toBe(503);
    expect(e.message).toContain(blocker);
    expect((await failure(store.ping())).code).toBe('BERTH_STORE_UNAVAILABLE');
    await store.close();
  });

  it('reports an unreachable PostgreSQL as BERTH_STORE_UNAVAILABLE without the password', async () => {
    const port = await closedPort();
    const store = createAppStore(`postgres://berth:hunter2@127.0.0.1:${port}/berth`, { connectTimeoutMs: 2_000 });
    expect(store.engine).toBe('postgres');
    for (const attempt of [() => store.migrate(), () => store.ping(), () => store.listApps()]) {
      const e = await failure(attempt());
      expect(e.code).toBe('BERTH_STORE_UNAVAILABLE');
      expect(e.message).toContain(`postgres://berth:***@127.0.0.1:${port}/berth`);
      expect(e.message).toContain('ECONNREFUSED');
      expect(JSON.stringify(e.toJSON())).not.toContain('hunter2');
    }
    await store.close();
  });
});
