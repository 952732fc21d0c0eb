/**
 * One EventSource per tab (GET /v1/live) carrying every subscription of the page, so any number of
 * apps, app views and followed logs share one connection (the browser allows six per origin over
 * HTTP/1.1). Subscriptions are added and removed with small POST/DELETE calls on the stream; after a
 * reconnect every active subscription is sent again and replays its snapshot.
 */
import type { LiveEvents, LiveSubscribeRequest } from '../../src/api/types.ts';
import { api, ApiError, type ApiErrorInfo } from './api.ts';

/** A subscription as the page asks for it; the id is given here. */
export type SubscribeRequest = LiveSubscribeRequest extends infer R ? (R extends LiveSubscribeRequest ? Omit<R, 'id'> : never) : never;

type Handler = (name: keyof LiveEvents, data: LiveEvents[keyof LiveEvents]) => void;

export type LiveState = 'connecting' | 'open' | 'closed';

interface Sub {
  readonly req: LiveSubscribeRequest;
  readonly handler: Handler;
  readonly onError: (e: ApiErrorInfo) => void;
}

let source: EventSource | undefined;
let streamId: string | undefined;
let nextId = 1;
const subs = new Map<string, Sub>();
const stateListeners = new Set<(s: LiveState) => void>();
let state: LiveState = 'closed';

function setState(s: LiveState): void {
  state = s;
  for (const l of stateListeners) l(s);
}

export function onLiveState(fn: (s: LiveState) => void): () => void {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

async function send(sub: Sub): Promise<void> {
  if (streamId === undefined) return;
  try {
    await api(`/v1/live/${streamId}/subscriptions`, { method: 'POST', body: sub.req });
  } catch (e) {
    sub.onError(e instanceof ApiError ? e.info : ({ code: 'BERTH_INTERNAL', status: 500, message: String(e), hint: '' } as ApiErrorInfo));
  }
}

function dispatch(name: keyof LiveEvents) {
  return (ev: MessageEvent<string>): void => {
    const data = JSON.parse(ev.data) as LiveEvents[keyof LiveEvents];
    const sub = 'sub' in data ? subs.get(data.sub) : undefined;
    if (name === 'sub-end' && sub && 'error' in data && data.error) sub.onError(data.error as ApiErrorInfo);
    sub?.handler(name, data);
  };
}

function connect(): void {
  if (source !== undefined) return;
  setState('connecting');
  source = new EventSource('/v1/live');
  source.addEventListener('hello', (ev: MessageEvent<string>) => {
    streamId = (JSON.parse(ev.data) as LiveEvents['hello']).streamId;
    setState('open');
    for (const sub of subs.values()) void send(sub);
  });
  for (const name of ['status', 'deleted', 'logs', 'sub-end'] as const) source.addEventListener(name, dispatch(name) as EventListener);
  source.onerror = () => {
    // EventSource reconnects by itself (retry: 2000); a new stream id arrives with its hello.
    streamId = undefined;
    setState(source?.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
    if (source?.readyState === EventSource.CLOSED) {
      source = undefined;
      setTimeout(() => subs.size > 0 && connect(), 3000);
    }
  };
}

export function closeLive(): void {
  source?.close();
  source = undefined;
  streamId = undefined;
  subs.clear();
  setState('closed');
}

/** Subscribes on the tab's stream; returns the unsubscribe function. */
export function subscribe(req: SubscribeRequest, handler: Handler, onError: (e: ApiErrorInfo) => void): () => void {
  const id = `s${nextId++}`;
  const sub: Sub = { req: { ...req, id } as LiveSubscribeRequest, handler, onError };
  subs.set(id, sub);
  connect();
  void send(sub);
  return () => {
    subs.delete(id);
    if (streamId !== undefined) void api(`/v1/live/${streamId}/subscriptions/${id}`, { method: 'DELETE' }).catch(() => undefined);
  };
}
