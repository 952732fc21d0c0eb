import type { InformerEvent, RawObject, SharedInformer } from '../cluster/informer.ts';
import { computeAppStatus } from './computeAppStatus.ts';
import type { DeploymentJson, EventJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import type { AppStatus } from './types.ts';
import { autoscalingOf, type HpaJson } from './autoscalingStatus.ts';

export const INSTANCE_LABEL = 'app.kubernetes.io/instance';

export function appKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
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

/** The status engine's shared informers, one per kind it reads. */
export interface AppInformers {
  readonly deployments: SharedInformer<DeploymentJson & RawObject>;
  readonly replicaSets: SharedInformer<ReplicaSetJson & RawObject>;
  readonly pods: SharedInformer<PodJson & RawObject>;
  readonly events: SharedInformer<EventJson & RawObject>;
  readonly hpas: SharedInformer<HpaJson & RawObject>;
  readonly hpaEvents: SharedInformer<EventJson & RawObject>;
}

export interface AppIndex {
  /** Fresh informer listeners that keep the indexes current and mark the affected apps dirty. */
  listeners(): {
    readonly deployments: (ev: InformerEvent<RawObject>) => void;
    readonly replicaSets: (ev: InformerEvent<RawObject>) => void;
    readonly pods: (ev: InformerEvent<RawObject>) => void;
    readonly events: (ev: InformerEvent<EventJson & RawObject>) => void;
    readonly hpas: (ev: InformerEvent<HpaJson & RawObject>) => void;
    readonly hpaEvents: (ev: InformerEvent<EventJson & RawObject>) => void;
  };
  /** The app's status from the informers' caches; undefined when its Deployment is gone. */
  compute(key: string): AppStatus | undefined;
}

/**
 * Which cached objects and events belong to which app ("ns/name"), kept up to date from informer
 * events, so an app's status is computed from its own objects and not from a scan of every cache.
 */
export function createAppIndex(informers: AppInformers, markDirty: (key: string | undefined) => void, now: () => Date): AppIndex {
  const { deployments, replicaSets, pods, events, hpas, hpaEvents } = informers;
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

  return {
    listeners: () => ({
      deployments: trackOwned('Deployment', undefined),
      replicaSets: trackOwned('ReplicaSet', rsOf),
      pods: trackOwned('Pod', podsOf),
      events: onEvent,
      hpas: onHpa,
      hpaEvents: onHpaEvent,
    }),
    compute,
  };
}
