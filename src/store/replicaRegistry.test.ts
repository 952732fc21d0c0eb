import { createAppStore } from './createAppStore.ts';
import { createMemoryAppStore } from './memoryAppStore.ts';
import { describeReplicaRegistryContract } from './testing/replicaRegistry.contract.ts';

describeReplicaRegistryContract('memory', async (clock) => {
  const store = createMemoryAppStore({ clock });
  return { store, cleanup: () => store.close() };
});

describeReplicaRegistryContract('sqlite', async (clock) => {
  const store = createAppStore('sqlite::memory:', { clock });
  await store.migrate();
  return { store, cleanup: () => store.close() };
});
