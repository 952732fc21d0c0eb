import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createAppStore } from '../store/createAppStore.ts';
import { adminQuery, databaseUrl, havePostgres } from '../store/testing/testPostgres.ts';
import { describeStackStoreContract } from './testing/stackStore.contract.ts';

if (await havePostgres('the PostgreSQL stack store contract')) {
  const dbName = `berth_test_${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
  });
  afterAll(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });
  describeStackStoreContract('postgres', async (clock) => {
    const store = createAppStore(databaseUrl(dbName), { clock });
    await store.migrate();
    // Tests share the database; each starts from empty tables.
    await store.transaction(async (tx) => {
      const { sqlExecutorOf } = await import('../store/sqlAppStore.ts');
      await sqlExecutorOf(tx).deleteFrom('stack_revisions').execute();
      await sqlExecutorOf(tx).deleteFrom('stacks').execute();
    });
    return { store, cleanup: () => store.close() };
  });
}
