/**
 * Typed client of berth's v1 API, used by every remote CLI command (and by `berth up`, which deploys
 * its example through the same server path a user would): one method per route, speaking the wire
 * shapes of src/api/types.ts. The HTTP and SSE plumbing (errors, reconnection) is httpTransport.ts.
 */
import type { LoadJobStreamEvent, LoadRun, LoadRunInput, LoadRunListItem } from '../load/types.ts';
import type { LoadJobBody } from '../load/loadJobRoutes.ts';
import type {
  AppDetail,
  AppHealth,
  AppList,
  DeleteResponse,
  DeployResponse,
  DiffResponse,
  HealthSeries,
  LogLineDto,
  RenderResponse,
  RevisionList,
  StatusStreamEvent,
  AlertList,
} from '../api/types.ts';
import type { AlertState } from '../alerts/alertTypes.ts';
import type { AppStatus } from '../status/types.ts';
import type { StackDeployResult } from '../stacks/stackEngine.ts';
import type { StackDiff } from '../stacks/stackDiff.ts';
import type { StackRevisionRow, StackRow } from '../stacks/stackStore.ts';
import type { StackStatus } from '../stacks/stackTypes.ts';

/** A stack as GET /v1/…/stacks lists it. */
export type StackSummary = Omit<StackRow, 'spec'>;
export type StackDetail = StackSummary & { readonly spec: unknown; readonly status: StackStatus };
import { connectionFromEnv } from './connection.ts';
import { HttpTransport, type HttpTransportOptions, type SseOptions } from './httpTransport.ts';

export type ApiClientOptions = HttpTransportOptions;
export type StreamOptions = SseOptions;

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

export class ApiClient {
  private readonly http: HttpTransport;

