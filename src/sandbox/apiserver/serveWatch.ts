import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KObject, StatusObject, WatchEventType } from '../types.ts';
import { ApiError } from '../types.ts';
import type { ApiServer } from './apiServer.ts';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { toTable } from './tables.ts';

/** What a watch stream needs from its frontend: the API, the set of open watches (for dropping them), the bookmark interval. */
export interface WatchStreamContext {
  api: ApiServer;
  watches: Set<ServerResponse>;
  bookmarkIntervalMs: number | undefined;
}

/** Streams watch events as newline-delimited JSON until the client leaves, the timeout passes or the watch is dropped. */
export function serveWatch(ctx: WatchStreamContext, req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, q: URLSearchParams, table: boolean): void {
  const rv = q.get('resourceVersion') ?? undefined;
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const timeout = q.get('timeoutSeconds');
  let headersSent = false;
  const start = (): void => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
  };
  // A client that went away must not turn a store event into a write-after-end error.
  res.on('error', () => undefined);
  const write = (type: WatchEventType, object: KObject | StatusObject): void => {
    if (res.writableEnded || res.destroyed) return;
    start();
    let o: unknown = object;
    if (table && type !== 'ERROR' && type !== 'BOOKMARK') o = toTable(def.kind, [object as KObject], { resourceVersion: (object as KObject).metadata.resourceVersion ?? '' }, 'Object');
    res.write(`${JSON.stringify({ type, object: o })}\n`);
  };
  let unsubscribe: () => void;
  try {
    unsubscribe = ctx.api.watch(
      def,
      { namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined, resourceVersion: rv, sendInitialEvents: !rv || rv === '0' },
      (type, object) => write(type, object),
    );
  } catch (e) {
    if (e instanceof ApiError && e.code === 410) {
      write('ERROR', e.status);
      res.end();
      return;
    }
    throw e;
  }
  start();
  ctx.watches.add(res);
  const timers: NodeJS.Timeout[] = [];
  const cleanup = (): void => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    ctx.watches.delete(res);
  };
  if (bookmarks) {
    const t = setInterval(() => {
      write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(ctx.api.store.resourceVersion) } });
    }, ctx.bookmarkIntervalMs ?? 10_000);
    t.unref();
    timers.push(t);
  }
  if (timeout && Number(timeout) > 0) {
    const t = setTimeout(() => res.end(), Number(timeout) * 1000);
    t.unref();
    timers.push(t);
  }
  res.on('close', cleanup);
  res.on('finish', cleanup);
  req.on('close', () => {
    if (!res.writableEnded) res.end();
  });
}
