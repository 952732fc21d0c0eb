import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeAppStoreContract } from './testing/appStore.contract.ts';
import { createAppStore } from './createAppStore.ts';
import { createMemoryAppStore } from './memoryAppStore.ts';
import type { AppStore } from './types.ts';
import { adminQuery, databaseUrl, havePostgres } from './testing/testPostgres.ts';

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
}, { sharedDatabase: true });

// --- PostgreSQL: a fresh database per run, dropped afterwards -------------------------------------

if (await havePostgres('the PostgreSQL store contract')) {
  const dbName = `berth_test_${randomBytes(6).toString('hex')}`;
  const testUrl = databaseUrl(dbName);

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
  }, { sharedDatabase: true });

  it('postgres: two store instances migrating a fresh database at once both succeed', async () => {
    const freshName = `${dbName}_fresh`;
    await adminQuery(`create database ${freshName}`);
    const [a, b] = [createAppStore(databaseUrl(freshName)), createAppStore(databaseUrl(freshName))];
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
