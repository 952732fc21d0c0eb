/**
 * Test support (not a test file): doubles for the server's cluster and status engine, for tests about the
 * HTTP surface (validation, auth, limits, headers) that do not need a cluster: an empty cluster that
 * accepts everything, one that cannot be reached, and a status engine that has seen nothing until the
 * test emits events.
 */
import { Readable } from 'node:stream';
import type { ClusterClient } from '../../cluster/clusterClient.ts';
import { BerthError } from '../../errors.ts';
import type { AppStatus, StatusEngine, StatusEvent } from '../../status/types.ts';

/** Every call succeeds; nothing exists. */
export function emptyCluster(): ClusterClient {
  const applied = async (): Promise<{ objects: never[]; skipped: never[]; warnings: never[] }> => ({ objects: [], skipped: [], warnings: [] });
  return {
    ping: async () => undefined,
    namespaceExists: async () => true,
    ensureNamespace: async () => false,
    apply: applied,
    dryRunApply: applied,
    get: async () => undefined,
    listAppObjects: async () => [],
    delete: async () => [],
    waitForPodsGone: async () => undefined,
    listPods: async () => [],
    streamLogs: async () => Readable.from([]),
  };
}

/** Every call fails as an unreachable API server does. */
export function unreachableCluster(): ClusterClient {
  const unreachable = (): Promise<never> => Promise.reject(new BerthError('BERTH_CLUSTER_UNREACHABLE', 'test double: no cluster'));
  return {
    ping: unreachable,
    namespaceExists: unreachable,
    ensureNamespace: unreachable,
    apply: unreachable,
    dryRunApply: unreachable,
    get: unreachable,
    listAppObjects: unreachable,
    delete: unreachable,
    waitForPodsGone: unreachable,
    listPods: unreachable,
    streamLogs: unreachable,
  };
}

/**
 * A status engine with no informers: `emit` feeds subscribers by hand. `synced` and the watch counters
 * are what /readyz and /metrics report.
 */
export function idleStatus(opts: { readonly synced?: boolean; readonly watchConnections?: number; readonly reconnects?: number } = {}): StatusEngine & {
  emit(e: StatusEvent): void;
} {
  const listeners = new Set<(e: StatusEvent) => void>();
  return {
    start: async () => undefined,
    stop: async () => undefined,
    synced: () => opts.synced ?? true,
    get: () => undefined,
    list: () => [],
    subscribe(_filter, listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    // Nothing ever happens: a wait ends only by its timeout or signal (the engine's stop aborts it).
    waitFor: (_ns, _name, _predicate, opts) =>
      new Promise<AppStatus>((_resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out')), opts.timeoutMs);
        opts.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(new Error('aborted'))), { once: true });
      }),
    stats: () => ({ watchConnections: opts.watchConnections ?? 0, reconnects: opts.reconnects ?? 0, subscribers: listeners.size }),
    emit(e) {
      for (const l of listeners) l(e);
    },
  };
}
