import { createAppStore } from '../store/createAppStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { describeProbeBucketStoreContract } from './testing/probeBucketStore.contract.ts';

describeProbeBucketStoreContract('memory', async () => {
  const store = createMemoryAppStore();
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describeProbeBucketStoreContract('sqlite', async () => {
  const store = createAppStore('sqlite::memory:');
  await store.migrate();
  return { store, cleanup: () => store.close() };
});
