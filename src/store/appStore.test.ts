import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAppStoreContract } from './appStore.contract.ts';
import { createAppStore } from './createAppStore.ts';
import { createMemoryAppStore } from './memoryAppStore.ts';
import { redactUrl } from './storeErrors.ts';
import type { AppStore } from './types.ts';
import { adminQuery, POSTGRES_ADMIN_URL as ADMIN_URL, postgresUnreachable } from './testPostgres.ts';

describeAppStoreContract('memory', async ({ clock }) => {
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describeAppStoreContract('sqlite :memory:', async ({ clock }) => {
  const store = createAppStore('sqlite::memory:', { clock });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describeAppStoreContract('sqlite file', async ({ clock }) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-store-'));
  // A nested, not yet existing directory: the store creates it (like the default .berth/berth.db).
  const url = `sqlite:${join(dir, 'state', 'berth.db')}`;
  const store = createAppStore(url, { clock });
  await store.migrate();
  return {
    store,
    openSecond: async () => {
      const other = createAppStore(url, { clock });
      await other.migrate();
      return other;
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// --- PostgreSQL: a fresh database per run, dropped afterwards -------------------------------------

const pgUnreachable = await postgresUnreachable();
if (pgUnreachable !== undefined) {
  if (process.env.CI) {
    throw new Error(`PostgreSQL is unreachable at ${redactUrl(ADMIN_URL)} (${pgUnreachable}); CI must run the PostgreSQL store contract`);
  }
  console.warn(`skipping the PostgreSQL store contract: ${pgUnreachable} (set BERTH_TEST_POSTGRES_URL or start PostgreSQL on 127.0.0.1:5432)`);
} else {
  const dbName = `berth_test_${randomBytes(6).toString('hex')}`;
  const testUrl = (() => {
    const u = new URL(ADMIN_URL);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();

  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
  });
  afterAll(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });

  /** Tests share the database; each starts from an empty one. */
  async function emptied(store: AppStore): Promise<void> {
    for (const app of await store.listApps()) await store.deleteApp(app.namespace, app.name);
  }

  describeAppStoreContract('postgres', async ({ clock }) => {
    const store = createAppStore(testUrl, { clock });
    await store.migrate();
    await emptied(store);
    return {
      store,
      openSecond: async () => {
        const other = createAppStore(testUrl, { clock });
        await other.migrate();
        return other;
      },
      cleanup: () => store.close(),
    };
  });

  it('postgres: two store instances migrating a fresh database at once both succeed', async () => {
    const freshName = `${dbName}_fresh`;
    const u = new URL(ADMIN_URL);
    u.pathname = `/${freshName}`;
    await adminQuery(`create database ${freshName}`);
    const [a, b] = [createAppStore(u.toString()), createAppStore(u.toString())];
    try {
      await Promise.all([a.migrate(), b.migrate()]);
      await a.createRevision({ namespace: 'n', name: 'x', spec: {}, action: 'deploy', diffSummary: '', actor: 'a' });
      expect((await b.getApp('n', 'x'))?.revision).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await adminQuery(`drop database if exists ${freshName} with (force)`);
    }
  });
}
