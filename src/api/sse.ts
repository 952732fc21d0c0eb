import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  /** Writes one event; `id` is omitted for snapshots that are not part of the resumable sequence. */
  send(event: { readonly id?: number; readonly event: string; readonly data: unknown }): void;
  /** Runs `fn` when the client goes away (or the stream is closed). */
  onClose(fn: () => void): void;
  close(): void;
  readonly closed: boolean;
}

export const HEARTBEAT_MS = 15_000;

/**
 * Turns the reply into a Server-Sent Events stream. Heartbeat comments keep proxies from timing the
 * connection out; everything registered with onClose runs once when the client disconnects.
 */
export function openSse(request: FastifyRequest, reply: FastifyReply, opts: { readonly heartbeatMs?: number; readonly signal?: AbortSignal } = {}): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    // no-store: status carries pod names and messages that no shared cache should keep.
    'cache-control': 'no-store, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': String(request.id),
  });
  // Tell EventSource clients how soon to reconnect; they send Last-Event-ID when they do.
  res.write('retry: 2000\n\n');
  const cleanups: Array<() => void> = [];
  let closed = false;
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': heartbeat\n\n');
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of cleanups.splice(0)) {
      try {
        fn();
      } catch (e) {
        request.log.warn({ err: e }, 'SSE cleanup failed');
      }
    }
    if (!res.writableEnded) res.end();
  };
  request.raw.on('close', close);
  res.on('close', close);
  // The caller's credential was revoked or expired: a last comment says why (parsers skip it), then
  // the stream ends; a reconnect with the same credential is refused with 401.
  const onEnd = (): void => {
    if (!closed && !res.writableEnded) res.write(': closed: the credential of this stream was revoked or expired\n\n');
    close();
  };
  if (opts.signal?.aborted) onEnd();
  else opts.signal?.addEventListener('abort', onEnd, { once: true });
  cleanups.push(() => opts.signal?.removeEventListener('abort', onEnd));
  return {
    send(e) {
      if (closed) return;
      const lines = [`${e.id !== undefined ? `id: ${e.id}\n` : ''}event: ${e.event}`, `data: ${JSON.stringify(e.data)}`];
      res.write(`${lines.join('\n')}\n\n`);
    },
    onClose(fn) {
      if (closed) fn();
      else cleanups.push(fn);
    },
    close,
    get closed() {
      return closed;
    },
  };
}

/** Last-Event-ID (header, or `lastEventId` query for clients that cannot set headers) as a number. */
export function lastEventId(request: FastifyRequest): number | undefined {
  const raw = request.headers['last-event-id'] ?? (request.query as Record<string, unknown> | undefined)?.['lastEventId'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}
