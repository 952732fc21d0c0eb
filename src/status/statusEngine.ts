import type { KubeConfig } from '@kubernetes/client-node';
import { BerthError } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { Informer, stripManagedFields, type InformerOptions, type InformerStats, type InformerTransport, type RawObject, type SharedInformer } from '../cluster/informer.ts';
import { MultiNamespaceInformer } from '../cluster/multiNamespaceInformer.ts';
import { createClientNodeTransport } from '../cluster/informerTransport.ts';
import { appKey, createAppIndex, splitKey } from './appIndex.ts';
import { statusChanged } from './computeAppStatus.ts';
import { statusFields } from './statusFields.ts';
import type { DeploymentJson, EventJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import type { AppStatus, StatusEngine, StatusEvent, StatusFilter } from './types.ts';
import type { HpaJson } from './autoscalingStatus.ts';

export { statusChanged } from './computeAppStatus.ts';

export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=berth';
/** The sandbox and kube-apiserver both serve this field selector on core/v1 events. */
export const WARNING_EVENTS_SELECTOR = 'type=Warning';
/** The HPA's own events (Normal SuccessfulRescale included): when and why replicas changed. */
export const HPA_EVENTS_SELECTOR = 'involvedObject.kind=HorizontalPodAutoscaler';

export interface StatusEngineOptions {
  readonly kubeConfig: KubeConfig;
  /**
   * Watch only these namespaces (berth's managed namespaces): one informer per kind PER namespace, so
   * berth needs list/watch only in those namespaces (Roles) instead of cluster-wide (a ClusterRole).
   * Absent: one informer per kind across all namespaces (the embedded sandbox, `berth up`).
   */
  readonly namespaces?: readonly string[];
  /** Defaults to client-node over the kubeconfig. */
  readonly transport?: InformerTransport;
  /** Status events kept for `afterId` replay (default 1000). */
  readonly bufferSize?: number;
  /** How long changes to one app are gathered before it is recomputed (default 10 ms). */
  readonly debounceMs?: number;
  /** Time source of status timestamps and of the informers' timers and back-off. */
  readonly clock?: Clock;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly onError?: (err: unknown) => void;
}

export interface NamedInformerStats extends InformerStats {
  readonly resource: string;
}

/** The engine plus what tests, /metrics and the benchmark look at. */
export interface BerthStatusEngine extends StatusEngine {
  informerStats(): NamedInformerStats[];
}

interface Subscriber {
  readonly filter: StatusFilter;
  readonly listener: (event: StatusEvent) => void;
}

const RESOURCES = {
  deployments: { path: '/apis/apps/v1/deployments', labelSelector: MANAGED_BY_SELECTOR },
  replicasets: { path: '/apis/apps/v1/replicasets', labelSelector: MANAGED_BY_SELECTOR },
  pods: { path: '/api/v1/pods', labelSelector: MANAGED_BY_SELECTOR },
  events: { path: '/api/v1/events', fieldSelector: WARNING_EVENTS_SELECTOR },
  hpas: { path: '/apis/autoscaling/v2/horizontalpodautoscalers', labelSelector: MANAGED_BY_SELECTOR },
  hpaEvents: { path: '/api/v1/events', fieldSelector: HPA_EVENTS_SELECTOR },
} as const;

function matches(filter: StatusFilter, namespace: string, name: string): boolean {
  if (filter.namespace !== undefined && filter.namespace !== namespace) return false;
  if (filter.name !== undefined && filter.name !== name) return false;
  if (filter.namespaces !== undefined && !filter.namespaces.has(namespace)) return false;
  return true;
}

/**
 * The status engine: one shared informer each for berth's Deployments, ReplicaSets, Pods and
 * HorizontalPodAutoscalers, for Warning events and for the HPAs' events (per watched namespace when `namespaces` is given), whatever the number of subscribers. Each change marks only the affected app dirty;
 * dirty apps are recomputed after a short debounce (a burst of pod updates becomes one computation)
 * and a StatusEvent goes out only when the status really changed.
 */
export function createStatusEngine(opts: StatusEngineOptions): BerthStatusEngine {
  const transport = opts.transport ?? createClientNodeTransport(opts.kubeConfig);
  const clock = opts.clock ?? realClock;
  const now = (): Date => nowDate(clock);
  const bufferSize = Math.max(1, opts.bufferSize ?? 1000);
  const debounceMs = opts.debounceMs ?? 10;
  const informerOpts = {
    transport,
    clock,
    // Warning events and HPAs keep their shape; their managedFields are never read and are as large as the rest.
    transform: stripManagedFields,
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.onError ? { onError: opts.onError } : {}),
  };
  const namespaces = opts.namespaces;
  // An empty list would silently watch nothing; "all namespaces" is spelled by leaving it out.
  if (namespaces !== undefined && namespaces.length === 0) {
    throw new BerthError('BERTH_CONFIG_INVALID', 'the status engine was given an empty namespace list', { hint: 'Name at least one managed namespace, or leave managedNamespaces unset to watch every namespace.' });
  }
  const informer = <T extends RawObject>(resource: Omit<InformerOptions, 'transport'>): SharedInformer<T> =>
    namespaces === undefined ? new Informer<T>({ ...informerOpts, ...resource }) : new MultiNamespaceInformer<T>({ ...informerOpts, ...resource, namespaces });
  // One of each per app: cached as only the fields the status computation reads (statusFields.ts).
  const deployments = informer<DeploymentJson & RawObject>({ ...RESOURCES.deployments, transform: statusFields.deployment });
  const replicaSets = informer<ReplicaSetJson & RawObject>({ ...RESOURCES.replicasets, transform: statusFields.replicaSet });
  const pods = informer<PodJson & RawObject>({ ...RESOURCES.pods, transform: statusFields.pod });
  const events = informer<EventJson & RawObject>(RESOURCES.events);
  const hpas = informer<HpaJson & RawObject>(RESOURCES.hpas);
  const hpaEvents = informer<EventJson & RawObject>(RESOURCES.hpaEvents);
  const informers = { deployments, replicasets: replicaSets, pods, events, hpas, hpaEvents } as const;

  const statuses = new Map<string, AppStatus>();
  const subscribers = new Set<Subscriber>();
  const buffer: StatusEvent[] = [];
  // Ids start at this process's start time (µs), so a Last-Event-ID from an earlier berth process (a
  // restart, another replica) is always recognised as not ours instead of silently skipping events.
  let nextId = Date.now() * 1000 + 1;
  const dirty = new Set<string>();
  let flushTimer: NodeJS.Timeout | undefined;
  let started = false;
  const unsubscribes: (() => void)[] = [];
  const waiters = new Set<(err: unknown) => void>();

  const markDirty = (key: string | undefined): void => {
    if (key === undefined) return;
    dirty.add(key);
    if (!started || flushTimer) return;
    flushTimer = setTimeout(flush, debounceMs);
  };
  const index = createAppIndex({ deployments, replicaSets, pods, events, hpas, hpaEvents }, markDirty, now);

  const publish = (event: Omit<StatusEvent, 'id'>): void => {
    const full: StatusEvent = { id: nextId++, ...event };
    buffer.push(full);
    if (buffer.length > bufferSize) buffer.splice(0, buffer.length - bufferSize);
    for (const s of [...subscribers]) {
      if (!matches(s.filter, full.namespace, full.name)) continue;
      try {
        s.listener(full);
      } catch (err) {
        // One subscriber's failure (a closed SSE socket) must not starve the others.
        opts.onError?.(err);
      }
    }
  };

  function subscribe(filter: StatusFilter, listener: (event: StatusEvent) => void, subOpts?: { readonly afterId?: number }): () => void {
    const sub: Subscriber = { filter, listener };
    const afterId = subOpts?.afterId;
    if (afterId !== undefined) {
      const oldest = buffer[0]?.id ?? nextId;
      if (afterId >= nextId || afterId < oldest - 1) {
        // A gap (an id from another process, or older than the buffer): like a re-list after 410 Gone,
        // deliver the current status of every app the filter matches, then changes as usual.
        for (const [key, status] of statuses) {
          const { namespace, name } = splitKey(key);
          if (matches(filter, namespace, name)) listener({ id: nextId - 1, type: 'status', namespace, name, status });
        }
      } else {
        for (const e of buffer) if (e.id > afterId && matches(filter, e.namespace, e.name)) listener(e);
      }
    }
    subscribers.add(sub);
    return () => {
      subscribers.delete(sub);
    };
  }

  function flush(): void {
    flushTimer = undefined;
    const keys = [...dirty];
    dirty.clear();
    for (const key of keys) {
      const { namespace, name } = splitKey(key);
      const previous = statuses.get(key);
      const next = index.compute(key);
      if (!next) {
        if (previous) {
          statuses.delete(key);
          publish({ type: 'deleted', namespace, name });
        }
        continue;
      }
      if (!statusChanged(previous, next)) continue;
      statuses.set(key, next);
      publish({ type: 'status', namespace, name, status: next });
    }
  }

  return {
    async start() {
      if (started) return;
      const listen = index.listeners();
      unsubscribes.push(
        deployments.on(listen.deployments),
        replicaSets.on(listen.replicaSets),
        pods.on(listen.pods),
        events.on(listen.events),
        hpas.on(listen.hpas),
        hpaEvents.on(listen.hpaEvents),
      );
      try {
        await Promise.all(Object.values(informers).map((i) => i.start()));
      } catch (err) {
        for (const i of Object.values(informers)) i.stop();
        throw err;
      }
      started = true;
      // Everything listed so far becomes visible at once, so get() works right after start().
      flush();
    },
    async stop() {
      started = false;
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      for (const i of Object.values(informers)) i.stop();
      for (const u of unsubscribes.splice(0)) u();
      for (const reject of [...waiters]) reject(new BerthError('BERTH_INTERNAL', 'the status engine stopped while waiting for a rollout'));
    },
    synced() {
      return Object.values(informers).every((i) => i.synced());
    },
    get(namespace, name) {
      return statuses.get(appKey(namespace, name));
    },
    list(filter = {}) {
      return [...statuses.values()]
        .filter((s) => matches(filter, s.namespace, s.name))
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    },
    subscribe,
    waitFor(namespace, name, done, waitOpts) {
      return new Promise<AppStatus>((resolve, reject) => {
        const signal = waitOpts.signal;
        if (signal?.aborted) return reject(signal.reason);
        const current = statuses.get(appKey(namespace, name));
        if (current && done(current)) return resolve(current);
        let last = current;
        const cleanup = (): void => {
          clearTimeout(timer);
          unsubscribe();
          signal?.removeEventListener('abort', onAbort);
          waiters.delete(fail);
        };
        const fail = (err: unknown): void => {
          cleanup();
          reject(err);
        };
        const onAbort = (): void => fail(signal?.reason);
        const timer = setTimeout(() => {
          const where = last ? `; last status: ${last.state}/${last.reason}: ${last.message}` : '; the app has no status yet';
          fail(new BerthError('BERTH_ROLLOUT_TIMEOUT', `${namespace}/${name} did not reach the wanted state within ${waitOpts.timeoutMs} ms${where}`));
        }, waitOpts.timeoutMs);
        const unsubscribe = subscribe({ namespace, name }, (ev) => {
          if (ev.type !== 'status' || !ev.status) return;
          last = ev.status;
          if (done(ev.status)) {
            cleanup();
            resolve(ev.status);
          }
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.add(fail);
      });
    },
    stats() {
      const all = Object.values(informers).map((i) => i.stats());
      return {
        watchConnections: all.reduce((n, s) => n + s.watchConnections, 0),
        reconnects: all.reduce((n, s) => n + s.reconnects, 0),
        subscribers: subscribers.size,
      };
    },
    informerStats() {
      return Object.entries(informers).map(([resource, i]) => ({ resource, ...i.stats() }));
    },
  };
}
