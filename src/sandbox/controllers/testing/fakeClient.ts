import { randomUUID } from 'node:crypto';
import type { ClusterClient, DeleteOptions, KObject, ListOptions, PatchType, ResourceKey, WatchEvent, WatchOptions, WriteOptions } from '../../types.ts';
import { rfc3339 } from '../../client/clock.ts';
import { asRecord, deepEqual, generateName, statusError } from '../../client/objects.ts';

/**
 * A small in-memory ClusterClient for controller tests: resourceVersions, generation, conflicts,
 * generateName, merge patches (status/scale), graceful pod deletion, background cascading deletion
 * and watch with replay. No validation or defaulting, unlike the real API server.
 */
export class FakeClient implements ClusterClient {
  private rv = 0;
  private readonly store = new Map<string, Map<string, KObject>>();
  private readonly log: { rv: number; res: string; ev: WatchEvent }[] = [];
  private readonly watchers = new Set<{ res: string; opts: WatchOptions; fn: (ev: WatchEvent) => void }>();
  /** Rejects a create with an ApiError, like admission would. */
  admit: ((res: ResourceKey, obj: KObject) => void) | undefined;
  private readonly _calls: { verb: string; resource: string; name?: string }[] = [];
  readonly calls = {
    push: (c: { verb: string; resource: string; name?: string }): void => {
      this._calls.push(c);
      if (process.env['FAKE_CLIENT_TRACE'] && this._calls.length % 500 === 0) {
        const counts: Record<string, number> = {};
        for (const x of this._calls.slice(-500)) counts[`${x.verb} ${x.resource}`] = (counts[`${x.verb} ${x.resource}`] ?? 0) + 1;
        console.error(this._calls.length, JSON.stringify(counts));
      }
    },
    list: (): readonly { verb: string; resource: string; name?: string }[] => this._calls,
  };

  private rk(res: ResourceKey): string {
    return `${res.group}/${res.resource}`;
  }
  private bucket(res: ResourceKey): Map<string, KObject> {
    const k = this.rk(res);
    let b = this.store.get(k);
    if (!b) {
      b = new Map();
      this.store.set(k, b);
    }
    return b;
  }
  private key(ns: string | undefined, name: string): string {
    return `${ns ?? ''}/${name}`;
  }
  private emit(res: ResourceKey, type: WatchEvent['type'], obj: KObject): void {
    const ev = { type, object: structuredClone(obj) };
    this.log.push({ rv: this.rv, res: this.rk(res), ev });
    for (const w of this.watchers) {
      if (w.res !== this.rk(res)) continue;
      if (w.opts.namespace && obj.metadata.namespace !== w.opts.namespace) continue;
      queueMicrotask(() => w.fn(structuredClone(ev)));
    }
  }
  private kindErr(res: ResourceKey, name: string, code: number, reason: string, msg: string): Error {
    return statusError(code, reason, msg.replace('%s', `${res.resource}${res.group ? `.${res.group}` : ''} "${name}"`), { name, kind: res.resource });
  }

  async get(res: ResourceKey, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const o = this.bucket(res).get(this.key(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  async list(res: ResourceKey, opts: ListOptions = {}): Promise<{ items: KObject[]; resourceVersion: string }> {
    const items = [...this.bucket(res).values()].filter((o) => !opts.namespace || o.metadata.namespace === opts.namespace).map((o) => structuredClone(o));
    return { items, resourceVersion: String(this.rv) };
  }

  async create(res: ResourceKey, obj: KObject, _opts?: WriteOptions): Promise<KObject> {
    this.calls.push({ verb: 'create', resource: res.resource, name: obj.metadata.name ?? '' });
    const o = structuredClone(obj);
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = generateName(o.metadata.generateName);
    const name = o.metadata.name ?? '';
    this.admit?.(res, o);
    const b = this.bucket(res);
    if (b.has(this.key(o.metadata.namespace, name))) throw this.kindErr(res, name, 409, 'AlreadyExists', '%s already exists');
    o.metadata.uid = randomUUID();
    o.metadata.resourceVersion = String(++this.rv);
    o.metadata.creationTimestamp = rfc3339(Date.now());
    o.metadata.generation = 1;
    b.set(this.key(o.metadata.namespace, name), o);
    this.emit(res, 'ADDED', o);
    return structuredClone(o);
  }

  private write(res: ResourceKey, o: KObject, old: KObject): KObject {
    if (!deepEqual(o['spec'], old['spec']) || !deepEqual(o.metadata.deletionTimestamp, old.metadata.deletionTimestamp)) {
      o.metadata.generation = (old.metadata.generation ?? 1) + (deepEqual(o['spec'], old['spec']) ? 0 : 1);
    }
    o.metadata.resourceVersion = String(++this.rv);
    this.bucket(res).set(this.key(o.metadata.namespace, o.metadata.name ?? ''), o);
    this.emit(res, 'MODIFIED', o);
    return structuredClone(o);
  }

  async update(res: ResourceKey, obj: KObject): Promise<KObject> {
    this.calls.push({ verb: 'update', resource: res.resource, name: obj.metadata.name ?? '' });
    const old = this.bucket(res).get(this.key(obj.metadata.namespace, obj.metadata.name ?? ''));
    if (!old) throw this.kindErr(res, obj.metadata.name ?? '', 404, 'NotFound', '%s not found');
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw this.kindErr(res, obj.metadata.name ?? '', 409, 'Conflict', 'Operation cannot be fulfilled on %s: the object has been modified; please apply your changes to the latest version and try again');
    }
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp };
    if (old.metadata.deletionTimestamp) o.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
    if (old['status'] !== undefined) o['status'] = old['status'];
    return this.write(res, o, old);
  }

  async updateStatus(res: ResourceKey, obj: KObject): Promise<KObject> {
    this.calls.push({ verb: 'updateStatus', resource: res.resource, name: obj.metadata.name ?? '' });
    const old = this.bucket(res).get(this.key(obj.metadata.namespace, obj.metadata.name ?? ''));
    if (!old) throw this.kindErr(res, obj.metadata.name ?? '', 404, 'NotFound', '%s not found');
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw this.kindErr(res, obj.metadata.name ?? '', 409, 'Conflict', 'Operation cannot be fulfilled on %s: the object has been modified; please apply your changes to the latest version and try again');
    }
    const o = structuredClone(old);
    o['status'] = structuredClone(obj['status']);
    return this.write(res, o, old);
  }

