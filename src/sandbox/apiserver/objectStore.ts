import type { KObject, WatchEventType } from '../types.ts';
import { clone } from './json.ts';

export interface HistoryEntry {
  rv: number;
  /** storageId of the resource ("apps/deployments"). */
  sid: string;
  type: Exclude<WatchEventType, 'BOOKMARK' | 'ERROR'>;
  object: KObject;
  /** The object before this change, so selector-filtered watches can compute ADDED/DELETED. */
  prev?: KObject;
}

export interface StoreSnapshot {
  version: 1;
  resourceVersion: number;
  objects: { sid: string; object: KObject }[];
}

type Listener = (e: HistoryEntry) => void;

/**
 * etcd in miniature: objects per storage id, one global monotonic resourceVersion, and a bounded
 * event history that watches resume from. Objects handed out are clones.
 */
export class ObjectStore {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KObject>>();
  private readonly byUid = new Map<string, { sid: string; key: string }>();
  /** owner uid → "sid\u0000key" of objects whose ownerReferences name it. */
  private readonly dependentIndex = new Map<string, Set<string>>();
  private history: HistoryEntry[] = [];
  /** Watches may resume from any rv >= this one. */
  private minResumeRv = 0;
  private readonly listeners = new Set<Listener>();
  onCommit: (() => void) | undefined;

  constructor(private readonly historySize = 10_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  static key(namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`;
  }

  bucket(sid: string): Map<string, KObject> {
    let b = this.data.get(sid);
    if (!b) {
      b = new Map();
      this.data.set(sid, b);
    }
    return b;
  }

  get(sid: string, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.data.get(sid)?.get(ObjectStore.key(namespace, name));
    return o ? clone(o) : undefined;
  }

  /** The live object (read-only), without a copy. */
  peek(sid: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.data.get(sid)?.get(ObjectStore.key(namespace, name));
  }

  /** Live references, for read-only scans (GC, namespace deletion, listing before filtering). */
  scan(sid: string): Iterable<KObject> {
    return this.data.get(sid)?.values() ?? [];
  }

  sids(): string[] {
    return [...this.data.keys()];
  }

  hasUid(uid: string): boolean {
    return this.byUid.has(uid);
  }

  /** The live object with this uid (read-only). */
  byUidLive(uid: string): { sid: string; object: KObject } | undefined {
    const loc = this.byUid.get(uid);
    const o = loc ? this.data.get(loc.sid)?.get(loc.key) : undefined;
    return loc && o ? { sid: loc.sid, object: o } : undefined;
  }

  /** Live objects whose ownerReferences name `uid` (read-only). */
  dependentsOf(uid: string): { sid: string; object: KObject }[] {
    const out: { sid: string; object: KObject }[] = [];
    for (const ref of this.dependentIndex.get(uid) ?? []) {
      const i = ref.indexOf('\u0000');
      const sid = ref.slice(0, i);
      const o = this.data.get(sid)?.get(ref.slice(i + 1));
      if (o) out.push({ sid, object: o });
    }
    return out;
  }

  private index(sid: string, key: string, prev: KObject | undefined, next: KObject | undefined): void {
    const id = `${sid}\u0000${key}`;
    for (const r of prev?.metadata.ownerReferences ?? []) {
      const set = this.dependentIndex.get(r.uid);
      set?.delete(id);
      if (set && set.size === 0) this.dependentIndex.delete(r.uid);
    }
    for (const r of next?.metadata.ownerReferences ?? []) {
      let set = this.dependentIndex.get(r.uid);
      if (!set) {
        set = new Set();
        this.dependentIndex.set(r.uid, set);
      }
      set.add(id);
    }
  }

  /**
   * Stores `o` with the next resourceVersion and records the event. `o` is owned by the store
   * afterwards and returned as is: callers must not modify it (copy before handing it out).
   */
  put(sid: string, o: KObject, type: 'ADDED' | 'MODIFIED'): KObject {
    const key = ObjectStore.key(o.metadata.namespace, o.metadata.name ?? '');
    const b = this.bucket(sid);
    const prev = b.get(key);
    o.metadata.resourceVersion = String(++this.rv);
    b.set(key, o);
    if (o.metadata.uid) this.byUid.set(o.metadata.uid, { sid, key });
    this.index(sid, key, prev, o);
    this.record({ rv: this.rv, sid, type, object: o, ...(prev ? { prev } : {}) });
    return o;
  }

  remove(sid: string, o: KObject): KObject | undefined {
    const key = ObjectStore.key(o.metadata.namespace, o.metadata.name ?? '');
    const b = this.bucket(sid);
    const cur = b.get(key);
    if (!cur) return undefined;
    b.delete(key);
    if (cur.metadata.uid) this.byUid.delete(cur.metadata.uid);
    this.index(sid, key, cur, undefined);
    // Like etcd, the deletion gets its own revision, which the DELETED event carries.
    const gone = clone(cur);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, sid, type: 'DELETED', object: gone, prev: cur });
    return gone;
  }

  private record(e: HistoryEntry): void {
    this.history.push(e);
    if (this.history.length > this.historySize) {
      const drop = this.history.length - this.historySize;
      const last = this.history[drop - 1];
      if (last) this.minResumeRv = last.rv;
      this.history = this.history.slice(drop);
    }
    for (const l of this.listeners) l(e);
    this.onCommit?.();
  }

  /** Entries after `rv`, or undefined when that part of the history was compacted. */
  since(rv: number): HistoryEntry[] | undefined {
    if (rv < this.minResumeRv) return undefined;
    return this.history.filter((e) => e.rv > rv);
  }

  get oldestResumable(): number {
    return this.minResumeRv;
  }

  /** Forgets all history so that resuming from any earlier resourceVersion answers 410 Gone. */
  compact(): void {
    this.rv++;
    this.minResumeRv = this.rv;
    this.history = [];
    this.onCommit?.();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot['objects'] = [];
    for (const [sid, b] of this.data) for (const o of b.values()) objects.push({ sid, object: o });
    return { version: 1, resourceVersion: this.rv, objects };
  }

  restore(s: StoreSnapshot): void {
    this.data.clear();
    this.byUid.clear();
    this.dependentIndex.clear();
    this.history = [];
    this.rv = s.resourceVersion;
    this.minResumeRv = s.resourceVersion;
    for (const { sid, object } of s.objects) {
      const key = ObjectStore.key(object.metadata.namespace, object.metadata.name ?? '');
      this.bucket(sid).set(key, object);
      if (object.metadata.uid) this.byUid.set(object.metadata.uid, { sid, key });
      this.index(sid, key, undefined, object);
    }
  }
}
