import type { KubeConfig } from '@kubernetes/client-node';
import { BerthError } from '../errors.ts';
import { nowDate, realClock, type Clock } from '../kube/clock.ts';
import { Informer, stripManagedFields, type InformerEvent, type InformerOptions, type InformerStats, type InformerTransport, type RawObject, type SharedInformer } from '../cluster/informer.ts';
import { MultiNamespaceInformer } from '../cluster/multiNamespaceInformer.ts';
import { createClientNodeTransport } from '../cluster/informerTransport.ts';
import { computeAppStatus, statusChanged } from './computeAppStatus.ts';
import type { DeploymentJson, EventJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import type { AppStatus, StatusEngine, StatusEvent, StatusFilter } from './types.ts';
import { autoscalingOf, type HpaJson } from './autoscalingStatus.ts';

export { statusChanged } from './computeAppStatus.ts';

export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=berth';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
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

function appKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * Which app a berth-labelled object belongs to; Deployments without the label are their own app. The
 * kind is passed in because list items (unlike watch objects) usually carry no `kind`.
 */
function appOf(o: RawObject, kind: string): string | undefined {
  const ns = o.metadata?.namespace;
  const labels = (o.metadata as { labels?: Record<string, string> } | undefined)?.labels;
  const instance = labels?.[INSTANCE_LABEL] ?? (kind === 'Deployment' ? o.metadata?.name : undefined);
  return ns && instance ? appKey(ns, instance) : undefined;
}

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
    // 1,000 apps keep ~4,000 objects here; their managedFields are never read and are as large as the rest.
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
  const deployments = informer<DeploymentJson & RawObject>(RESOURCES.deployments);
  const replicaSets = informer<ReplicaSetJson & RawObject>(RESOURCES.replicasets);
  const pods = informer<PodJson & RawObject>(RESOURCES.pods);
  const events = informer<EventJson & RawObject>(RESOURCES.events);
  const hpas = informer<HpaJson & RawObject>(RESOURCES.hpas);
  const hpaEvents = informer<EventJson & RawObject>(RESOURCES.hpaEvents);
  const informers = { deployments, replicasets: replicaSets, pods, events, hpas, hpaEvents } as const;

  // Indexes from app to its objects' cache keys, and from an involved object to the events about it.
  const deploymentOf = new Map<string, string>();
  const rsOf = new Map<string, Set<string>>();
  const podsOf = new Map<string, Set<string>>();
  /** "ns/Kind/name" of a Deployment, ReplicaSet or Pod → app key. */
  const ownerApp = new Map<string, string>();
  /** "ns/Kind/name" of the involved object → event cache keys. */
  const eventsAbout = new Map<string, Set<string>>();
  /**
   * "ns/ReplicaSet/name" → keys of events about its pods, found by name (pods are "<rs>-<suffix>"), so
   * events of pods that are already gone (a replaced crash-looping pod) still explain the app.
   */
  const podEventsByRs = new Map<string, Set<string>>();

  /** app key → the cache key of its HPA; "ns/name" of an HPA → keys of its events. */
  const hpaOf = new Map<string, string>();
  const hpaEventsOf = new Map<string, Set<string>>();

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

  const addTo = (index: Map<string, Set<string>>, key: string, value: string): void => {
    let s = index.get(key);
    if (!s) index.set(key, (s = new Set()));
    s.add(value);
  };
  const removeFrom = (index: Map<string, Set<string>>, key: string, value: string): void => {
    const s = index.get(key);
    if (!s) return;
    s.delete(value);
    if (s.size === 0) index.delete(key);
  };
  const cacheKey = (o: RawObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const objectRef = (ns: string | undefined, kind: string, name: string | undefined): string => `${ns ?? ''}/${kind}/${name ?? ''}`;

  const markDirty = (key: string | undefined): void => {
    if (key === undefined) return;
    dirty.add(key);
    if (!started || flushTimer) return;
    flushTimer = setTimeout(flush, debounceMs);
  };

  /** Keeps the app indexes of one owned kind up to date and marks old and new apps dirty. */
  const trackOwned = (kind: 'Deployment' | 'ReplicaSet' | 'Pod', index: Map<string, Set<string>> | undefined) => (ev: InformerEvent<RawObject>): void => {
    const obj = ev.object;
    const key = cacheKey(obj);
    const ref = objectRef(obj.metadata?.namespace, kind, obj.metadata?.name);
    const before = ev.type === 'update' ? appOf(ev.old, kind) : undefined;
    const after = appOf(obj, kind);
    if (before !== undefined && before !== after) {
      if (index) removeFrom(index, before, key);
      else if (deploymentOf.get(before) === key) deploymentOf.delete(before);
      markDirty(before);
    }
    if (ev.type === 'delete') {
      if (after !== undefined) {
        if (index) removeFrom(index, after, key);
        else if (deploymentOf.get(after) === key) deploymentOf.delete(after);
      }
      ownerApp.delete(ref);
    } else if (after !== undefined) {
      if (index) addTo(index, after, key);
      else deploymentOf.set(after, key);
      ownerApp.set(ref, after);
    }
    markDirty(after);
  };

  const involvedRef = (e: EventJson): string | undefined => {
    const io = e.involvedObject;
    if (!io?.kind || !io.name) return undefined;
    return objectRef(io.namespace ?? e.metadata?.namespace, io.kind, io.name);
  };

  /** The app an event is about: by the involved object, or for a vanished pod by its ReplicaSet's name. */
  const appOfEvent = (e: EventJson): string | undefined => {
    const ref = involvedRef(e);
    if (!ref) return undefined;
    const direct = ownerApp.get(ref);
    if (direct) return direct;
    const rsRef = rsRefOfPodEvent(e);
    return rsRef ? ownerApp.get(rsRef) : undefined;
  };

  const rsRefOfPodEvent = (e: EventJson): string | undefined => {
    const io = e.involvedObject;
    if (io?.kind !== 'Pod' || !io.name) return undefined;
    return objectRef(io.namespace ?? e.metadata?.namespace, 'ReplicaSet', io.name.replace(/-[^-]+$/, ''));
  };

  const onEvent = (ev: InformerEvent<EventJson & RawObject>): void => {
    const key = cacheKey(ev.object);
    const refs = [involvedRef(ev.object), rsRefOfPodEvent(ev.object)];
    const indexes = [eventsAbout, podEventsByRs];
    refs.forEach((ref, i) => {
      const index = indexes[i];
      if (!ref || !index) return;
      if (ev.type === 'delete') removeFrom(index, ref, key);
      else addTo(index, ref, key);
    });
    markDirty(appOfEvent(ev.object));
  };

  const onHpa = (ev: InformerEvent<HpaJson & RawObject>): void => {
    const key = cacheKey(ev.object);
    const before = ev.type === 'update' ? appOf(ev.old, 'HorizontalPodAutoscaler') : undefined;
    const after = appOf(ev.object, 'HorizontalPodAutoscaler');
    if (before !== undefined && before !== after && hpaOf.get(before) === key) {
      hpaOf.delete(before);
      markDirty(before);
    }
    if (after !== undefined) {
      if (ev.type === 'delete') {
        if (hpaOf.get(after) === key) hpaOf.delete(after);
      } else hpaOf.set(after, key);
    }
    markDirty(after);
  };

  const onHpaEvent = (ev: InformerEvent<EventJson & RawObject>): void => {
    const io = ev.object.involvedObject;
    if (!io?.name) return;
    const hpaKey = `${io.namespace ?? ev.object.metadata?.namespace ?? ''}/${io.name}`;
    if (ev.type === 'delete') removeFrom(hpaEventsOf, hpaKey, cacheKey(ev.object));
    else addTo(hpaEventsOf, hpaKey, cacheKey(ev.object));
    for (const [app, key] of hpaOf) if (key === hpaKey) markDirty(app);
  };

  const autoscalingFor = (key: string): AppStatus['autoscaling'] => {
    const hKey = hpaOf.get(key);
    if (!hKey) return undefined;
    const { namespace, name } = splitKey(hKey);
    const hpa = hpas.get(namespace, name);
    if (!hpa) return undefined;
    const evs = [...(hpaEventsOf.get(hKey) ?? [])].map((k) => hpaEvents.get(namespace, splitKey(k).name)).filter((x) => x !== undefined);
    return autoscalingOf(hpa, evs);
  };

  const eventsFor = (ref: string, index = eventsAbout): EventJson[] => {
    const keys = index.get(ref);
    if (!keys) return [];
    const out: EventJson[] = [];
    for (const k of keys) {
      const { namespace, name } = splitKey(k);
      const e = events.get(namespace, name);
      if (e) out.push(e);
    }
    return out;
  };

  const compute = (key: string): AppStatus | undefined => {
    const { namespace, name } = splitKey(key);
    const dKey = deploymentOf.get(key);
    const deployment = dKey ? deployments.get(namespace, splitKey(dKey).name) : undefined;
    if (!deployment) return undefined;
    const rsList = [...(rsOf.get(key) ?? [])].map((k) => replicaSets.get(namespace, splitKey(k).name)).filter((x) => x !== undefined);
    const podList = [...(podsOf.get(key) ?? [])].map((k) => pods.get(namespace, splitKey(k).name)).filter((x) => x !== undefined);
    const refs = [
      objectRef(namespace, 'Deployment', deployment.metadata?.name),
      ...rsList.map((rs) => objectRef(namespace, 'ReplicaSet', rs.metadata?.name)),
      ...podList.map((p) => objectRef(namespace, 'Pod', p.metadata?.name)),
    ];
    const evs = new Set<EventJson>(refs.flatMap((ref) => eventsFor(ref)));
    for (const rs of rsList) for (const e of eventsFor(objectRef(namespace, 'ReplicaSet', rs.metadata?.name), podEventsByRs)) evs.add(e);
    const status = computeAppStatus({ namespace, name, deployment, replicaSets: rsList, pods: podList, events: [...evs], now: now() });
    const autoscaling = autoscalingFor(key);
    return autoscaling ? { ...status, autoscaling } : status;
  };

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
      const next = compute(key);
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
      unsubscribes.push(
        deployments.on(trackOwned('Deployment', undefined)),
        replicaSets.on(trackOwned('ReplicaSet', rsOf)),
        pods.on(trackOwned('Pod', podsOf)),
        events.on(onEvent),
        hpas.on(onHpa),
        hpaEvents.on(onHpaEvent),
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
