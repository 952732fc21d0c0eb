/**
 * HTTP and Server-Sent Events plumbing of the berth CLI's API client: requests with the bearer token,
 * JSON bodies, the server's error envelope turned into `ApiError`, an unreachable server turned into
 * BERTH_SERVER_UNREACHABLE, line and SSE streams with reconnection. Knows no routes: apiClient.ts does.
 */
import { BerthError, ERRORS, type ErrorCode, type Problem } from '../errors.ts';
import type { ApiErrorBody } from '../api/types.ts';
import { SseParser, type SseMessage } from './sseParser.ts';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:7070';

/** The subset of WHATWG fetch the client needs; injectable so tests can count or fail requests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpTransportOptions {
  /** Base URL, e.g. http://127.0.0.1:7070 (a trailing slash is ignored). */
  readonly baseUrl?: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  readonly token?: string;
  readonly fetch?: FetchLike;
  /** Reconnect delay of the SSE streams until the server sends `retry:` (ms). */
  readonly reconnectDelayMs?: number;
  /** Consecutive failed reconnects after which a stream gives up with BERTH_SERVER_UNREACHABLE. */
  readonly maxReconnects?: number;
}

export interface SseOptions {
  /** Resume after this event id (sent as Last-Event-ID on the first request too). */
  readonly lastEventId?: string;
  readonly signal?: AbortSignal;
  /** Called after a dropped connection was re-established. */
  readonly onReconnect?: (attempt: number) => void;
}

/** An error answered by the berth server (or the failure to reach it). */
export class ApiError extends BerthError {
  /** The HTTP status the server answered with; 0 when it could not be reached. */
  readonly httpStatus: number;
  readonly requestId: string | null;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; problems?: readonly Problem[]; httpStatus: number; requestId?: string | null; cause?: unknown }) {
    super(code, message, {
      ...(opts.hint !== undefined ? { hint: opts.hint } : {}),
      ...(opts.problems !== undefined ? { problems: opts.problems } : {}),
      ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
    });
    this.name = 'ApiError';
    this.httpStatus = opts.httpStatus;
    this.requestId = opts.requestId ?? null;
  }
}

/** Connection-level failures: nothing answered at that address. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

function causeCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
    cur = cur.cause;
  }
  return undefined;
}

function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e instanceof Error && e.name === 'AbortError');
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  const e = (v as { error?: { code?: unknown } } | null)?.error;
  return typeof e === 'object' && e !== null && typeof e.code === 'string';
}

function isKnownCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

async function* readChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    // Cancelling releases the socket when the consumer stops early.
    await reader.cancel().catch(() => undefined);
  }
}

/** Splits a text stream into lines (\n or \r\n), yielding a last unterminated line at the end. */
export async function* readLines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      yield buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) yield buffer.replace(/\r$/, '');
}

export class HttpTransport {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnects: number;

