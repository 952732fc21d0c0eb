import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import type { KObject, PatchType, PodLogOptions, PodLogSource, StatusObject, WatchEventType } from '../types.ts';
import { ApiError } from '../types.ts';
import type { ApiServer } from './apiServer.ts';
import type { DeleteOpts, WriteOpts, WriteResult } from './apiTypes.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import { isObject, obj } from './json.ts';
import { openApiDocument, openApiRoot } from './openApi.ts';
import { PROMETHEUS_SD_PATH, podTargetGroups } from './prometheusSd.ts';
import { decodeKubernetesProtobuf } from './protobufDecoder.ts';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { apiError, badRequest, methodNotAllowed, resourceNotFound, statusObject } from './statusErrors.ts';
import { toTable } from './tables.ts';

/** Fault injection knobs for resilience tests of clients (informers, retries, reconnects). */
export interface SandboxFaults {
  /** Ends every open HTTP watch response; in-process watches are unaffected. */
  dropWatches(): void;
  /** Forgets the watch history: resuming from any earlier resourceVersion answers 410 Gone. */
  compactHistory(): void;
  /** Answers the next `n` API requests with this status (429 carries Retry-After: 1). */
  failNext(n: number, code?: 500 | 429 | 503): void;
  /** Delays every API request by `ms` milliseconds (0 turns it off). */
  setLatency(ms: number): void;
  /** Stops the listener, disconnecting every client, and listens again on the same port with the same state. */
  restart(): Promise<void>;
}

export interface HttpFrontendOptions {
  /** Path of the admin fault endpoint (POST JSON `{ "action": "...", ... }`); undefined disables it. */
  adminFaultsPath?: string | undefined;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs?: number;
}

const MAX_BODY = 3 * 1024 * 1024;

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

