import { randomInt } from 'node:crypto';
import type { KObject, PatchType, PodMetricsSource, ResourceKey, WatchEventType } from '../types.ts';
import { ApiError } from '../types.ts';
import { Admission } from './admission.ts';
import type { DeleteOpts, ListQuery, ListResult, WatchQuery, WatchSink, WriteOpts, WriteResult } from './apiTypes.ts';
import { bootstrapObjects } from './bootstrapObjects.ts';
import { decodeObject } from './decodeObject.ts';
import { applyDefaults } from './defaults.ts';
import { planDeletion, readyToFinalize } from './deletion.ts';
import { applyConfiguration, pruneManagedFields, trackUpdate } from './fieldOwnership.ts';
import { GarbageCollector } from './garbageCollector.ts';
import { arr, clone, deepEqual, isObject, nowRfc3339, obj } from './json.ts';
import type { JsonObject } from './json.ts';
import { getMetrics, listMetrics } from './metricsApi.ts';
import { ObjectStore } from './objectStore.ts';
import type { HistoryEntry } from './objectStore.ts';
import { patchObject } from './patches.ts';
import { apiVersionOf, ResourceRegistry, storageId } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { answerReview } from './reviews.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { allocateServiceAddresses } from './serviceAllocator.ts';
import { alreadyExists, apiError, badRequest, conflict, gone, invalid, MODIFIED, notFound, resourceNotFound } from './statusErrors.ts';
import { completeForKind, nextGeneration, prepareForCreate, prepareForUpdate } from './strategies.ts';
import { Subresources } from './subresources.ts';
import { validateObject } from './validation.ts';
import { hpaFromV1, hpaToV1 } from './versionConversion.ts';

export interface ApiServerOptions {
  metrics?: PodMetricsSource | undefined;
  historySize?: number | undefined;
  /** Port the `kubernetes` Service points at. */
  port?: number;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The API server core, kube-apiserver's generic registry store: get, list, watch, create, update,
 * patch/apply and graceful deletion of every served resource, through one write pipeline
 * (strategies.ts, defaulting, admission.ts, validation, field ownership). Subresources,
 * the garbage collector and the virtual resources (reviews.ts, metricsApi.ts) build on it. HTTP and
 * the in-process client both call these methods, so every client sees the same behaviour.
 */
export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly store: ObjectStore;
  readonly metrics: PodMetricsSource | undefined;
  /** scale, pods/binding and pods/eviction. */
  readonly subresources: Subresources;
  private readonly admission: Admission;
  private readonly gc: GarbageCollector;

  constructor(opts: ApiServerOptions = {}) {
    this.metrics = opts.metrics;
    this.registry = new ResourceRegistry({ metrics: opts.metrics !== undefined });
    this.store = new ObjectStore(opts.historySize ?? 10_000);
    this.admission = new Admission(this.store);
    this.gc = new GarbageCollector(this.store, this.registry, this);
    this.subresources = new Subresources(
      {
        def: (group, version, resource) => this.def(group, version, resource),
        current: (d, namespace, name) => this.current(d, namespace, name),
        update: (d, old, next, opts, subresource) => this.admitAndStore(d, old, next, opts, subresource),
        delete: (d, namespace, name, opts) => this.delete(d, namespace, name, opts),
      },
      this.store,
    );
  }

  /** Creates the namespaces, ServiceAccounts, `kubernetes` Service and IngressClass a fresh cluster has. */
  bootstrap(): void {
    for (const { group, version, resource, namespace, body } of bootstrapObjects()) {
      const d = this.def(group, version, resource);
      if (!this.store.peek(this.sid(d), namespace, body.metadata.name ?? '')) this.create(d, namespace, body, { fieldManager: 'kube-apiserver' });
    }
  }

  startGc(intervalMs = 2000): void {
    this.gc.start(intervalMs);
  }

  /** One pass of the garbage collector and the namespace controller; exposed for tests. */
  runGc(): void {
    this.gc.run();
  }

