/** Test support: a status engine fed by hand (`set`, `remove`), with the engine's subscribe semantics. */
import type { AppStatus, StatusEngine, StatusEvent } from '../../status/types.ts';

export interface FakeStatus extends StatusEngine {
  set(namespace: string, name: string, state: AppStatus['state'], revision: number, available?: number): void;
  remove(namespace: string, name: string): void;
}

export function fakeStatus(): FakeStatus {
  const apps = new Map<string, AppStatus>();
  const listeners = new Set<(e: StatusEvent) => void>();
  let id = 0;
  const emit = (e: Omit<StatusEvent, 'id'>): void => {
    for (const l of listeners) l({ ...e, id: ++id });
  };
  return {
    start: async () => undefined,
    stop: async () => undefined,
    synced: () => true,
    get: (ns, name) => apps.get(`${ns}/${name}`),
    list: () => [...apps.values()],
    subscribe(_filter, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor: () => Promise.reject(new Error('not supported by the fake')),
    stats: () => ({ watchConnections: 0, reconnects: 0, subscribers: listeners.size }),
    set(namespace, name, state, revision, available = state === 'Available' ? 1 : 0) {
      const status: AppStatus = {
        namespace,
        name,
        revision,
        state,
        reason: state === 'Available' ? 'Ready' : 'Deploying',
        message: '',
        replicas: { desired: 1, ready: available, updated: 1, available, unavailable: 1 - available },
        pods: [],
        warnings: [],
        observedAt: new Date(0).toISOString(),
      };
      apps.set(`${namespace}/${name}`, status);
      emit({ type: 'status', namespace, name, status });
    },
    remove(namespace, name) {
      apps.delete(`${namespace}/${name}`);
      emit({ type: 'deleted', namespace, name });
    },
  };
}