  constructor(opts: HttpTransportOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_SERVER_URL).replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.reconnectDelayMs = opts.reconnectDelayMs ?? 500;
    this.maxReconnects = opts.maxReconnects ?? 20;
  }

  /** Newline-delimited JSON, one value per line (a GET, or a POST of `body`); ends quietly when `signal` aborts. */
  async *ndjson<T>(route: string, opts: { query?: URLSearchParams; signal?: AbortSignal | undefined; method?: 'GET' | 'POST'; body?: unknown }): AsyncGenerator<T> {
    const { method = 'GET', ...rest } = opts;
    const res = await this.send(method, route, { ...rest, accept: 'application/x-ndjson' });
    if (!res.ok) throw await this.errorFrom(res);
    if (!res.body) return;
    try {
      for await (const line of readLines(readChunks(res.body))) {
        if (line.trim() === '') continue;
        yield JSON.parse(line) as T;
      }
    } catch (e) {
      if (isAbort(e, opts.signal)) return;
      throw e;
    }
  }

  /**
   * Raw Server-Sent Events with reconnection: when the connection drops (server restart, proxy
   * timeout) it reconnects with the last seen id as Last-Event-ID, so the server replays what was
   * missed. Ends only when the consumer stops, the signal aborts, or the server stays unreachable
   * for `maxReconnects` attempts in a row. Error answers (4xx) end it with the server's error.
   */
  async *sse(route: string, opts: SseOptions = {}): AsyncGenerator<SseMessage> {
    let lastEventId = opts.lastEventId;
    let delay = this.reconnectDelayMs;
    let failures = 0;
    let connects = 0;
    for (;;) {
      if (opts.signal?.aborted) return;
      let res: Response | undefined;
      try {
        res = await this.send('GET', route, {
          accept: 'text/event-stream',
          headers: lastEventId !== undefined ? { 'last-event-id': lastEventId } : {},
          signal: opts.signal,
        });
      } catch (e) {
        if (isAbort(e, opts.signal)) return;
        if (!(e instanceof ApiError && e.code === 'BERTH_SERVER_UNREACHABLE') || ++failures > this.maxReconnects) throw e;
      }
      if (res && !res.ok) {
        // A restarting server behind a proxy answers 502/503 for a moment; anything else is final.
        if (![502, 503, 504].includes(res.status) || ++failures > this.maxReconnects) throw await this.errorFrom(res);
        await res.body?.cancel().catch(() => undefined);
        res = undefined;
      }
      if (res && !res.body && ++failures > this.maxReconnects) throw new ApiError('BERTH_INTERNAL', `The server answered GET ${route} without a body.`, { httpStatus: res.status });
      if (res?.body) {
        failures = 0;
        if (connects++ > 0) opts.onReconnect?.(connects - 1);
        const parser = new SseParser();
        try {
          for await (const chunk of readChunks(res.body)) {
            for (const msg of parser.push(chunk)) {
              if (msg.id !== undefined) lastEventId = msg.id;
              if (msg.retry !== undefined) delay = msg.retry;
              yield msg;
            }
          }
        } catch (e) {
          if (isAbort(e, opts.signal)) return;
          // A dropped connection: fall through to reconnect.
        }
      }
      if (opts.signal?.aborted) return;
      await sleep(delay, opts.signal);
    }
  }

  async json<T>(
    method: string,
    route: string,
    opts: { query?: URLSearchParams; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal | undefined } = {},
  ): Promise<T> {
    const res = await this.send(method, route, { ...opts, accept: 'application/json' });
    if (!res.ok) throw await this.errorFrom(res);
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new ApiError('BERTH_INTERNAL', `The server answered ${method} ${route} with a body that is not JSON: ${text.slice(0, 200)}`, {
        httpStatus: res.status,
        cause: e,
      });
    }
  }

  async send(
    method: string,
    route: string,
    opts: { query?: URLSearchParams; body?: unknown; headers?: Record<string, string>; accept?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<Response> {
    const qs = opts.query && [...opts.query.keys()].length > 0 ? `?${opts.query.toString()}` : '';
    const url = `${this.baseUrl}${route}${qs}`;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.accept) headers['accept'] = opts.accept;
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (e) {
      if (isAbort(e, opts.signal)) throw e;
      const code = causeCode(e);
      if (code !== undefined || e instanceof TypeError) {
        throw new ApiError('BERTH_SERVER_UNREACHABLE', `Cannot reach the berth server at ${this.baseUrl} (${code ?? (e instanceof Error ? e.message : String(e))}).`, {
          hint: 'Start one with "berth up" (sandbox) or "berth server --kubeconfig FILE", or point --server / BERTH_URL at a running server.',
          httpStatus: 0,
          cause: e,
        });
      }
      throw e;
    }
  }

  async errorFrom(res: Response): Promise<ApiError> {
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (isErrorBody(body)) {
      const e = body.error;
      if (isKnownCode(e.code)) {
        return new ApiError(e.code, e.message, { hint: e.hint, problems: e.problems ?? [], httpStatus: res.status, requestId: e.requestId ?? null });
      }
      // A newer server may know codes this CLI does not; keep its words.
      return new ApiError('BERTH_INTERNAL', `${String(e.code)}: ${e.message}`, { hint: e.hint, problems: [], httpStatus: res.status, requestId: e.requestId ?? null });
    }
    const code: ErrorCode = res.status === 404 ? 'BERTH_ROUTE_NOT_FOUND' : 'BERTH_INTERNAL';
    return new ApiError(code, `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 300)}` : ''}`, { httpStatus: res.status });
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
