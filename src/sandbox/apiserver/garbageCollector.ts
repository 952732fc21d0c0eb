import type { KObject } from '../types.ts';
import { ApiError } from '../types.ts';
import type { DeleteOpts } from './apiTypes.ts';
import { readyToFinalize } from './deletion.ts';
import { arr, deepEqual, obj } from './json.ts';
import type { HistoryEntry, ObjectStore } from './objectStore.ts';
import { storageId } from './resourceRegistry.ts';
import type { ResourceDef, ResourceRegistry } from './resourceRegistry.ts';

/** Deletion with the API server's semantics (grace periods, propagation finalizers); the collector's only way to delete. */
export interface Deleter {
  delete(d: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOpts): unknown;
}

/**
 * kube-controller-manager's garbage collector and namespace controller in one: dependents whose
 * owners are gone are deleted, `orphan` and `foregroundDeletion` finalizers are carried out, and a
 * terminating namespace is emptied before its `kubernetes` finalizer is removed. Store events say
 * which objects to revisit; a periodic full sweep is the safety net.
 */
export class GarbageCollector {
  private timer: NodeJS.Timeout | undefined;
  /** "sid\u0000namespace\u0000name" of objects the collector should look at next. */
  private readonly queue = new Set<string>();
  private fullSweep = true;
  private interval: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly defsBySid = new Map<string, ResourceDef | undefined>();

  constructor(
    private readonly store: ObjectStore,
    private readonly registry: Pick<ResourceRegistry, 'defs' | 'byKind'>,
    private readonly deleter: Deleter,
  ) {
    this.unsubscribe = this.store.subscribe((e) => this.note(e));
  }

  start(intervalMs: number): void {
    this.stopped = false;
    this.interval ??= setInterval(() => {
      this.fullSweep = true;
      this.schedule();
    }, intervalMs);
    this.interval.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    if (this.timer) clearTimeout(this.timer);
    this.interval = undefined;
    this.timer = undefined;
    this.unsubscribe();
  }