  async patch(res: ResourceKey, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts?: WriteOptions & { subresource?: 'status' | 'scale' }): Promise<KObject> {
    this.calls.push({ verb: `patch${opts?.subresource ? `/${opts.subresource}` : ''}`, resource: res.resource, name });
    if (type !== 'merge') throw statusError(415, 'UnsupportedMediaType', `fake client supports merge patches only`);
    const old = this.bucket(res).get(this.key(namespace, name));
    if (!old) throw this.kindErr(res, name, 404, 'NotFound', '%s not found');
    let o: KObject;
    if (opts?.subresource === 'status') {
      o = structuredClone(old);
      o['status'] = mergePatch(old['status'], asRecord(patch)['status']);
    } else if (opts?.subresource === 'scale') {
      o = structuredClone(old);
      const r = asRecord(asRecord(patch)['spec'])['replicas'];
      o['spec'] = { ...asRecord(old['spec']), replicas: r };
    } else {
      o = mergePatch(old, patch) as KObject;
      o['status'] = old['status'];
    }
    return this.write(res, o, old);
  }

  async delete(res: ResourceKey, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KObject | undefined> {
    this.calls.push({ verb: 'delete', resource: res.resource, name });
    const b = this.bucket(res);
    const k = this.key(namespace, name);
    const old = b.get(k);
    if (!old) throw this.kindErr(res, name, 404, 'NotFound', '%s not found');
    const graceful = res.resource === 'pods' && asRecord(old['spec'])['nodeName'] && opts.gracePeriodSeconds !== 0;
    if (graceful) {
      if (old.metadata.deletionTimestamp) return structuredClone(old);
      const o = structuredClone(old);
      o.metadata.deletionTimestamp = rfc3339(Date.now());
      o.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds ?? Number(asRecord(old['spec'])['terminationGracePeriodSeconds'] ?? 30);
      return this.write(res, o, old);
    }
    b.delete(k);
    this.rv++;
    this.emit(res, 'DELETED', { ...old, metadata: { ...old.metadata, resourceVersion: String(this.rv) } });
    if (opts.propagationPolicy !== 'Orphan') this.collect(old.metadata.uid ?? '');
    return structuredClone(old);
  }

  /** Background garbage collection of dependents. */
  private collect(uid: string): void {
    queueMicrotask(() => {
      for (const [rk, b] of this.store) {
        for (const o of [...b.values()]) {
          if (!o.metadata.ownerReferences?.some((r) => r.uid === uid)) continue;
          const [group, resource] = rk.split('/') as [string, string];
          void this.delete({ group, version: '', resource }, o.metadata.namespace, o.metadata.name ?? '').catch(() => undefined);
        }
      }
    });
  }

  async createSubresource(res: ResourceKey, namespace: string, name: string, subresource: 'binding' | 'eviction', body: KObject): Promise<KObject> {
    this.calls.push({ verb: `create/${subresource}`, resource: res.resource, name });
    const old = this.bucket(res).get(this.key(namespace, name));
    if (!old) throw this.kindErr(res, name, 404, 'NotFound', '%s not found');
    if (subresource === 'eviction') {
      await this.delete(res, namespace, name);
      return body;
    }
    if (asRecord(old['spec'])['nodeName']) throw this.kindErr(res, name, 409, 'Conflict', `Operation cannot be fulfilled on %s: pod ${name} is already assigned to node "${String(asRecord(old['spec'])['nodeName'])}"`);
    const o = structuredClone(old);
    o['spec'] = { ...asRecord(old['spec']), nodeName: String(asRecord(body['target'])['name']) };
    this.write(res, o, old);
    return body;
  }

  watch(res: ResourceKey, opts: WatchOptions, onEvent: (ev: WatchEvent) => void): () => void {
    const w = { res: this.rk(res), opts, fn: onEvent };
    if (opts.resourceVersion !== undefined) {
      const from = Number(opts.resourceVersion);
      for (const e of this.log) {
        if (e.rv > from && e.res === w.res && (!opts.namespace || e.ev.object.metadata.namespace === opts.namespace)) {
          const ev = structuredClone(e.ev);
          queueMicrotask(() => onEvent(ev));
        }
      }
    }
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  /** Every object of a resource, for assertions. */
  all(res: ResourceKey, namespace?: string): KObject[] {
    return [...this.bucket(res).values()].filter((o) => !namespace || o.metadata.namespace === namespace).map((o) => structuredClone(o));
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function eventually<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
