import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { createAppStore } from '../store/createAppStore.ts';
import { sqlExecutorOf } from '../store/sqlAppStore.ts';
import { adminQuery, databaseUrl, havePostgres } from '../store/testing/testPostgres.ts';
import { loadRunStoreContract } from './testing/loadRunStore.contract.ts';

// A fresh database per run, dropped afterwards; each case starts from an empty table.
if (await havePostgres('the PostgreSQL load-run store contract')) {
  const dbName = `berth_test_${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
  });
  afterAll(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });
  loadRunStoreContract('postgres', async () => {
    const store = createAppStore(databaseUrl(dbName));
    await store.migrate();
    await store.transaction(async (tx) => void (await sql`delete from load_runs`.execute(sqlExecutorOf(tx))));
    return store;
  });
}
