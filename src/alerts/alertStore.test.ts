import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppStore } from '../store/createAppStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { describeAlertStoreContract } from './testing/alertStore.contract.ts';

describeAlertStoreContract('memory', async () => {
  const store = createMemoryAppStore();
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describeAlertStoreContract('sqlite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-alerts-'));
  const url = `sqlite:${join(dir, 'berth.db')}`;
  const store = createAppStore(url);
  await store.migrate();
  return {
    store,
    openSecond: async () => {
      const other = createAppStore(url);
      await other.migrate();
      return other;
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}, { sharedDatabase: true });
