/**
 * Test support (never built into the package): an in-memory cluster for the deploy engine's tests, and
 * a status engine that reads it: an app whose Deployment exists is Available at the revision annotated
 * on it, as a cluster whose pods start at once would report.
 */
import { Readable } from 'node:stream';
import { refKey, refOf, type ClusterClient } from '../../cluster/clusterClient.ts';
import type { KubeObject } from '../../manifests/kubeObject.ts';
import type { AppStatus, StatusEngine } from '../../status/types.ts';
import type { ObjectRef } from '../../store/types.ts';
import { REVISION_ANNOTATION } from '../changePlan.ts';

export interface FakeCluster extends ClusterClient {
  /** Live objects by refKey. */
  readonly objects: Map<string, KubeObject>;
  /** How many times `apply` was called. */
  applies: number;
  /** When set, `apply` throws it (once per call) instead of applying. */
  failApply: unknown;
  /** Edits or removes a live object as someone outside berth would. */
  tamper(ref: ObjectRef, edit: (o: KubeObject) => KubeObject | undefined): void;
  /** Calls `listener` after every change; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

const clone = (o: KubeObject): KubeObject => structuredClone(o);

export function fakeCluster(): FakeCluster {
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  const applyResult = { skipped: [] as ObjectRef[], warnings: [] };
  const cluster: FakeCluster = {
    objects: new Map(),
    applies: 0,
    failApply: undefined,
    tamper(ref, edit) {
      const k = refKey(ref);
      const current = cluster.objects.get(k);
      const next = current ? edit(clone(current)) : undefined;
      if (next) cluster.objects.set(k, next);
      else cluster.objects.delete(k);
      changed();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    ping: async () => undefined,
    namespaceExists: async () => true,
    ensureNamespace: async () => false,
    async apply(objects) {
      cluster.applies++;
      if (cluster.failApply !== undefined) throw cluster.failApply;
      for (const o of objects) cluster.objects.set(refKey(refOf(o)), clone(o));
      changed();
      return { objects: objects.map(clone), ...applyResult };
    },
    dryRunApply: async (objects) => ({ objects: objects.map(clone), ...applyResult }),
    get: async (ref) => cluster.objects.get(refKey(ref)),
    listAppObjects: async (namespace, name) =>
      [...cluster.objects.values()].filter((o) => o.metadata.namespace === namespace && o.metadata.labels?.['app.kubernetes.io/instance'] === name).map(clone),
    async delete(refs) {
      const gone = refs.filter((r) => cluster.objects.delete(refKey(r)));
      changed();
      return gone;
    },
    waitForPodsGone: async () => undefined,
    listPods: async () => [],
    streamLogs: async () => Readable.from([]),
  };
  return cluster;
}

/** Available at the revision on the app's Deployment; nothing when it has none. */
export function statusOf(cluster: FakeCluster, namespace: string, name: string): AppStatus | undefined {
  const d = cluster.objects.get(refKey({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }));
  if (!d) return undefined;
  const replicas = Number((d as { spec?: { replicas?: unknown } }).spec?.replicas ?? 1);
  const revision = Number(d.metadata.annotations?.[REVISION_ANNOTATION] ?? Number.NaN);
  return {
    namespace,
    name,
    revision: Number.isFinite(revision) ? revision : null,
    state: 'Available',
    reason: 'Ready',
    message: 'all replicas ready',
    replicas: { desired: replicas, ready: replicas, updated: replicas, available: replicas, unavailable: 0 },
    pods: [],
    warnings: [],
    observedAt: new Date(0).toISOString(),
  };
}

/** A status engine over `cluster` (see statusOf). */
export function fakeStatus(cluster: FakeCluster): StatusEngine {
  return {
    start: async () => undefined,
    stop: async () => undefined,
    synced: () => true,
    get: (namespace, name) => statusOf(cluster, namespace, name),
    list: () => [],
    subscribe: () => () => undefined,
    waitFor: (namespace, name, done, opts) =>
      new Promise<AppStatus>((resolve, reject) => {
        const end = (): void => {
          clearTimeout(timer);
          unsubscribe();
        };
        const check = (): void => {
          const s = statusOf(cluster, namespace, name);
          if (s && done(s)) {
            end();
            resolve(s);
          }
        };
        const timer = setTimeout(() => {
          end();
          reject(new Error('timed out'));
        }, opts.timeoutMs);
        const unsubscribe = cluster.onChange(check);
        opts.signal?.addEventListener('abort', () => (end(), reject(new Error('aborted'))), { once: true });
        check();
      }),
    stats: () => ({ watchConnections: 0, reconnects: 0, subscribers: 0 }),
  };
}
