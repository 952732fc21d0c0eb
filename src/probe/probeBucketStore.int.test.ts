/** The bucket store contract on PostgreSQL (e2e by name: it needs the PostgreSQL server). */
import { randomBytes } from 'node:crypto';
import { createAppStore } from '../store/createAppStore.ts';
import { adminQuery, databaseUrl, havePostgres } from '../store/testing/testPostgres.ts';
import { describeProbeBucketStoreContract } from './testing/probeBucketStore.contract.ts';

if (await havePostgres('the PostgreSQL probe bucket contract')) {
  describeProbeBucketStoreContract('postgres', async () => {
    const db = `berth_probe_test_${randomBytes(6).toString('hex')}`;
    await adminQuery(`create database ${db}`);
    const store = createAppStore(databaseUrl(db));
    await store.migrate();
    return {
      store,
      async cleanup() {
        await store.close();
        await adminQuery(`drop database if exists ${db} with (force)`);
      },
    };
  });
}
