import { BerthError } from '../errors.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import type { ObjectMetaJson } from '../kube/objectMeta.ts';

/** The fields of any Kubernetes object the informer relies on; everything else is carried as raw JSON. */
export interface RawObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaJson;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface RawWatchEvent {
  readonly type: WatchEventType | string;
  readonly object: RawObject;
}

export type TransportQuery = Record<string, string | number | boolean | undefined>;

/**
 * The only thing the informer needs from a cluster: list a collection path, and stream a watch on it.
 * `onClose(null)` means the server ended the stream; `onClose(err)` a transport or HTTP failure (an HTTP
 * status, when there is one, is on `err.statusCode` or `err.code`).
 */
export interface InformerTransport {
  list(path: string, query: TransportQuery): Promise<{ items: RawObject[]; resourceVersion: string }>;
  watch(
    path: string,
    query: TransportQuery,
    onEvent: (event: RawWatchEvent) => void,
    onClose: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export type InformerEvent<T extends RawObject> =
  | { readonly type: 'add'; readonly object: T }
  | { readonly type: 'update'; readonly object: T; readonly old: T }
  | { readonly type: 'delete'; readonly object: T };

export interface InformerStats {
  /** 0 or 1: whether a watch stream is open right now. */
  readonly watchConnections: number;
  /** Watches opened after the first one (resumes after timeouts, drops and errors). */
  readonly reconnects: number;
  /** Lists after the first one (after 410 Gone). */
  readonly relists: number;
  readonly resourceVersion: string;
}

/**
 * What consumers (the status engine) use of an informer, so one per-namespace informer per managed
 * namespace (MultiNamespaceInformer) can stand in for one cluster-wide Informer.
 */
export interface SharedInformer<T extends RawObject = RawObject> {
  /** Starts listing and watching; resolves after the first successful list, rejects if stopped before. */
  start(): Promise<void>;
  stop(): void;
  synced(): boolean;
  /** Subscribes to add/update/delete; returns the unsubscribe function. */
  on(listener: (event: InformerEvent<T>) => void): () => void;
  get(namespace: string | undefined, name: string): T | undefined;
  list(): T[];
  stats(): InformerStats;
}

export interface InformerOptions {
  /** Collection path for all namespaces, e.g. "/apis/apps/v1/deployments" or "/api/v1/pods". */
  readonly path: string;
  /** Only this namespace (the path gets /namespaces/<ns>/ inserted before the resource). */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly transport: InformerTransport;
  readonly clock?: Clock;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Server-side watch timeout; the informer resumes from the last resourceVersion when it ends. */
  readonly watchTimeoutSeconds?: number;
  /** Told about every transport failure before the informer retries (for logs); never throws into it. */
  readonly onError?: (err: unknown) => void;
  /**
   * Applied to every listed and watched object before it is cached or emitted (client-go's
   * SetTransform): a consumer that needs a few fields keeps only those, e.g. without managedFields.
   */
  readonly transform?: (object: RawObject) => RawObject;
}

/**
 * An informer transform: the object without `metadata.managedFields`, which server-side apply fills
 * with a second copy of every field's ownership (often as large as the object itself) and which no
 * status computation reads (client-go's TransformStripManagedFields).
 */
export function stripManagedFields(object: RawObject): RawObject {
  if (object.metadata?.managedFields === undefined) return object;
  // A new metadata object rather than `delete`: a deleted property turns V8 objects into slower,
  // larger dictionaries.
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  return { ...object, metadata };
}

const DEFAULT_INITIAL_BACKOFF_MS = 250;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const JITTER = 0.2;
/** A watch that ends cleanly sooner than this without delivering anything counts as a failure. */
const HEALTHY_WATCH_MS = 1_000;
/**
 * A watch still open this long after its server-side timeout is a half-open connection (a NAT or load
 * balancer forgot it); it is abandoned and resumed so the cache cannot silently freeze.
 */
const WATCHDOG_GRACE_MS = 30_000;

type WatchOutcome = { kind: 'closed'; healthy: boolean } | { kind: 'expired' } | { kind: 'error'; err: unknown } | { kind: 'stopped' };

/** HTTP status of a transport error: client-node's Watch sets `statusCode`, its ApiException `code`. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

export function objectKey(o: RawObject): string {
  const ns = o.metadata?.namespace;
  return ns ? `${ns}/${o.metadata?.name ?? ''}` : (o.metadata?.name ?? '');
}

/** Collection path scoped to one namespace: /api/v1/pods → /api/v1/namespaces/<ns>/pods. */
export function namespacedPath(path: string, namespace: string | undefined): string {
  if (namespace === undefined) return path;
  const i = path.lastIndexOf('/');
  return `${path.slice(0, i)}/namespaces/${encodeURIComponent(namespace)}${path.slice(i)}`;
}

/**
 * A shared informer for one resource: LIST, then WATCH from the list's resourceVersion with bookmarks,
 * keeping a cache keyed by namespace/name. Watches that end (server timeout, dropped connection) resume
 * from the last resourceVersion seen, bookmarks included, so nothing is replayed or missed; a 410 Gone
 * (expired history) re-lists and emits the difference, deletes included. Transport failures back off
 * exponentially with jitter, and the back-off resets after anything succeeds.
 */
export class Informer<T extends RawObject = RawObject> implements SharedInformer<T> {
  private readonly cache = new Map<string, T>();
  private readonly listeners = new Set<(event: InformerEvent<T>) => void>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly path: string;
  private resourceVersion = '';
  private isSynced = false;
  private running = false;
  private failures = 0;
  private openWatches = 0;
  private reconnectCount = 0;
  private relistCount = 0;
  private listCount = 0;
  private watchCount = 0;
  private lastError: unknown;
  private cancelCurrent: (() => void) | undefined;
  private syncWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(private readonly opts: InformerOptions) {
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.initialBackoff = opts.backoff?.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.maxBackoff = opts.backoff?.maxMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.path = namespacedPath(opts.path, opts.namespace);
  }

  /** Starts listing and watching; resolves after the first successful list, rejects if stopped before. */
  start(): Promise<void> {
    if (!this.running) {
      this.running = true;
      void this.run();
    }
    if (this.isSynced) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.cancelCurrent?.();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    const cause = this.lastError;
    for (const w of waiters) {
      w.reject(new BerthError('BERTH_CLUSTER_UNREACHABLE', `stopped before the first list of ${this.path} succeeded`, cause !== undefined ? { cause } : {}));
    }
  }

  synced(): boolean {
    return this.isSynced;
  }

  /** Subscribes to add/update/delete; returns the unsubscribe function. */
  on(listener: (event: InformerEvent<T>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  stats(): InformerStats {
    return { watchConnections: this.openWatches, reconnects: this.reconnectCount, relists: this.relistCount, resourceVersion: this.resourceVersion };
  }

  // ---------------------------------------------------------------------------------------------

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
          this.failures = 0;
        } catch (err) {
          if (!this.running) return;
          this.report(err);
          await this.backoff();
          continue;
        }
      }
      if (!this.running) return;
      const outcome = await this.watchOnce();
      if (outcome.kind === 'stopped') return;
      if (outcome.kind === 'expired') {
        // The history we would resume from is gone: only a fresh list is consistent again.
        needList = true;
        continue;
      }
      if (outcome.kind === 'closed' && outcome.healthy) {
        this.failures = 0;
        continue;
      }
      if (outcome.kind === 'error') {
        if (httpStatusOf(outcome.err) === 410) {
          needList = true;
          continue;
        }
        this.report(outcome.err);
      }
      await this.backoff();
    }
  }