  constructor(opts: ApiClientOptions = {}) {
    this.http = new HttpTransport(opts);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  // --- apps ------------------------------------------------------------------------------------------

  /** PUT an App document (the JSON value of one YAML/JSON document, as written by the user). */
  deploy(namespace: string, name: string, spec: unknown, opts: DeployOptions = {}): Promise<DeployResponse> {
    const query = new URLSearchParams();
    if (opts.dryRun) query.set('dryRun', 'true');
    if (opts.wait) query.set('wait', 'true');
    return this.http.json<DeployResponse>('PUT', `/v1/namespaces/${path(namespace, 'apps', name)}`, {
      query,
      body: spec,
      headers: opts.ifMatch !== undefined ? { 'if-match': String(opts.ifMatch) } : {},
      signal: opts.signal,
    });
  }

  listApps(namespace?: string): Promise<AppList> {
    return this.http.json<AppList>('GET', namespace === undefined ? '/v1/apps' : `/v1/namespaces/${path(namespace, 'apps')}`);
  }

  /** GET /v1/alerts (every namespace the token may see, or one). */
  listAlerts(q: { readonly namespace?: string; readonly state?: AlertState } = {}): Promise<AlertList> {
    const params = new URLSearchParams();
    if (q.namespace !== undefined) params.set('namespace', q.namespace);
    if (q.state !== undefined) params.set('state', q.state);
    const query = params.toString();
    return this.http.json<AlertList>('GET', `/v1/alerts${query === '' ? '' : `?${query}`}`);
  }

  getApp(namespace: string, name: string): Promise<AppDetail> {
    return this.http.json<AppDetail>('GET', this.appPath(namespace, name));
  }

  deleteApp(namespace: string, name: string): Promise<DeleteResponse> {
    return this.http.json<DeleteResponse>('DELETE', this.appPath(namespace, name));
  }

  status(namespace: string, name: string): Promise<AppStatus> {
    return this.http.json<AppStatus>('GET', `${this.appPath(namespace, name)}/status`);
  }

  health(namespace: string, name: string): Promise<AppHealth> {
    return this.http.json<AppHealth>('GET', `${this.appPath(namespace, name)}/health`);
  }

  healthSeries(namespace: string, name: string, opts: { readonly since?: string; readonly step?: '1m' | '1h' } = {}): Promise<HealthSeries> {
    const query = new URLSearchParams();
    if (opts.since !== undefined) query.set('since', opts.since);
    if (opts.step !== undefined) query.set('step', opts.step);
    return this.http.json<HealthSeries>('GET', `${this.appPath(namespace, name)}/health/series`, { query });
  }

  revisions(namespace: string, name: string): Promise<RevisionList> {
    return this.http.json<RevisionList>('GET', `${this.appPath(namespace, name)}/revisions`);
  }

  rollback(namespace: string, name: string, revision: number): Promise<DeployResponse> {
    return this.http.json<DeployResponse>('POST', `${this.appPath(namespace, name)}/rollback`, { body: { revision } });
  }

  recordLoadRun(namespace: string, name: string, run: LoadRunInput): Promise<LoadRun> {
    return this.http.json<LoadRun>('POST', `${this.appPath(namespace, name)}/loadruns`, { body: run });
  }

  loadRuns(namespace: string, name: string): Promise<{ items: LoadRunListItem[] }> {
    return this.http.json<{ items: LoadRunListItem[] }>('GET', `${this.appPath(namespace, name)}/loadruns`);
  }

  render(spec: unknown): Promise<RenderResponse> {
    return this.http.json<RenderResponse>('POST', '/v1/render', { body: spec });
  }

  diff(namespace: string, name: string, spec: unknown): Promise<DiffResponse> {
    return this.http.json<DiffResponse>('POST', `${this.appPath(namespace, name)}/diff`, { body: spec });
  }

  // --- stacks ----------------------------------------------------------------------------------------

  deployStack(namespace: string, name: string, document: unknown, opts: DeployOptions = {}): Promise<StackDeployResult> {
    const query = new URLSearchParams();
    if (opts.dryRun) query.set('dryRun', 'true');
    if (opts.wait) query.set('wait', 'true');
    return this.http.json<StackDeployResult>('PUT', `/v1/namespaces/${path(namespace, 'stacks', name)}`, {
      query,
      body: document,
      headers: opts.ifMatch !== undefined ? { 'if-match': String(opts.ifMatch) } : {},
      signal: opts.signal,
    });
  }

  listStacks(namespace?: string): Promise<{ items: StackSummary[] }> {
    return this.http.json('GET', namespace === undefined ? '/v1/stacks' : `/v1/namespaces/${path(namespace, 'stacks')}`);
  }

  getStack(namespace: string, name: string): Promise<StackDetail> {
    return this.http.json('GET', `/v1/namespaces/${path(namespace, 'stacks', name)}`);
  }

  stackStatus(namespace: string, name: string): Promise<StackStatus> {
    return this.http.json('GET', `/v1/namespaces/${path(namespace, 'stacks', name)}/status`);
  }

  stackRevisions(namespace: string, name: string): Promise<{ items: StackRevisionRow[] }> {
    return this.http.json('GET', `/v1/namespaces/${path(namespace, 'stacks', name)}/revisions`);
  }

  rollbackStack(namespace: string, name: string, revision: number): Promise<StackDeployResult> {
    return this.http.json('POST', `/v1/namespaces/${path(namespace, 'stacks', name)}/rollback`, { body: { revision } });
  }

  rotateStack(namespace: string, name: string, resource: string): Promise<StackDeployResult> {
    return this.http.json('POST', `/v1/namespaces/${path(namespace, 'stacks', name)}/rotate`, { body: { resource } });
  }

  deleteStack(namespace: string, name: string, opts: { readonly purge?: boolean } = {}): Promise<DeleteResponse> {
    const query = new URLSearchParams();
    if (opts.purge) query.set('purge', 'true');
    return this.http.json('DELETE', `/v1/namespaces/${path(namespace, 'stacks', name)}`, { query });
  }

  diffStack(namespace: string, name: string, document: unknown): Promise<StackDiff> {
    return this.http.json('POST', `/v1/namespaces/${path(namespace, 'stacks', name)}/diff`, { body: document });
  }

  // --- operations --------------------------------------------------------------------------------------

  async healthz(): Promise<boolean> {
    return (await this.http.send('GET', '/healthz')).ok;
  }

  /** /readyz answers 503 with a body when not ready; that is an answer, not an error. */
  async readyz(): Promise<{ ready: boolean; body: unknown }> {
    const res = await this.http.send('GET', '/readyz');
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
    const res = await this.http.send('GET', '/metrics');
    if (!res.ok) throw await this.http.errorFrom(res);
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
    yield* this.http.ndjson<LogLineDto>(`${this.appPath(namespace, name)}/logs`, { query, signal: opts.signal });
  }

  /** `berth load --in-cluster`: the server runs the generator as a Job and streams its progress until the result or an error. */
  loadJob(namespace: string, name: string, body: LoadJobBody, opts: { readonly signal?: AbortSignal } = {}): AsyncGenerator<LoadJobStreamEvent> {
    return this.http.ndjson<LoadJobStreamEvent>(`${this.appPath(namespace, name)}/loadjobs`, { method: 'POST', body, signal: opts.signal });
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
    for await (const msg of this.http.sse(route, opts)) {
      if (msg.event !== 'status' && msg.event !== 'deleted') continue;
      const event = JSON.parse(msg.data) as StatusStreamEvent;
      yield event;
    }
  }

  private appPath(namespace: string, name: string): string {
    return `/v1/namespaces/${path(namespace, 'apps', name)}`;
  }
}

function path(...segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
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