function goQuoted(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Route {
  group: string;
  version: string;
  namespace: string | undefined;
  def: ResourceDef;
  name: string | undefined;
  sub: string | undefined;
  legacyWatch: boolean;
}

/** kube-apiserver's REST surface over node:http, delegating every operation to ApiServer. */
export class HttpFrontend {
  logs: PodLogSource | undefined;
  private server: http.Server | undefined;
  private port = 0;
  private host = '127.0.0.1';
  private readonly watches = new Set<ServerResponse>();
  private failRemaining = 0;
  private failCode: 500 | 429 | 503 = 500;
  private latencyMs = 0;
  readonly faults: SandboxFaults;

  constructor(
    private readonly api: ApiServer,
    private readonly opts: HttpFrontendOptions = {},
  ) {
    this.faults = {
      dropWatches: () => {
        for (const w of [...this.watches]) w.end();
        this.watches.clear();
      },
      compactHistory: () => this.api.store.compact(),
      failNext: (n, code = 500) => {
        this.failRemaining = n;
        this.failCode = code;
      },
      setLatency: (ms) => {
        this.latencyMs = Math.max(0, ms);
      },
      restart: async () => {
        await this.close();
        await this.listen(this.port, this.host);
      },
    };
  }

  get address(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.host = host;
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    for (const w of this.watches) w.destroy();
    this.watches.clear();
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  // ---------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    try {
      if (this.opts.adminFaultsPath && url.pathname === this.opts.adminFaultsPath) {
        await this.handleAdmin(req, res);
        return;
      }
      if (this.latencyMs) await sleep(this.latencyMs);
      if (this.failRemaining > 0 && !['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
        this.failRemaining--;
        const code = this.failCode;
        if (code === 429) {
          res.setHeader('Retry-After', '1');
          this.sendJson(res, 429, statusObject(429, 'TooManyRequests', 'the server has received too many requests and has asked us to try again later', { retryAfterSeconds: 1 }));
        } else if (code === 503) this.sendJson(res, 503, statusObject(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', {}));
        else this.sendJson(res, 500, statusObject(500, 'InternalError', 'Internal error occurred: injected fault', { causes: [{ reason: '', message: 'injected fault' }] }));
        return;
      }
      await this.route(req, res, url);
    } catch (e) {
      this.sendError(res, e);
    }
  }

  private sendError(res: ServerResponse, e: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (e instanceof ApiError) {
      this.sendJson(res, e.code, e.status);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/http]', e);
    this.sendJson(res, 500, statusObject(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ reason: '', message: msg }] }));
  }

  private sendJson(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
    const data = JSON.stringify(body);
    if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${goQuoted(w)}`));
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-cache, private' });
    res.end(data);
  }

  private async handleAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw methodNotAllowed();
    const body = obj(await this.readBody(req, 'application/json'));
    switch (body['action']) {
      case 'dropWatches':
        this.faults.dropWatches();
        break;
      case 'compactHistory':
        this.faults.compactHistory();
        break;
      case 'failNext':
        this.faults.failNext(Number(body['count'] ?? 1), (Number(body['code'] ?? 500) as 500 | 429 | 503) || 500);
        break;
      case 'setLatency':
        this.faults.setLatency(Number(body['ms'] ?? 0));
        break;
      case 'restart':
        this.sendJson(res, 202, { status: 'restarting' });
        setImmediate(() => void this.faults.restart());
        return;
      default:
        throw badRequest('action must be one of dropWatches, compactHistory, failNext, setLatency, restart');
    }
    this.sendJson(res, 200, { status: 'ok' });
  }

  private async readBody(req: IncomingMessage, contentType: string): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      const b = c as Buffer;
      size += b.length;
      if (size > MAX_BODY) throw apiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      chunks.push(b);
    }
    if (/protobuf/.test(contentType)) return decodeKubernetesProtobuf(Buffer.concat(chunks));
    if (/cbor/.test(contentType))
      throw apiError(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf', {});
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text.trim()) return undefined;
    try {
      if (contentType.includes('yaml')) return parseYaml(text) as unknown;
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw badRequest(`error decoding request body: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private parseRoute(segs: string[]): Route | 'discovery' {
    let group = '';
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      version = segs[1] ?? '';
      rest = segs.slice(2);
    } else {
      group = segs[1] ?? '';
      version = segs[2] ?? '';
      rest = segs.slice(3);
    }
    if (rest.length === 0) return 'discovery';
    let legacyWatch = false;
    if (rest[0] === 'watch') {
      legacyWatch = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource = '', name, sub, ...extra] = rest;
    const def = this.api.registry.find(group, version, resource);
    if (!def || extra.length) throw resourceNotFound();
    if (namespace !== undefined && !def.namespaced) throw resourceNotFound();
    return { group, version, namespace, def, name, sub, legacyWatch };
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const segs = path.split('/').filter(Boolean);
    const accept = String(req.headers['accept'] ?? '');
    if (segs[0] === 'openapi' && segs[1] !== 'v3') throw resourceNotFound();
    if (accept && /protobuf/.test(accept) && !/json|\*\/\*|yaml/.test(accept))
      throw apiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml', {});
    if (path === '/version') return this.sendJson(res, 200, SERVER_VERSION);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/api') return this.sendJson(res, 200, apiVersions(`${this.host}:${this.port}`));
    if (path === '/apis') return this.sendJson(res, 200, apiGroupList(this.api.registry));
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      if (segs.length === 2) return this.sendJson(res, 200, openApiRoot(this.api.registry));
      const doc = segs[2] === 'api' ? openApiDocument(this.api.registry, '', segs[3] ?? '') : openApiDocument(this.api.registry, segs[3] ?? '', segs[4] ?? '');
      if (!doc) throw resourceNotFound();
      return this.sendJson(res, 200, doc);
    }
    if (path === PROMETHEUS_SD_PATH) return this.servePrometheusSd(res, url, method);
    if (segs[0] !== 'api' && segs[0] !== 'apis') throw resourceNotFound();
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroup(this.api.registry, segs[1] ?? '');
      if (!g) throw resourceNotFound();
      return this.sendJson(res, 200, g);
    }
    const route = this.parseRoute(segs);
    if (route === 'discovery') {
      const list = segs[0] === 'api' ? apiResourceList(this.api.registry, '', segs[1] ?? '') : apiResourceList(this.api.registry, segs[1] ?? '', segs[2] ?? '');
      if (!list) throw resourceNotFound();
      return this.sendJson(res, 200, list);
    }
    await this.dispatch(req, res, url, route, method, accept);
  }

  /** Prometheus `http_sd_configs` for pods, optionally narrowed by `namespace` and `labelSelector`. */
  private servePrometheusSd(res: ServerResponse, url: URL, method: string): void {
    if (method !== 'GET') throw methodNotAllowed();
    const pods = this.api.registry.find('', 'v1', 'pods');
    if (!pods) throw resourceNotFound();
    const q = url.searchParams;
    const list = this.api.list(pods, { namespace: q.get('namespace') ?? undefined, labelSelector: q.get('labelSelector') ?? undefined });
    // Terminating pods stay targets until their object is gone, as with the real discovery.
    this.sendJson(res, 200, podTargetGroups(list.items));
  }

  private writeOpts(req: IncomingMessage, url: URL): WriteOpts {
    const q = url.searchParams;
    return {
      fieldManager: q.get('fieldManager') ?? undefined,
      dryRun: q.getAll('dryRun').includes('All'),
      force: q.get('force') === 'true',
      userAgent: req.headers['user-agent'],
    };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, method: string, accept: string): Promise<void> {
    const q = url.searchParams;
    const { def, namespace, name, sub } = r;
    const api = this.api;
    const contentType = String(req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
    const wantTable = /as=Table/.test(accept);
    const sendWrite = (code: number, w: WriteResult): void => this.sendJson(res, code, w.object, w.warnings);

    if (def.namespaced && namespace === undefined && name !== undefined) throw resourceNotFound();
    if (name === undefined) {
      const isWatch = r.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1';
      if (method === 'GET' && isWatch) return this.serveWatch(req, res, def, namespace, undefined, q, wantTable);
      if (method === 'GET') {
        const limit = q.get('limit');
        const list = api.list(def, {
          namespace,
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
          limit: limit ? Number(limit) : undefined,
          continue: q.get('continue') ?? undefined,
        });
        const meta: { resourceVersion: string; continue?: string; remainingItemCount?: number } = { resourceVersion: list.resourceVersion };
        if (list.continue) meta.continue = list.continue;
        if (list.remainingItemCount !== undefined) meta.remainingItemCount = list.remainingItemCount;
        if (wantTable) return this.sendJson(res, 200, toTable(def.kind, list.items, meta, (q.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? 'Metadata'));
        return this.sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: list.items });
      }
      if (method === 'POST') {
        if (def.namespaced && namespace === undefined) throw resourceNotFound();
        const body = await this.readBody(req, contentType);
        const w = api.create(def, namespace, body, this.writeOpts(req, url));
        return sendWrite(201, w);
      }
      if (method === 'DELETE') {
        const del = await this.deleteOpts(req, url, contentType);
        const items = api.deleteCollection(def, { namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, del);
        return this.sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(api.store.resourceVersion) }, items });
      }
      throw methodNotAllowed();
    }

    if (r.legacyWatch) {
      q.set('fieldSelector', `metadata.name=${name}`);
      return this.serveWatch(req, res, def, namespace, name, q, wantTable);
    }

    if (sub === undefined) {
      switch (method) {
        case 'GET': {
          if (q.get('watch') === 'true' || q.get('watch') === '1') {
            q.set('fieldSelector', `metadata.name=${name}`);
            return this.serveWatch(req, res, def, namespace, name, q, wantTable);
          }
          const o = api.get(def, namespace, name);
          if (wantTable) return this.sendJson(res, 200, toTable(def.kind, [o], { resourceVersion: o.metadata.resourceVersion ?? '' }, 'Metadata'));
          return this.sendJson(res, 200, o);
        }
        case 'PUT': {
          const body = await this.readBody(req, contentType);
          return sendWrite(200, api.update(def, namespace, name, body, this.writeOpts(req, url)));
        }
        case 'PATCH': {
          const { type, body } = await this.patchBody(req, contentType);
          const existed = type === 'apply' && this.exists(def, namespace, name);
          const w = api.patch(def, namespace, name, body, type, this.writeOpts(req, url));
          return sendWrite(type === 'apply' && !existed ? 201 : 200, w);
        }
        case 'DELETE': {
          const del = await this.deleteOpts(req, url, contentType);
          const { object, deleted } = api.delete(def, namespace, name, del);
          if (deleted && def.kind !== 'Pod' && def.kind !== 'Namespace') {
            const details: Record<string, string> = { name };
            if (def.group) details['group'] = def.group;
            details['kind'] = def.resource;
            details['uid'] = object.metadata.uid ?? '';
            return this.sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
          }
          return this.sendJson(res, 200, object);
        }
        default:
          throw methodNotAllowed();
      }
    }

    if (!def.subresources?.includes(sub)) throw resourceNotFound();
    switch (sub) {
      case 'status':
        if (method === 'GET') return this.sendJson(res, 200, api.get(def, namespace, name));
        if (method === 'PUT') return sendWrite(200, api.update(def, namespace, name, await this.readBody(req, contentType), this.writeOpts(req, url), 'status'));
        if (method === 'PATCH') {
          const { type, body } = await this.patchBody(req, contentType);
          return sendWrite(200, api.patch(def, namespace, name, body, type, this.writeOpts(req, url), 'status'));
        }
        throw methodNotAllowed();
      case 'scale':
        if (method === 'GET') return this.sendJson(res, 200, api.subresources.getScale(def, namespace, name));
        if (method === 'PUT') return sendWrite(200, api.subresources.updateScale(def, namespace, name, await this.readBody(req, contentType), this.writeOpts(req, url)));
        if (method === 'PATCH') {
          const { type, body } = await this.patchBody(req, contentType);
          return sendWrite(200, api.subresources.patchScale(def, namespace, name, body, type, this.writeOpts(req, url)));
        }
        throw methodNotAllowed();
      case 'binding':
        if (method !== 'POST') throw methodNotAllowed();
        return this.sendJson(res, 201, api.subresources.bind(namespace ?? '', name, await this.readBody(req, contentType)));
      case 'eviction':
        if (method !== 'POST') throw methodNotAllowed();
        return this.sendJson(res, 201, api.subresources.evict(namespace ?? '', name, await this.readBody(req, contentType)));
      case 'finalize': {
        if (method !== 'PUT') throw methodNotAllowed();
        const body = obj(await this.readBody(req, contentType));
        const cur = api.get(def, undefined, name);
        cur['spec'] = { ...obj(cur['spec']), finalizers: obj(body['spec'])['finalizers'] ?? [] };
        return sendWrite(200, api.update(def, undefined, name, cur, this.writeOpts(req, url)));
      }
      case 'log':
        if (method !== 'GET') throw methodNotAllowed();
        return this.serveLogs(req, res, namespace ?? '', name, q);
      default:
        throw resourceNotFound();
    }
  }

  private exists(def: ResourceDef, namespace: string | undefined, name: string): boolean {
    try {
      this.api.get(def, namespace, name);
      return true;
    } catch {
      return false;
    }
  }

  private async patchBody(req: IncomingMessage, contentType: string): Promise<{ type: PatchType; body: unknown }> {
    const type = PATCH_TYPES[contentType];
    if (!type)
      throw apiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
        {},
      );
    return { type, body: await this.readBody(req, contentType) };
  }

  private async deleteOpts(req: IncomingMessage, url: URL, contentType: string): Promise<DeleteOpts> {
    const q = url.searchParams;
    const body = obj(await this.readBody(req, contentType));
    const o: DeleteOpts = {};
    const policy = q.get('propagationPolicy') ?? (typeof body['propagationPolicy'] === 'string' ? body['propagationPolicy'] : undefined);
    if (policy !== undefined) {
      if (!['Background', 'Foreground', 'Orphan'].includes(policy))
        throw apiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
      o.propagationPolicy = policy as DeleteOpts['propagationPolicy'];
    } else if (body['orphanDependents'] === true || q.get('orphanDependents') === 'true') o.propagationPolicy = 'Orphan';
    const grace = q.get('gracePeriodSeconds') ?? (typeof body['gracePeriodSeconds'] === 'number' ? String(body['gracePeriodSeconds']) : undefined);
    if (grace !== undefined) o.gracePeriodSeconds = Number(grace);
    const dry = q.getAll('dryRun');
    if (dry.includes('All') || (Array.isArray(body['dryRun']) && body['dryRun'].includes('All'))) o.dryRun = true;
    if (isObject(body['preconditions'])) o.preconditions = body['preconditions'] as DeleteOpts['preconditions'];
    return o;
  }

  private serveWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDef, namespace: string | undefined, _name: string | undefined, q: URLSearchParams, table: boolean): void {
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
      unsubscribe = this.api.watch(
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
    this.watches.add(res);
    const timers: NodeJS.Timeout[] = [];
    const cleanup = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.watches.delete(res);
    };
    if (bookmarks) {
      const t = setInterval(() => {
        write('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(this.api.store.resourceVersion) } });
      }, this.opts.bookmarkIntervalMs ?? 10_000);
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

  private async serveLogs(req: IncomingMessage, res: ServerResponse, namespace: string, name: string, q: URLSearchParams): Promise<void> {
    const def = this.api.def('', 'v1', 'pods');
    this.api.get(def, namespace, name);
    if (!this.logs) throw badRequest(`pod ${name} does not have a log source`);
    const opts: PodLogOptions = {};
    const container = q.get('container');
    if (container) opts.container = container;
    if (q.get('follow') === 'true') opts.follow = true;
    if (q.get('timestamps') === 'true') opts.timestamps = true;
    if (q.get('previous') === 'true') opts.previous = true;
    for (const k of ['tailLines', 'sinceSeconds', 'limitBytes'] as const) {
      const v = q.get(k);
      if (v !== null) opts[k] = Number(v);
    }
    const abort = new AbortController();
    res.on('error', () => undefined);
    req.on('close', () => abort.abort());
    res.on('close', () => abort.abort());
    const it = this.logs.read(namespace, name, opts, abort.signal)[Symbol.asyncIterator]();
    let started = false;
    const begin = (): void => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
    };
    // Errors such as an unknown container must become a Status, so wait briefly before committing to 200.
    const headerTimer = setTimeout(begin, 300);
    let bytes = 0;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        begin();
        const line = `${opts.timestamps ? `${r.value.time} ` : ''}${r.value.line}\n`;
        if (opts.limitBytes !== undefined && bytes + line.length > opts.limitBytes) {
          res.write(line.slice(0, Math.max(0, opts.limitBytes - bytes)));
          break;
        }
        bytes += line.length;
        if (res.destroyed) break;
        res.write(line);
      }
    } catch (e) {
      clearTimeout(headerTimer);
      if (!started) throw e;
    }
    clearTimeout(headerTimer);
    begin();
    res.end();
  }
}