  private async relist(): Promise<void> {
    const query: TransportQuery = { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector };
    const { items, resourceVersion } = await this.opts.transport.list(this.path, query);
    if (!this.running) return;
    if (this.listCount++ > 0) this.relistCount++;
    const fresh = new Map<string, T>();
    const transform = this.opts.transform;
    for (const item of items) fresh.set(objectKey(item), (transform ? transform(item) : item) as T);
    const previous = new Map(this.cache);
    this.cache.clear();
    for (const [k, v] of fresh) this.cache.set(k, v);
    this.resourceVersion = resourceVersion;
    for (const [k, old] of previous) if (!fresh.has(k)) this.emit({ type: 'delete', object: old });
    for (const [k, obj] of fresh) {
      const old = previous.get(k);
      if (!old) this.emit({ type: 'add', object: obj });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit({ type: 'update', object: obj, old });
    }
    if (!this.isSynced) {
      this.isSynced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w.resolve();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      const startedAt = this.clock.now();
      let delivered = false;
      let settled = false;
      let opened = false;
      let handle: { abort(): void } | undefined;
      const timeoutSeconds = this.opts.watchTimeoutSeconds ?? 300 + Math.floor(this.random() * 300);
      const finish = (outcome: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        cancelWatchdog();
        if (opened) this.openWatches--;
        this.cancelCurrent = undefined;
        handle?.abort();
        resolve(outcome);
      };
      this.cancelCurrent = () => finish({ kind: 'stopped' });
      if (this.watchCount++ > 0) this.reconnectCount++;
      const query: TransportQuery = {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      };
      const cancelWatchdog = this.clock.setTimeout(() => finish({ kind: 'closed', healthy: true }), timeoutSeconds * 1000 + WATCHDOG_GRACE_MS);
      const onEvent = (ev: RawWatchEvent): void => {
        if (settled) return;
        delivered = true;
        if (ev.type === 'ERROR') {
          const code = (ev.object as { code?: unknown }).code;
          finish(code === 410 ? { kind: 'expired' } : { kind: 'error', err: Object.assign(new Error(String((ev.object as { message?: unknown }).message ?? 'watch error')), { statusCode: code }) });
          return;
        }
        this.apply(ev);
      };
      const onClose = (err: unknown): void => {
        if (err) finish({ kind: 'error', err });
        else finish({ kind: 'closed', healthy: delivered || this.clock.now() - startedAt >= HEALTHY_WATCH_MS });
      };
      this.opts.transport.watch(this.path, query, onEvent, onClose).then(
        (h) => {
          handle = h;
          if (settled) {
            h.abort();
            return;
          }
          opened = true;
          this.openWatches++;
        },
        (err: unknown) => finish({ kind: 'error', err }),
      );
    });
  }

  private apply(ev: RawWatchEvent): void {
    const obj = (ev.type !== 'BOOKMARK' && this.opts.transform ? this.opts.transform(ev.object) : ev.object) as T;
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (ev.type === 'ADDED' || ev.type === 'MODIFIED') {
      this.cache.set(key, obj);
      this.emit(old ? { type: 'update', object: obj, old } : { type: 'add', object: obj });
    } else if (ev.type === 'DELETED') {
      this.cache.delete(key);
      this.emit({ type: 'delete', object: obj });
    }
    if (rv) this.resourceVersion = rv;
  }

  private emit(event: InformerEvent<T>): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        // A listener's bug must not stop the informer for every other listener.
        this.report(err);
      }
    }
  }

  private report(err: unknown): void {
    this.lastError = err;
    try {
      this.opts.onError?.(err);
    } catch {
      // Logging must never break the loop.
    }
  }

  /** Sleeps min(max, initial·2^(n-1)) ± 20 %; resolves early when stopped. */
  private backoff(): Promise<void> {
    this.failures++;
    const base = Math.min(this.maxBackoff, this.initialBackoff * 2 ** (this.failures - 1));
    const delay = Math.min(this.maxBackoff, Math.max(0, base * (1 + JITTER * (2 * this.random() - 1))));
    return new Promise((resolve) => {
      if (!this.running) return resolve();
      const cancelTimer = this.clock.setTimeout(() => {
        this.cancelCurrent = undefined;
        resolve();
      }, delay);
      this.cancelCurrent = () => {
        cancelTimer();
        this.cancelCurrent = undefined;
        resolve();
      };
    });
  }
}