  stop(): void {
    this.gc.stop();
  }

  // ---------------------------------------------------------------------------------------------
  // resolution

  def(group: string, version: string, resource: string): ResourceDef {
    const d = this.registry.find(group, version, resource);
    if (!d) throw resourceNotFound();
    return d;
  }

  resolve(res: ResourceKey): ResourceDef {
    return this.def(res.group, res.version, res.resource);
  }

  private sid(d: ResourceDef): string {
    return storageId(d);
  }

  private nsOf(d: ResourceDef, namespace: string | undefined): string | undefined {
    if (!d.namespaced) return undefined;
    if (!namespace) throw badRequest('the server could not find the requested resource');
    return namespace;
  }

  // ---------------------------------------------------------------------------------------------
  // reads

  get(d: ResourceDef, namespace: string | undefined, name: string): KObject {
    if (d.readOnly) return getMetrics(this.store, this.metrics, d, namespace, name);
    const o = this.store.get(this.sid(d), this.nsOf(d, namespace), name);
    if (!o) throw notFound(d, name);
    return this.present(d, o);
  }

  /**
   * The stored object itself when it is already in the served version (watch sinks must not mutate
   * it: they serialise or copy), else a converted copy. Saves a deep copy per event per watcher.
   */
  private view(d: ResourceDef, o: KObject): KObject {
    return d.storageVersion ? this.present(d, clone(o)) : o;
  }

  /** Objects carry the apiVersion they are served at; non-storage versions are converted. */
  private present(d: ResourceDef, o: KObject): KObject {
    if (d.storageVersion && d.kind === 'HorizontalPodAutoscaler') return hpaToV1(o);
    o.apiVersion = apiVersionOf(d);
    o.kind = d.kind;
    return o;
  }

