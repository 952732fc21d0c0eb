/** The AlertStore contract on PostgreSQL (fails under CI without it, skips with the reason elsewhere). */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, it } from 'vitest';
import { createAppStore } from '../store/createAppStore.ts';
import { adminQuery, databaseUrl, havePostgres } from '../store/testing/testPostgres.ts';
import { describeAlertStoreContract } from './testing/alertStore.contract.ts';

if (await havePostgres('the PostgreSQL alert store contract')) {
  const dbName = `berth_alerts_${randomBytes(6).toString('hex')}`;
  const url = databaseUrl(dbName);
  beforeAll(async () => {
    await adminQuery(`create database ${dbName}`);
  });
  afterAll(async () => {
    await adminQuery(`drop database if exists ${dbName} with (force)`);
  });

  describeAlertStoreContract('postgres', async () => {
    const store = createAppStore(url);
    await store.migrate();
    // Each test starts from empty tables.
    await adminQuery('truncate alert_states, alert_history, alert_notifications', url);
    return {
      store,
      openSecond: async () => {
        const other = createAppStore(url);
        await other.migrate();
        return other;
      },
      cleanup: () => store.close(),
    };
  }, { sharedDatabase: true });
} else {
  it.skip('AlertStore contract: postgres (PostgreSQL unreachable)', () => undefined);
}
