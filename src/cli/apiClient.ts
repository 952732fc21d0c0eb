/**
 * Typed HTTP client for berth's v1 API, used by every remote CLI command (and by `berth up`, which
 * deploys its example through the same server path a user would). It speaks the wire shapes of
 * src/api/types.ts; errors come back as `ApiError` (a BerthError) carrying the server's code, hint
 * and problems, and a server that cannot be reached becomes BERTH_SERVER_UNREACHABLE.
 */
import { readFileSync } from 'node:fs';
import { readLocalTokenSync } from '../auth/bootstrapToken.ts';
import { BerthError, ERRORS, type ErrorCode, type Problem } from '../errors.ts';
import type {
  ApiErrorBody,
  AppDetail,
  AppList,
  DeleteResponse,
  DeployResponse,
  DiffResponse,
  LogLineDto,
  RenderResponse,
  RevisionList,
  StatusStreamEvent,
} from '../api/types.ts';
import type { AppStatus } from '../status/types.ts';
import { fetchTrustingCa } from './caFetch.ts';
import { SseParser, type SseMessage } from './sseParser.ts';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:7070';

/** The subset of WHATWG fetch the client needs; injectable so tests can count or fail requests. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
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

export interface DeployOptions {
  readonly dryRun?: boolean;
  /** Hold the response until the rollout finished (server side). */
  readonly wait?: boolean;
  /** If-Match: only succeed when the app's newest revision is exactly this (0 = must not exist). */
  readonly ifMatch?: number;
  readonly signal?: AbortSignal;
}

export interface LogOptions {
  readonly follow?: boolean;
  readonly tail?: number;
  /** Go-style duration, e.g. "10m". */
  readonly since?: string;
  readonly container?: string;
  readonly previous?: boolean;
  readonly signal?: AbortSignal;
}

export interface StreamOptions {
  /** Resume after this event id (sent as Last-Event-ID on the first request too). */
  readonly lastEventId?: string;
  readonly signal?: AbortSignal;
  /** Called after a dropped connection was re-established. */
  readonly onReconnect?: (attempt: number) => void;
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

function path(...segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
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

export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnects: number;

  constructor(opts: ApiClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? DEFAULT_SERVER_URL).replace(/\/+$/, '');
    this.token = opts.token;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.reconnectDelayMs = opts.reconnectDelayMs ?? 500;
    this.maxReconnects = opts.maxReconnects ?? 20;
  }

  // --- apps ------------------------------------------------------------------------------------------

  /** PUT an App document (the JSON value of one YAML/JSON document, as written by the user). */
  deploy(namespace: string, name: string, spec: unknown, opts: DeployOptions = {}): Promise<DeployResponse> {
    const query = new URLSearchParams();
    if (opts.dryRun) query.set('dryRun', 'true');
    if (opts.wait) query.set('wait', 'true');
    return this.json<DeployResponse>('PUT', `/v1/namespaces/${path(namespace, 'apps', name)}`, {
      query,
      body: spec,
      headers: opts.ifMatch !== undefined ? { 'if-match': String(opts.ifMatch) } : {},
      signal: opts.signal,
    });
  }

  listApps(namespace?: string): Promise<AppList> {
    return this.json<AppList>('GET', namespace === undefined ? '/v1/apps' : `/v1/namespaces/${path(namespace, 'apps')}`);
  }

  getApp(namespace: string, name: string): Promise<AppDetail> {
    return this.json<AppDetail>('GET', this.appPath(namespace, name));
  }

  deleteApp(namespace: string, name: string): Promise<DeleteResponse> {
    return this.json<DeleteResponse>('DELETE', this.appPath(namespace, name));
  }

  status(namespace: string, name: string): Promise<AppStatus> {
    return this.json<AppStatus>('GET', `${this.appPath(namespace, name)}/status`);
  }

  revisions(namespace: string, name: string): Promise<RevisionList> {
    return this.json<RevisionList>('GET', `${this.appPath(namespace, name)}/revisions`);
  }

  rollback(namespace: string, name: string, revision: number): Promise<DeployResponse> {
    return this.json<DeployResponse>('POST', `${this.appPath(namespace, name)}/rollback`, { body: { revision } });
  }

  render(spec: unknown): Promise<RenderResponse> {
    return this.json<RenderResponse>('POST', '/v1/render', { body: spec });
  }

  diff(namespace: string, name: string, spec: unknown): Promise<DiffResponse> {
    return this.json<DiffResponse>('POST', `${this.appPath(namespace, name)}/diff`, { body: spec });
  }

  // --- operations --------------------------------------------------------------------------------------

  async healthz(): Promise<boolean> {
    return (await this.send('GET', '/healthz')).ok;
  }