  list(d: ResourceDef, q: ListQuery): ListResult {
    if (d.readOnly) return { items: listMetrics(this.store, this.metrics, d, q.namespace), resourceVersion: String(this.store.resourceVersion) };
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, d.resource);
    let start = '';
    let rv = this.store.resourceVersion;
    if (q.continue) {
      try {
        const tok = JSON.parse(Buffer.from(q.continue, 'base64').toString('utf8')) as { rv: number; start: string };
        start = tok.start;
        rv = tok.rv;
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      if (rv < this.store.oldestResumable)
        throw apiError(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
    }
    const matched: [string, KObject][] = [];
    for (const o of this.store.scan(this.sid(d))) {
      if (q.namespace && o.metadata.namespace !== q.namespace) continue;
      if (!labels(o.metadata.labels) || !fields(o)) continue;
      const key = ObjectStore.key(o.metadata.namespace, o.metadata.name ?? '');
      if (start && key <= start) continue;
      matched.push([key, o]);
    }
    matched.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const limit = q.limit && q.limit > 0 ? q.limit : matched.length;
    const page = matched.slice(0, limit);
    // Views, not copies: a list is serialised once and dropped, so a deep copy per item was most of its cost.
    const result: ListResult = { items: page.map(([, o]) => this.view(d, o)), resourceVersion: String(rv) };
    const last = page[page.length - 1];
    if (matched.length > limit && last) {
      result.continue = Buffer.from(JSON.stringify({ rv, start: last[0] })).toString('base64');
      result.remainingItemCount = matched.length - limit;
    }
    return result;
  }

  watch(d: ResourceDef, q: WatchQuery, sink: WatchSink): () => void {
    if (d.readOnly || d.createOnly) throw apiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`, {});
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, d.resource);
    const sid = this.sid(d);
    const match = (o: KObject | undefined): boolean => !!o && (!q.namespace || o.metadata.namespace === q.namespace) && labels(o.metadata.labels) && fields(o);
    const deliver = (e: HistoryEntry): void => {
      if (e.sid !== sid) return;
      const now = e.type !== 'DELETED' && match(e.object);
      const before = e.type === 'ADDED' ? false : match(e.prev ?? e.object);
      let type: WatchEventType | undefined;
      if (e.type === 'DELETED') type = before ? 'DELETED' : undefined;
      else if (now && before) type = 'MODIFIED';
      else if (now) type = 'ADDED';
      else if (before) type = 'DELETED';
      if (type) sink(type, this.view(d, e.object));
    };
    const rvStr = q.resourceVersion;
    if (rvStr && rvStr !== '0') {
      const rv = Number(rvStr);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`invalid resource version: ${rvStr}`);
      const replay = this.store.since(rv);
      if (!replay) throw gone(`too old resource version: ${rv} (${this.store.oldestResumable})`);
      for (const e of replay) deliver(e);
    } else if (q.sendInitialEvents) {
      const items = [...this.store.scan(sid)].filter(match).sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion));
      for (const o of items) sink('ADDED', this.view(d, o));
    }
    return this.store.subscribe(deliver);
  }

  // ---------------------------------------------------------------------------------------------
  // writes

  /** The stored version's definition for a version served by conversion. */
  private storageDefOf(d: ResourceDef): ResourceDef | undefined {
    return d.storageVersion ? this.def(d.group, d.storageVersion, d.resource) : undefined;
  }

  private converted(d: ResourceDef, r: WriteResult): WriteResult {
    return { object: this.present(d, r.object), warnings: r.warnings };
  }

  create(d: ResourceDef, namespace: string | undefined, body: unknown, opts: WriteOpts = {}): WriteResult {
    const sd = this.storageDefOf(d);
    if (sd) return this.converted(d, this.create(sd, namespace, hpaFromV1(decodeObject(d, body, namespace), undefined), opts));
    if (d.createOnly) return { object: answerReview(d, body), warnings: [] };
    if (d.readOnly) throw apiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    const o = decodeObject(d, body, namespace);
    if (!o.metadata.name && o.metadata.generateName) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_CHARS[randomInt(NAME_CHARS.length)];
      o.metadata.name = `${o.metadata.generateName}${suffix}`;
    }
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'managedFields'] as const) delete o.metadata[k];
    return this.admitAndStore(d, undefined, o, opts, undefined);
  }

  /** Applies the write pipeline shared by create, update, patch and apply. */
  private admitAndStore(d: ResourceDef, old: KObject | undefined, next: KObject, opts: WriteOpts, subresource: string | undefined, applied?: JsonObject): WriteResult {
    const sid = this.sid(d);
    const name = next.metadata.name ?? '';
    const namespaceObj = this.admission.namespaceLifecycle(d, next, !old);
    if (old) next = prepareForUpdate(d, old, next, subresource);
    else prepareForCreate(d, next);
    applyDefaults(next);
    completeForKind(d, old, next);
    if (!old) this.admission.mutateOnCreate(d, next);
    if (d.kind === 'Service') allocateServiceAddresses(next, old, this.store);
    const errs = validateObject(next, old);
    if (errs.length) throw invalid(d, name, errs);
    const warnings = this.admission.podSecurity(d, old, next, namespaceObj);
    next.metadata.generation = nextGeneration(old, next);

    const manager = opts.fieldManager ?? defaultManager(opts.userAgent);
    const apiVersion = apiVersionOf(d);
    if (applied) {
      // managedFields were computed by the apply; drop ownership of anything defaulting removed.
      pruneManagedFields(next as unknown as JsonObject);
    } else {
      trackUpdate(old as unknown as JsonObject | undefined, next as unknown as JsonObject, manager, apiVersion, subresource);
    }

    if (old) {
      const a = { ...next, metadata: { ...next.metadata, resourceVersion: undefined, managedFields: undefined } };
      const b = { ...old, metadata: { ...old.metadata, resourceVersion: undefined, managedFields: undefined } };
      b.apiVersion = a.apiVersion;
      b.kind = a.kind;
      if (deepEqual(a, b) && deepEqual(ownershipSansTime(next), ownershipSansTime(old))) return { object: this.present(d, clone(old)), warnings };
    } else {
      if (this.store.peek(sid, next.metadata.namespace, name)) throw alreadyExists(d, name);
      next.metadata.creationTimestamp = nowRfc3339();
    }
    if (opts.dryRun) {
      const out = this.present(d, clone(next));
      if (!old) delete out.metadata.resourceVersion;
      return { object: out, warnings };
    }
    const stored = this.store.put(sid, next, old ? 'MODIFIED' : 'ADDED');
    if (!old && d.kind === 'Namespace') this.ensureServiceAccount(name);
    if (old && readyToFinalize(stored)) {
      const gone = this.store.remove(sid, stored);
      return { object: this.present(d, gone ?? stored), warnings };
    }
    return { object: this.present(d, stored), warnings };
  }

  private ensureServiceAccount(namespace: string): void {
    if (this.store.peek('/serviceaccounts', namespace, 'default')) return;
    this.create(this.def('', 'v1', 'serviceaccounts'), namespace, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }, { fieldManager: 'kube-controller-manager' });
  }

  /** The live stored object (read-only: copy before modifying). */
  private current(d: ResourceDef, namespace: string | undefined, name: string): KObject {
    const cur = this.store.peek(this.sid(d), this.nsOf(d, namespace), name);
    if (!cur) throw notFound(d, name);
    return cur;
  }

  update(d: ResourceDef, namespace: string | undefined, name: string, body: unknown, opts: WriteOpts = {}, subresource?: 'status'): WriteResult {
    const sd = this.storageDefOf(d);
    if (sd) {
      const existing = this.current(sd, namespace, name);
      return this.converted(d, this.update(sd, namespace, name, hpaFromV1(decodeObject(d, body, namespace, name), existing), opts, subresource));
    }
    if (d.createOnly || d.readOnly) throw apiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    const next = decodeObject(d, body, namespace, name);
    const old = this.current(d, namespace, name);
    const rv = next.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(d, name, MODIFIED);
    if (next.metadata.uid && next.metadata.uid !== old.metadata.uid)
      throw conflict(d, name, `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
    if (!next.metadata.managedFields && old.metadata.managedFields) next.metadata.managedFields = [...old.metadata.managedFields];
    else if (Array.isArray(next.metadata.managedFields) && next.metadata.managedFields.length === 0) delete next.metadata.managedFields;
    return this.admitAndStore(d, old, next, opts, subresource);
  }

  patch(d: ResourceDef, namespace: string | undefined, name: string, patch: unknown, type: PatchType, opts: WriteOpts = {}, subresource?: 'status'): WriteResult {
    const sd = this.storageDefOf(d);
    if (sd) {
      const existing = this.store.peek(this.sid(sd), this.nsOf(sd, namespace), name);
      if (type === 'apply') {
        if (!isObject(patch)) throw badRequest('error decoding YAML: the body is not an object');
        const applied = hpaFromV1(patch as KObject, existing);
        delete applied['status'];
        return this.converted(d, this.patch(sd, namespace, name, applied, 'apply', opts, subresource));
      }
      if (!existing) throw notFound(d, name);
      const patched = patchObject(hpaToV1(existing), patch, type);
      return this.converted(d, this.update(sd, namespace, name, hpaFromV1(decodeObject(d, patched, namespace, name), existing), opts, subresource));
    }
    if (d.createOnly || d.readOnly) throw apiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    const existing = this.store.peek(this.sid(d), this.nsOf(d, namespace), name);
    if (type === 'apply') return this.apply(d, namespace, name, patch, existing, opts, subresource);
    if (!existing) throw notFound(d, name);
    const patched = patchObject(existing, patch, type);
    if (!isObject(patched)) throw badRequest('the patch produced a non-object');
    const next = patched as KObject;
    if (next.metadata?.resourceVersion && next.metadata.resourceVersion !== existing.metadata.resourceVersion) throw conflict(d, name, MODIFIED);
    if (next.metadata?.name !== undefined && next.metadata.name !== name) throw badRequest(`the name of the object (${String(next.metadata.name)}) does not match the name on the URL (${name})`);
    return this.admitAndStore(d, existing, decodeObject(d, next, namespace, name), opts, subresource);
  }

  private apply(d: ResourceDef, namespace: string | undefined, name: string, patch: unknown, existing: KObject | undefined, opts: WriteOpts, subresource?: 'status'): WriteResult {
    if (!opts.fieldManager) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    if (!isObject(patch)) throw badRequest('error decoding YAML: the body is not an object');
    const applied = patch as KObject;
    if (applied.apiVersion === undefined || applied.kind === undefined) throw badRequest('invalid object type: /, Kind=');
    if (applied.kind !== d.kind || applied.apiVersion !== apiVersionOf(d))
      throw badRequest(`the API version in the data (${String(applied.apiVersion)}) does not match the expected API version (${apiVersionOf(d)})`);
    const meta = obj(applied['metadata']);
    if (meta['name'] !== undefined && meta['name'] !== name) throw badRequest(`the name of the object (${String(meta['name'])}) does not match the name on the URL (${name})`);
    if (d.namespaced && meta['namespace'] !== undefined && meta['namespace'] !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const merged = applyConfiguration(existing as unknown as JsonObject | undefined, applied as unknown as JsonObject, opts.fieldManager, apiVersionOf(d), opts.force === true, subresource) as unknown as KObject;
    const next = decodeObject(d, merged, namespace, name);
    if (existing && meta['resourceVersion'] !== undefined && meta['resourceVersion'] !== existing.metadata.resourceVersion) throw conflict(d, name, MODIFIED);
    if (!existing) {
      for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation'] as const) delete next.metadata[k];
    }
    return this.admitAndStore(d, existing, next, opts, subresource, applied as unknown as JsonObject);
  }

  // ---------------------------------------------------------------------------------------------
  // deletion

  /** Deletes (or starts deleting) one object; `deleted` is false while finalizers or grace remain. */
  delete(d: ResourceDef, namespace: string | undefined, name: string, opts: DeleteOpts = {}): { object: KObject; deleted: boolean } {
    if (d.createOnly || d.readOnly) throw apiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    const cur = this.current(d, namespace, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid)
      throw conflict(d, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid ?? ''}`);
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw conflict(d, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion ?? ''}`);
    return this.deleteObject(d, cur, opts);
  }

  private deleteObject(d: ResourceDef, cur: KObject, opts: DeleteOpts): { object: KObject; deleted: boolean } {
    const plan = planDeletion(d, cur, opts);
    if (plan.kind === 'unchanged') return { object: this.present(d, cur), deleted: false };
    if (plan.kind === 'remove') return this.finalRemove(d, this.sid(d), cur, opts);
    if (opts.dryRun) return { object: this.present(d, plan.object), deleted: false };
    const stored = this.store.put(this.sid(d), plan.object, 'MODIFIED');
    this.gc.schedule();
    return { object: this.present(d, stored), deleted: false };
  }

  private finalRemove(d: ResourceDef, sid: string, cur: KObject, opts: DeleteOpts): { object: KObject; deleted: boolean } {
    if (opts.dryRun) return { object: this.present(d, cur), deleted: true };
    const gone = this.store.remove(sid, cur) ?? cur;
    this.gc.schedule();
    return { object: this.present(d, gone), deleted: true };
  }

  deleteCollection(d: ResourceDef, q: ListQuery, opts: DeleteOpts = {}): KObject[] {
    const out: KObject[] = [];
    for (const o of this.list(d, { ...q, limit: undefined, continue: undefined }).items) {
      try {
        out.push(this.delete(d, o.metadata.namespace, o.metadata.name ?? '', opts).object);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }
}

function ownershipSansTime(o: KObject): unknown {
  return arr(o.metadata.managedFields).map((e) => ({ ...obj(e), time: undefined }));
}

function defaultManager(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown';
  return userAgent.split('/')[0] ?? 'unknown';
}
