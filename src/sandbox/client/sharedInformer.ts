import type { ClusterClient, KObject, ListOptions, ResourceKey, WatchEvent } from '../types.ts';
import type { Clock } from './clock.ts';
import { realClock, sleep } from './clock.ts';
import { controllerRef, objKey } from './objects.ts';

export interface InformerHandler {
  add?(obj: KObject): void;
  update?(oldObj: KObject, obj: KObject): void;
  delete?(obj: KObject): void;
}

/**
 * A shared informer: list, then watch from the list's resourceVersion, keeping a local cache and
 * fanning changes out to handlers. On a watch ERROR (e.g. 410 Gone after compaction) it re-lists and
 * reconciles the cache, emitting the differences, as client-go's reflector does.
 */
export class SharedInformer {
  private readonly store = new Map<string, KObject>();
  /** Controller-owner uid → keys, so "pods of this ReplicaSet" is not a scan of every pod. */
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly handlers: InformerHandler[] = [];
  private unwatch: (() => void) | undefined;
  private startPromise: Promise<void> | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private relisting = false;

  constructor(
    private readonly client: ClusterClient,
    readonly res: ResourceKey,
    private readonly opts: ListOptions = {},
    private readonly clock: Clock = realClock,
  ) {}

  addHandler(h: InformerHandler): void {
    this.handlers.push(h);
    // Late subscribers see the current state, as a shared informer replays its cache.
    if (this.startPromise) for (const o of this.store.values()) h.add?.(o);
  }

  /** Idempotent; resolves once the initial list is in the cache. */
  start(): Promise<void> {
    this.startPromise ??= this.listAndWatch();
    return this.startPromise;
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.unwatch?.();
    this.unwatch = undefined;
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Objects whose controller ownerReference points at `uid`. */
  listByOwner(uid: string | undefined): KObject[] {
    if (!uid) return [];
    const out: KObject[] = [];
    for (const k of this.byOwner.get(uid) ?? []) {
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  private put(k: string, o: KObject | undefined): void {
    const old = this.store.get(k);
    const oldUid = old ? controllerRef(old)?.uid : undefined;
    const newUid = o ? controllerRef(o)?.uid : undefined;
    if (oldUid && oldUid !== newUid) {
      const set = this.byOwner.get(oldUid);
      set?.delete(k);
      if (set && set.size === 0) this.byOwner.delete(oldUid);
    }
    if (newUid) {
      let set = this.byOwner.get(newUid);
      if (!set) {
        set = new Set();
        this.byOwner.set(newUid, set);
      }
      set.add(k);
    }
    if (o) this.store.set(k, o);
    else this.store.delete(k);
  }

  list(namespace?: string): KObject[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /**
   * Resolves after the first list attempt either way: a resource the server cannot list must not
   * block every controller's start; the informer keeps retrying in the background.
   */
  private listAndWatch(): Promise<void> {
    return new Promise((resolveStart) => {
      void (async () => {
        for (let attempt = 0; !this.stopped; attempt++) {
          try {
            const { items, resourceVersion } = await this.client.list(this.res, this.opts);
            this.replace(items);
            this.watchFrom(resourceVersion);
            resolveStart();
            return;
          } catch (err) {
            if (attempt === 0) {
              if (process.env['BERTH_SANDBOX_DEBUG']) console.error(`[sandbox/informer ${this.res.resource}] list failed`, err);
              resolveStart();
            }
            await sleep(this.clock, Math.min(5000, 50 * 2 ** attempt), this.abort.signal);
          }
        }
        resolveStart();
      })();
    });
  }

  private watchFrom(resourceVersion: string): void {
    if (this.stopped) return;
    try {
      this.unwatch = this.client.watch(this.res, { ...this.opts, resourceVersion }, (ev) => this.onEvent(ev));
    } catch {
      this.relist();
    }
  }

  private relist(): void {
    if (this.relisting || this.stopped) return;
    this.relisting = true;
    this.unwatch?.();
    this.unwatch = undefined;
    void (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        await sleep(this.clock, Math.min(1000, 10 * 2 ** attempt), this.abort.signal);
        try {
          const { items, resourceVersion } = await this.client.list(this.res, this.opts);
          this.replace(items);
          this.relisting = false;
          this.watchFrom(resourceVersion);
          return;
        } catch {
          // keep retrying with back-off
        }
      }
    })();
  }

  private replace(items: KObject[]): void {
    const seen = new Set<string>();
    for (const o of items) {
      const k = objKey(o);
      seen.add(k);
      const old = this.store.get(k);
      this.put(k, o);
      if (!old) this.emit((h) => h.add?.(o));
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit((h) => h.update?.(old, o));
    }
    for (const [k, o] of [...this.store]) {
      if (!seen.has(k)) {
        this.put(k, undefined);
        this.emit((h) => h.delete?.(o));
      }
    }
  }

  private onEvent(ev: WatchEvent): void {
    if (this.stopped) return;
    if (ev.type === 'ERROR') {
      this.relist();
      return;
    }
    if (ev.type === 'BOOKMARK') return;
    const o = ev.object;
    const k = objKey(o);
    const old = this.store.get(k);
    if (ev.type === 'DELETED') {
      this.put(k, undefined);
      this.emit((h) => h.delete?.(old ?? o));
      return;
    }
    this.put(k, o);
    if (old) this.emit((h) => h.update?.(old, o));
    else this.emit((h) => h.add?.(o));
  }

  private emit(fn: (h: InformerHandler) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (err) {
        if (process.env['BERTH_SANDBOX_DEBUG']) console.error(`[sandbox/informer ${this.res.resource}]`, err);
      }
    }
  }
}

/** One informer per resource, shared by every controller, as kube-controller-manager does. */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer>();

  constructor(
    private readonly client: ClusterClient,
    private readonly clock: Clock = realClock,
  ) {}

  for(res: ResourceKey): SharedInformer {
    const k = `${res.group}/${res.version}/${res.resource}`;
    let inf = this.informers.get(k);
    if (!inf) {
      inf = new SharedInformer(this.client, res, {}, this.clock);
      this.informers.set(k, inf);
    }
    return inf;
  }

  stopAll(): void {
    for (const i of this.informers.values()) i.stop();
  }
}
