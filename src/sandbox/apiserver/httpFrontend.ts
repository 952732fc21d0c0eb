import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PodLogSource } from '../types.ts';
import type { ApiServer } from './apiServer.ts';
import type { WriteResult } from './apiTypes.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import { readBody, readDeleteOpts, readPatchBody, writeOptsOf } from './httpRequest.ts';
import { sendError, sendJson } from './httpResponse.ts';
import { obj } from './json.ts';
import { openApiDocument, openApiRoot } from './openApi.ts';
import { parseRoute } from './parseRoute.ts';
import type { Route } from './parseRoute.ts';
import { PROMETHEUS_SD_PATH, podTargetGroups } from './prometheusSd.ts';
import { apiVersionOf } from './resourceRegistry.ts';
import type { ResourceDef } from './resourceRegistry.ts';
import { handleFaultAdmin, sendInjectedFault } from './sandboxFaults.ts';
import type { SandboxFaults } from './sandboxFaults.ts';
import { serveLogs } from './serveLogs.ts';
import { serveWatch } from './serveWatch.ts';
import type { WatchStreamContext } from './serveWatch.ts';
import { apiError, methodNotAllowed, resourceNotFound } from './statusErrors.ts';
import { toTable } from './tables.ts';

export interface HttpFrontendOptions {
  /** Path of the admin fault endpoint (POST JSON `{ "action": "...", ... }`); undefined disables it. */
  adminFaultsPath?: string | undefined;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
        await handleFaultAdmin(req, res, this.faults);
        return;
      }
      if (this.latencyMs) await sleep(this.latencyMs);
      if (this.failRemaining > 0 && !['/healthz', '/livez', '/readyz'].includes(url.pathname)) {
        this.failRemaining--;
        sendInjectedFault(res, this.failCode);
        return;
      }
      await this.route(req, res, url);
    } catch (e) {
      sendError(res, e);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const segs = path.split('/').filter(Boolean);
    const accept = String(req.headers['accept'] ?? '');
    if (segs[0] === 'openapi' && segs[1] !== 'v3') throw resourceNotFound();
    if (accept && /protobuf/.test(accept) && !/json|\*\/\*|yaml/.test(accept))
      throw apiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml', {});
    if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (path === '/api') return sendJson(res, 200, apiVersions(`${this.host}:${this.port}`));
    if (path === '/apis') return sendJson(res, 200, apiGroupList(this.api.registry));
    if (segs[0] === 'openapi' && segs[1] === 'v3') {
      if (segs.length === 2) return sendJson(res, 200, openApiRoot(this.api.registry));
      const doc = segs[2] === 'api' ? openApiDocument(this.api.registry, '', segs[3] ?? '') : openApiDocument(this.api.registry, segs[3] ?? '', segs[4] ?? '');
      if (!doc) throw resourceNotFound();
      return sendJson(res, 200, doc);
    }
    if (path === PROMETHEUS_SD_PATH) return this.servePrometheusSd(res, url, method);
    if (segs[0] !== 'api' && segs[0] !== 'apis') throw resourceNotFound();
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroup(this.api.registry, segs[1] ?? '');
      if (!g) throw resourceNotFound();
      return sendJson(res, 200, g);
    }
    const route = parseRoute(this.api.registry, segs);
    if (route === 'discovery') {
      const list = segs[0] === 'api' ? apiResourceList(this.api.registry, '', segs[1] ?? '') : apiResourceList(this.api.registry, segs[1] ?? '', segs[2] ?? '');
      if (!list) throw resourceNotFound();
      return sendJson(res, 200, list);
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
    sendJson(res, 200, podTargetGroups(list.items));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse, url: URL, r: Route, method: string, accept: string): Promise<void> {
    const q = url.searchParams;
    const { def, namespace, name, sub } = r;
    const api = this.api;
    const contentType = String(req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim() ?? '';
    const wantTable = /as=Table/.test(accept);
    const sendWrite = (code: number, w: WriteResult): void => sendJson(res, code, w.object, w.warnings);

    if (def.namespaced && namespace === undefined && name !== undefined) throw resourceNotFound();
    if (name === undefined) {
      const isWatch = r.legacyWatch || q.get('watch') === 'true' || q.get('watch') === '1';
      if (method === 'GET' && isWatch) return serveWatch(this.watchContext(), req, res, def, namespace, q, wantTable);
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
        if (wantTable) return sendJson(res, 200, toTable(def.kind, list.items, meta, (q.get('includeObject') as 'None' | 'Metadata' | 'Object' | null) ?? 'Metadata'));
        return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: list.items });
      }
      if (method === 'POST') {
        if (def.namespaced && namespace === undefined) throw resourceNotFound();
        const body = await readBody(req, contentType);
        const w = api.create(def, namespace, body, writeOptsOf(req, url));
        return sendWrite(201, w);
      }
      if (method === 'DELETE') {
        const del = await readDeleteOpts(req, url, contentType);
        const items = api.deleteCollection(def, { namespace, labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, del);
        return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: String(api.store.resourceVersion) }, items });
      }
      throw methodNotAllowed();
    }

    if (r.legacyWatch) {
      q.set('fieldSelector', `metadata.name=${name}`);
      return serveWatch(this.watchContext(), req, res, def, namespace, q, wantTable);
    }

    if (sub === undefined) {
      switch (method) {
        case 'GET': {
          if (q.get('watch') === 'true' || q.get('watch') === '1') {
            q.set('fieldSelector', `metadata.name=${name}`);
            return serveWatch(this.watchContext(), req, res, def, namespace, q, wantTable);
          }
          const o = api.get(def, namespace, name);
          if (wantTable) return sendJson(res, 200, toTable(def.kind, [o], { resourceVersion: o.metadata.resourceVersion ?? '' }, 'Metadata'));
          return sendJson(res, 200, o);
        }
        case 'PUT': {
          const body = await readBody(req, contentType);
          return sendWrite(200, api.update(def, namespace, name, body, writeOptsOf(req, url)));
        }
        case 'PATCH': {
          const { type, body } = await readPatchBody(req, contentType);
          const existed = type === 'apply' && this.exists(def, namespace, name);
          const w = api.patch(def, namespace, name, body, type, writeOptsOf(req, url));
          return sendWrite(type === 'apply' && !existed ? 201 : 200, w);
        }
        case 'DELETE': {
          const del = await readDeleteOpts(req, url, contentType);
          const { object, deleted } = api.delete(def, namespace, name, del);
          if (deleted && def.kind !== 'Pod' && def.kind !== 'Namespace') {
            const details: Record<string, string> = { name };
            if (def.group) details['group'] = def.group;
            details['kind'] = def.resource;
            details['uid'] = object.metadata.uid ?? '';
            return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
          }
          return sendJson(res, 200, object);
        }
        default:
          throw methodNotAllowed();
      }
    }

    if (!def.subresources?.includes(sub)) throw resourceNotFound();
    switch (sub) {
      case 'status':
        if (method === 'GET') return sendJson(res, 200, api.get(def, namespace, name));
        if (method === 'PUT') return sendWrite(200, api.update(def, namespace, name, await readBody(req, contentType), writeOptsOf(req, url), 'status'));
        if (method === 'PATCH') {
          const { type, body } = await readPatchBody(req, contentType);
          return sendWrite(200, api.patch(def, namespace, name, body, type, writeOptsOf(req, url), 'status'));
        }
        throw methodNotAllowed();
      case 'scale':
        if (method === 'GET') return sendJson(res, 200, api.subresources.getScale(def, namespace, name));
        if (method === 'PUT') return sendWrite(200, api.subresources.updateScale(def, namespace, name, await readBody(req, contentType), writeOptsOf(req, url)));
        if (method === 'PATCH') {
          const { type, body } = await readPatchBody(req, contentType);
          return sendWrite(200, api.subresources.patchScale(def, namespace, name, body, type, writeOptsOf(req, url)));
        }
        throw methodNotAllowed();
      case 'binding':
        if (method !== 'POST') throw methodNotAllowed();
        return sendJson(res, 201, api.subresources.bind(namespace ?? '', name, await readBody(req, contentType)));
      case 'eviction':
        if (method !== 'POST') throw methodNotAllowed();
        return sendJson(res, 201, api.subresources.evict(namespace ?? '', name, await readBody(req, contentType)));
      case 'finalize': {
        if (method !== 'PUT') throw methodNotAllowed();
        const body = obj(await readBody(req, contentType));
        const cur = api.get(def, undefined, name);
        cur['spec'] = { ...obj(cur['spec']), finalizers: obj(body['spec'])['finalizers'] ?? [] };
        return sendWrite(200, api.update(def, undefined, name, cur, writeOptsOf(req, url)));
      }
      case 'log':
        if (method !== 'GET') throw methodNotAllowed();
        return serveLogs(this.api, this.logs, req, res, namespace ?? '', name, q);
      default:
        throw resourceNotFound();
    }
  }

  private watchContext(): WatchStreamContext {
    return { api: this.api, watches: this.watches, bookmarkIntervalMs: this.opts.bookmarkIntervalMs };
  }

  private exists(def: ResourceDef, namespace: string | undefined, name: string): boolean {
    try {
      this.api.get(def, namespace, name);
      return true;
    } catch {
      return false;
    }
  }
}