  /** Runs a pass soon (coalescing bursts of deletions into one). */
  schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, 20);
    this.timer.unref();
  }

  /** One pass of the garbage collector and the namespace controller. */
  run(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      this.pass();
    } finally {
      this.running = false;
    }
  }

  /** The stored version's definition for a storage id. */
  private defBySid(sid: string): ResourceDef | undefined {
    if (!this.defsBySid.has(sid)) this.defsBySid.set(sid, this.registry.defs.find((d) => storageId(d) === sid && !d.storageVersion));
    return this.defsBySid.get(sid);
  }

  private enqueue(sid: string, o: KObject): void {
    this.queue.add(`${sid}\u0000${o.metadata.namespace ?? ''}\u0000${o.metadata.name ?? ''}`);
  }

  /** Decides from one store event which objects the collector must revisit. */
  private note(e: HistoryEntry): void {
    const o = e.object;
    const before = e.prev;
    let wake = false;
    if (e.type === 'DELETED' && o.metadata.uid) {
      for (const dep of this.store.dependentsOf(o.metadata.uid)) this.enqueue(dep.sid, dep.object);
      wake = true;
    }
    if (o.metadata.deletionTimestamp && e.type !== 'DELETED') {
      this.enqueue(e.sid, o);
      // Foreground deletion reaches the dependents; their owner's state changed.
      for (const dep of this.store.dependentsOf(o.metadata.uid ?? '')) this.enqueue(dep.sid, dep.object);
      wake = true;
    }
    if (o.metadata.ownerReferences && e.type !== 'DELETED' && (e.type === 'ADDED' || !deepEqual(before?.metadata.ownerReferences, o.metadata.ownerReferences))) {
      this.enqueue(e.sid, o);
      wake = true;
    }
    if (o.metadata.namespace) {
      const ns = this.store.peek('/namespaces', undefined, o.metadata.namespace);
      if (ns?.metadata.deletionTimestamp) {
        this.enqueue('/namespaces', ns);
        wake = true;
      }
      // An owner finishing its foreground deletion waits for this dependent.
      if (e.type === 'DELETED') for (const r of o.metadata.ownerReferences ?? []) {
        const owner = this.store.byUidLive(r.uid);
        if (owner?.object.metadata.deletionTimestamp) this.enqueue(owner.sid, owner.object);
      }
    }
    if (wake) this.schedule();
  }

  private pass(): void {
    const work: { sid: string; o: KObject }[] = [];
    if (this.fullSweep) {
      this.fullSweep = false;
      this.queue.clear();
      for (const sid of this.store.sids()) for (const o of this.store.scan(sid)) work.push({ sid, o });
    } else {
      const keys = [...this.queue];
      this.queue.clear();
      for (const k of keys) {
        const [sid = '', ns = '', name = ''] = k.split('\u0000');
        const o = this.store.peek(sid, ns || undefined, name);
        if (o) work.push({ sid, o });
      }
    }
    for (const { sid, o } of work) {
      const d = this.defBySid(sid);
      if (d) this.collect(d, o);
    }
  }

  /** Garbage-collects or finalises one object (a live, read-only reference). */
  private collect(d: ResourceDef, o: KObject): void {
    const safe = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
      }
    };
    const meta = o.metadata;
    const ns = meta.namespace;
    const name = meta.name ?? '';
    // Dependents whose owners are all gone follow them.
    const refs = meta.ownerReferences ?? [];
    if (refs.length && !meta.deletionTimestamp) {
      // Owners of kinds this server does not serve cannot be checked, so they count as present.
      const alive = refs.filter((r) => this.store.hasUid(r.uid) || !this.registry.byKind(r.apiVersion, r.kind));
      if (alive.length === 0) {
        safe(() => this.deleter.delete(d, ns, name, { propagationPolicy: 'Background' }));
        return;
      }
      // An owner in foreground deletion takes its dependents with it.
      const owners = alive.map((r) => this.store.byUidLive(r.uid)?.object);
      const fgOwner = owners.some((ow) => ow?.metadata.deletionTimestamp && ow.metadata.finalizers?.includes('foregroundDeletion'));
      if (fgOwner && owners.every((ow) => ow?.metadata.deletionTimestamp)) safe(() => this.deleter.delete(d, ns, name, { propagationPolicy: 'Foreground' }));
    }
    if (!meta.deletionTimestamp) return;
    const fins = meta.finalizers ?? [];
    const uid = meta.uid ?? '';
    if (fins.includes('orphan')) {
      for (const dep of this.store.dependentsOf(uid)) {
        const depDef = this.defBySid(dep.sid);
        if (!depDef) continue;
        safe(() => {
          const cur = this.store.get(dep.sid, dep.object.metadata.namespace, dep.object.metadata.name ?? '');
          if (!cur) return;
          const refsLeft = (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
          if (refsLeft.length) cur.metadata.ownerReferences = refsLeft;
          else delete cur.metadata.ownerReferences;
          this.write(dep.sid, cur);
        });
      }
      safe(() => this.removeFinalizer(d, ns, name, 'orphan'));
      return;
    }
    if (fins.includes('foregroundDeletion')) {
      const deps = this.store.dependentsOf(uid);
      if (deps.length === 0) safe(() => this.removeFinalizer(d, ns, name, 'foregroundDeletion'));
      else
        for (const dep of deps) {
          const depDef = this.defBySid(dep.sid);
          if (depDef && !dep.object.metadata.deletionTimestamp) safe(() => this.deleter.delete(depDef, dep.object.metadata.namespace, dep.object.metadata.name ?? '', { propagationPolicy: 'Foreground' }));
        }
      return;
    }
    if (d.kind === 'Namespace') this.finalizeNamespace(name);
  }

  private finalizeNamespace(namespace: string): void {
    let left = false;
    for (const sid of this.store.sids()) {
      const d = this.defBySid(sid);
      if (!d?.namespaced) continue;
      for (const o of [...this.store.scan(sid)]) {
        if (o.metadata.namespace !== namespace) continue;
        left = true;
        if (o.metadata.deletionTimestamp) continue;
        try {
          this.deleter.delete(d, namespace, o.metadata.name ?? '', { propagationPolicy: 'Background' });
        } catch (e) {
          if (!(e instanceof ApiError)) throw e;
        }
      }
    }
    if (left) return;
    const ns = this.store.get('/namespaces', undefined, namespace);
    if (!ns) return;
    const spec = obj(ns['spec']);
    spec['finalizers'] = arr(spec['finalizers']).filter((f) => f !== 'kubernetes');
    ns['spec'] = spec;
    this.write('/namespaces', ns);
  }

  private removeFinalizer(d: ResourceDef, namespace: string | undefined, name: string, finalizer: string): void {
    const cur = this.store.get(storageId(d), namespace, name);
    if (!cur) return;
    const fins = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    if (fins.length) cur.metadata.finalizers = fins;
    else delete cur.metadata.finalizers;
    this.write(storageId(d), cur);
  }

  /** The collector's own writes: no admission; an object whose deletion this completes is removed. */
  private write(sid: string, o: KObject): void {
    const stored = this.store.put(sid, o, 'MODIFIED');
    if (readyToFinalize(stored)) this.store.remove(sid, stored);
  }
}
