import { createAppStore } from '../store/createAppStore.ts';
import { createMemoryAppStore } from '../store/memoryAppStore.ts';
import { describeStackStoreContract } from './testing/stackStore.contract.ts';

describeStackStoreContract('memory', async (clock) => {
  const store = createMemoryAppStore({ clock });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});

describeStackStoreContract('sqlite :memory:', async (clock) => {
  const store = createAppStore('sqlite::memory:', { clock });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});