  /** /readyz answers 503 with a body when not ready; that is an answer, not an error. */
  async readyz(): Promise<{ ready: boolean; body: unknown }> {
    const res = await this.send('GET', '/readyz');
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // plain-text readiness bodies are fine
    }
    return { ready: res.ok, body };
  }

  /** Prometheus text exposition. */
  async metrics(): Promise<string> {
    const res = await this.send('GET', '/metrics');
    if (!res.ok) throw await this.errorFrom(res);
    return res.text();
  }

  // --- streams -------------------------------------------------------------------------------------

  /** Log lines of every pod of the app (NDJSON), following new pods with `follow`. */
  async *logs(namespace: string, name: string, opts: LogOptions = {}): AsyncGenerator<LogLineDto> {
    const query = new URLSearchParams({ format: 'ndjson' });
    if (opts.follow) query.set('follow', 'true');
    if (opts.tail !== undefined) query.set('tail', String(opts.tail));
    if (opts.since !== undefined) query.set('since', opts.since);
    if (opts.container !== undefined) query.set('container', opts.container);
    if (opts.previous) query.set('previous', 'true');
    const res = await this.send('GET', `${this.appPath(namespace, name)}/logs`, { query, accept: 'application/x-ndjson', signal: opts.signal });
    if (!res.ok) throw await this.errorFrom(res);
    if (!res.body) return;
    try {
      for await (const line of readLines(readChunks(res.body))) {
        if (line.trim() === '') continue;
        yield JSON.parse(line) as LogLineDto;
      }
    } catch (e) {
      if (isAbort(e, opts.signal)) return;
      throw e;
    }
  }

  /** Status changes of one app (SSE), resuming with Last-Event-ID across dropped connections. */
  appStatusStream(namespace: string, name: string, opts: StreamOptions = {}): AsyncGenerator<StatusStreamEvent> {
    return this.statusEvents(`${this.appPath(namespace, name)}/status/stream`, opts);
  }

  /** Status changes of every app the caller may see (SSE). */
  eventStream(opts: StreamOptions = {}): AsyncGenerator<StatusStreamEvent> {
    return this.statusEvents('/v1/events/stream', opts);
  }

  private async *statusEvents(route: string, opts: StreamOptions): AsyncGenerator<StatusStreamEvent> {
    for await (const msg of this.sse(route, opts)) {
      if (msg.event !== 'status' && msg.event !== 'deleted') continue;
      const event = JSON.parse(msg.data) as StatusStreamEvent;
      yield event;
    }
  }

  /**
   * Raw Server-Sent Events with reconnection: when the connection drops (server restart, proxy
   * timeout) it reconnects with the last seen id as Last-Event-ID, so the server replays what was
   * missed. Ends only when the consumer stops, the signal aborts, or the server stays unreachable
   * for `maxReconnects` attempts in a row. Error answers (4xx) end it with the server's error.
   */
  async *sse(route: string, opts: StreamOptions = {}): AsyncGenerator<SseMessage> {
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

  // --- plumbing ------------------------------------------------------------------------------------

  private appPath(namespace: string, name: string): string {
    return `/v1/namespaces/${path(namespace, 'apps', name)}`;
  }

  private async json<T>(
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

  private async send(
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

  private async errorFrom(res: Response): Promise<ApiError> {
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

/** Where and how a CLI command reaches its server. */
export interface Connection {
  readonly baseUrl: string;
  readonly token?: string;
  /** Set when BERTH_CA_FILE names an extra CA to trust for https:// servers. */
  readonly fetch?: FetchLike;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * --server beats BERTH_URL beats the default. Credentials: BERTH_TOKEN, else the bootstrap admin token
 * `berth up` / `berth server` wrote to `<stateDir>/admin.token` on this machine, sent only to a server
 * on this machine (a loopback URL) so a local admin token never travels to another host.
 * BERTH_CA_FILE: a PEM CA bundle to trust for an https:// server (e.g. a self-signed certificate).
 */
export function connectionFromEnv(env: Readonly<Record<string, string | undefined>>, server: string | undefined, stateDir: string | undefined): Connection {
  const baseUrl = server ?? (env['BERTH_URL'] || undefined) ?? DEFAULT_SERVER_URL;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new BerthError('BERTH_CLI_USAGE', `The server URL "${baseUrl}" is not a URL.`, { hint: 'Pass e.g. --server http://127.0.0.1:7070 (or set BERTH_URL).' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BerthError('BERTH_CLI_USAGE', `The server URL "${baseUrl}" must start with http:// or https://.`, { hint: 'Pass e.g. --server http://127.0.0.1:7070 (or set BERTH_URL).' });
  }
  const token = (env['BERTH_TOKEN'] || undefined) ?? (stateDir !== undefined && isLoopback(parsed.hostname) ? readLocalTokenSync(stateDir) : undefined);
  const caFile = env['BERTH_CA_FILE'] || undefined;
  let ca: Buffer | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new BerthError('BERTH_FILE_NOT_FOUND', `Cannot read BERTH_CA_FILE ${caFile}: ${e instanceof Error ? e.message : String(e)}.`, { cause: e });
    }
  }
  return { baseUrl, ...(token !== undefined ? { token } : {}), ...(ca !== undefined ? { fetch: fetchTrustingCa(ca) } : {}) };
}

/** The client a CLI command uses (see `connectionFromEnv`); `stateDir` is where the local token file is looked for. */
export function apiClientFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  server?: string,
  extra: Omit<ApiClientOptions, 'baseUrl' | 'token'> & { readonly stateDir?: string } = {},
): ApiClient {
  const { stateDir, ...options } = extra;
  const conn = connectionFromEnv(env, server, stateDir);
  return new ApiClient({ ...(conn.fetch ? { fetch: conn.fetch } : {}), ...options, baseUrl: conn.baseUrl, ...(conn.token !== undefined ? { token: conn.token } : {}) });
}
