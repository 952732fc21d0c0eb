import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { createAppStore } from './createAppStore.ts';
import { sqlExecutorOf } from './sqlAppStore.ts';
import { describeReplicaRegistryContract } from './testing/replicaRegistry.contract.ts';
import { adminQuery, databaseUrl, havePostgres } from './testing/testPostgres.ts';

if (await havePostgres('the PostgreSQL replica registry contract')) {
  const dbName = `berth_test_${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
  });
  afterAll(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });
  describeReplicaRegistryContract('postgres', async (clock) => {
    const store = createAppStore(databaseUrl(dbName), { clock });
    await store.migrate();
    // Tests share the database: each starts from empty tables.
    await store.transaction(async (tx) => {
      await sql`delete from revision_claims`.execute(sqlExecutorOf(tx));
      await sql`delete from berth_replicas`.execute(sqlExecutorOf(tx));
      await sql`delete from apps`.execute(sqlExecutorOf(tx));
    });
    return { store, cleanup: () => store.close() };
  });
}
