import type { ClusterClient, DeleteOptions, KObject, ListOptions, PatchType, ResourceKey, StatusObject, WatchEvent, WatchOptions, WriteOptions } from '../types.ts';
import { ApiError } from '../types.ts';
import type { ApiServer } from './apiServer.ts';
import type { WriteOpts } from './apiTypes.ts';
import { clone } from './json.ts';

function writeOpts(opts: WriteOptions | undefined, fallbackManager: string): WriteOpts {
  return { fieldManager: opts?.fieldManager ?? fallbackManager, dryRun: opts?.dryRun, force: opts?.force };
}

/**
 * The ClusterClient controllers and kubelets use: the same ApiServer methods an HTTP request reaches,
 * without serialisation. Results are copies; watch callbacks run asynchronously in resourceVersion
 * order, so a handler that writes never re-enters the store. In-process watches are not closed by the
 * `dropWatches` fault: they are not connections.
 */
export function createInProcessClient(api: ApiServer, opts: { fieldManager?: string } = {}): ClusterClient {
  const manager = opts.fieldManager ?? 'berth-sandbox';
  // Calls resolve on a later tick, like a network round trip, so callers cannot depend on synchronous effects.
  const run = <T>(fn: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  return {
    get: (res, namespace, name) =>
      run(() => {
        try {
          return api.get(api.resolve(res), namespace, name);
        } catch (e) {
          if (e instanceof ApiError && e.code === 404 && e.status.message !== 'the server could not find the requested resource') return undefined;
          throw e;
        }
      }),
    list: (res: ResourceKey, o: ListOptions = {}) =>
      run(() => {
        const r = api.list(api.resolve(res), { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector });
        return { items: r.items.map((i) => clone(i)), resourceVersion: r.resourceVersion };
      }),
    // The server owns request bodies and shares stored objects in results, so both sides are copied;
    // bodies synchronously, since callers may reuse their object as soon as the call returns.
    create: (res, obj, o) => {
      const body = clone(obj);
      return run(() => clone(api.create(api.resolve(res), body.metadata.namespace, body, writeOpts(o, manager)).object));
    },
    update: (res, obj, o) => {
      const body = clone(obj);
      return run(() => clone(api.update(api.resolve(res), body.metadata.namespace, body.metadata.name ?? '', body, writeOpts(o, manager)).object));
    },
    updateStatus: (res, obj, o) => {
      const body = clone(obj);
      return run(() => clone(api.update(api.resolve(res), body.metadata.namespace, body.metadata.name ?? '', body, writeOpts(o, manager), 'status').object));
    },
    patch: (res: ResourceKey, namespace: string | undefined, name: string, patch: unknown, type: PatchType, o?: WriteOptions & { subresource?: 'status' | 'scale' }) => {
      const body = clone(patch);
      return run(() => {
        const d = api.resolve(res);
        const w = writeOpts(o, manager);
        if (o?.subresource === 'scale') return clone(api.subresources.patchScale(d, namespace, name, body, type, w).object);
        return clone(api.patch(d, namespace, name, body, type, w, o?.subresource).object);
      });
    },
    delete: (res, namespace, name, o?: DeleteOptions) =>
      run(() => {
        try {
          return clone(api.delete(api.resolve(res), namespace, name, { propagationPolicy: o?.propagationPolicy, gracePeriodSeconds: o?.gracePeriodSeconds, dryRun: o?.dryRun }).object);
        } catch (e) {
          if (e instanceof ApiError && e.code === 404 && e.status.details?.name === name) return undefined;
          throw e;
        }
      }),
    createSubresource: (res, namespace, name, subresource, body): Promise<KObject | StatusObject> => {
      const copy = clone(body);
      return run(() => {
        if (res.group !== '' || res.resource !== 'pods') throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', code: 404, details: {} });
        return subresource === 'binding' ? api.subresources.bind(namespace, name, copy) : api.subresources.evict(namespace, name, copy);
      });
    },
    watch(res: ResourceKey, o: WatchOptions, onEvent: (ev: WatchEvent) => void): () => void {
      const queue: WatchEvent[] = [];
      let scheduled = false;
      let closed = false;
      const flush = (): void => {
        scheduled = false;
        while (queue.length && !closed) {
          const ev = queue.shift();
          if (ev) onEvent(ev);
        }
      };
      const unsubscribe = api.watch(
        api.resolve(res),
        { namespace: o.namespace, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, resourceVersion: o.resourceVersion, sendInitialEvents: false },
        (type, object) => {
          if (closed) return;
          queue.push({ type, object: clone(object) });
          if (!scheduled) {
            scheduled = true;
            queueMicrotask(flush);
          }
        },
      );
      return () => {
        closed = true;
        unsubscribe();
      };
    },
  };
}
