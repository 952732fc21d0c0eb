import { createAppStore } from '../store/createAppStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { loadRunStoreContract } from './testing/loadRunStore.contract.ts';

loadRunStoreContract('memory', async () => createMemoryAppStore());
loadRunStoreContract('sqlite', async () => {
  const store = createAppStore('sqlite::memory:');
  await store.migrate();
  return store;
});
