import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { SecureContext } from 'node:tls';
import type { Controller, KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, deepEqual, errorMessage, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import type { IngressBackendRef } from './ingressRouting.ts';
import { isOurIngress, routeRequest, tlsSecretFor } from './ingressRouting.ts';
import type { Backend } from './serviceProxy.ts';
import { pick, readyBackends } from './serviceProxy.ts';

export interface IngressOptions {
  host: string;
  /** HTTPS port. */
  port: number;
  /** Plain HTTP port. */
  httpPort: number;
  /** Which ports fall back to a free one when taken (the defaults do; explicit ports fail instead). */
  portFallback?: { https: boolean; http: boolean };
}

const PAGE_404 = '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>berth sandbox ingress</center>\r\n</body>\r\n</html>\r\n';
const PAGE_503 = '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>berth sandbox ingress</center>\r\n</body>\r\n</html>\r\n';

/**
 * The sandbox's ingress controller: one HTTPS front door (certificates from the Ingresses' TLS
 * Secrets, chosen by SNI) and one plain HTTP port, routing by host and path to ready endpoints of
 * the backend Service (as ingress-nginx does, bypassing the ClusterIP), 503 when none is ready.
 * Only Ingresses of an IngressClass whose controller is `berth.dev/sandbox-ingress` are served.
 */
export class IngressController implements Controller {
  readonly name = 'ingress-controller';
  private readonly ingInf: SharedInformer;
  private readonly classInf: SharedInformer;
  private readonly svcInf: SharedInformer;
  private readonly epInf: SharedInformer;
  private readonly counters = new Map<string, { n: number }>();
  private readonly contexts = new Map<string, { rv: string; ctx: SecureContext }>();
  private readonly sockets = new Set<Socket>();
  private http: HttpServer | undefined;
  private https: HttpServer | undefined;
  private ports: { http: number; https: number } | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: IngressOptions,
  ) {
    this.ingInf = ctx.informers.for(RES.ingresses);
    this.classInf = ctx.informers.for(RES.ingressclasses);
    this.svcInf = ctx.informers.for(RES.services);
    this.epInf = ctx.informers.for(RES.endpoints);
    this.ingInf.addHandler({ add: (o) => void this.publishStatus(o), update: (_o, n) => void this.publishStatus(n) });
  }

  /** The bound ports, after start(). */
  get boundPorts(): { http: number; https: number } | undefined {
    return this.ports;
  }

  async start(): Promise<void> {
    await Promise.all([this.ingInf.start(), this.classInf.start(), this.svcInf.start(), this.epInf.start()]);
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.http = createHttpServer(handler);
    this.https = createHttpsServer(
      {
        SNICallback: (servername, cb) => {
          this.secureContext(servername).then(
            (c) => cb(null, c),
            (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))),
          );
        },
      },
      handler,
    );
    for (const s of [this.http, this.https]) {
      s.on('connection', (sock: Socket) => {
        this.sockets.add(sock);
        sock.on('close', () => this.sockets.delete(sock));
      });
    }
    const https = await this.listen(this.https, this.opts.port, this.opts.portFallback?.https === true);
    const http = await this.listen(this.http, this.opts.httpPort, this.opts.portFallback?.http === true);
    this.ports = { http, https };
    for (const ing of this.ingInf.list()) void this.publishStatus(ing);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([this.http, this.https].map((s) => new Promise<void>((r) => (s?.listening ? s.close(() => r()) : r()))));
  }

  private listen(server: HttpServer, port: number, fallback: boolean): Promise<number> {
    const attempt = (p: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          server.off('listening', onListening);
          reject(err);
        };
        const onListening = (): void => {
          server.off('error', onError);
          resolve((server.address() as AddressInfo).port);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        server.listen(p, this.opts.host);
      });
    return attempt(port).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && fallback && port !== 0) return attempt(0);
      throw err;
    });
  }

  private ours(): KObject[] {
    const classes = this.classInf.list();
    return this.ingInf.list().filter((i) => !i.metadata.deletionTimestamp && isOurIngress(i, classes));
  }

  private async secureContext(servername: string): Promise<SecureContext | undefined> {
    const ref = tlsSecretFor(this.ours(), servername);
    if (!ref) return undefined;
    const secret = await this.ctx.client.get(RES.secrets, ref.namespace, ref.name);
    if (!secret) return undefined;
    const key = `${ref.namespace}/${ref.name}`;
    const rv = secret.metadata.resourceVersion ?? '';
    const cached = this.contexts.get(key);
    if (cached?.rv === rv) return cached.ctx;
    const data = asRecord(secret['data']);
    const b64 = (k: string): string => Buffer.from(String(data[k] ?? ''), 'base64').toString('utf8');
    const ctx = createSecureContext({ cert: b64('tls.crt'), key: b64('tls.key') });
    this.contexts.set(key, { rv, ctx });
    return ctx;
  }

  private backends(ref: IngressBackendRef): Backend[] {
    const svc = this.svcInf.get(ref.namespace, ref.service);
    if (!svc) return [];
    const sp = asArray(spec(svc)['ports'])
      .map(asRecord)
      .find((p) => (typeof ref.port === 'number' ? p['port'] === ref.port : p['name'] === ref.port));
    if (!sp) return [];
    return readyBackends(sp, this.epInf.get(ref.namespace, ref.service));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const host = req.headers.host ?? '';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const ref = routeRequest(this.ours(), host, path);
    if (!ref) {
      res.writeHead(404, { 'content-type': 'text/html' }).end(PAGE_404);
      return;
    }
    const key = `${ref.namespace}/${ref.service}:${ref.port}`;
    const counter = this.counters.get(key) ?? { n: 0 };
    this.counters.set(key, counter);
    const b = pick(this.backends(ref), counter);
    if (!b) {
      res.writeHead(503, { 'content-type': 'text/html' }).end(PAGE_503);
      return;
    }
    const tls = (req.socket as Socket & { encrypted?: boolean }).encrypted === true;
    const headers = { ...req.headers };
    const remote = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${String(headers['x-forwarded-for'])}, ${remote}` : remote;
    headers['x-forwarded-proto'] = tls ? 'https' : 'http';
    headers['x-forwarded-host'] = host;
    headers['x-real-ip'] = remote;
    const up = httpRequest({ host: b.ip, port: b.port, method: req.method, path: req.url, headers }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, ures.headers);
      ures.pipe(res);
    });
    up.on('error', (err) => {
      if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/ingress]', errorMessage(err));
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('502 Bad Gateway\n');
      else res.destroy();
    });
    req.pipe(up);
  }

  /** status.loadBalancer.ingress: the front door's address, so `kubectl get ingress` shows it. */
  private async publishStatus(ing: KObject): Promise<void> {
    if (!this.ports || !isOurIngress(ing, this.classInf.list())) return;
    const want = [{ ip: this.opts.host, ports: [{ port: this.ports.https, protocol: 'TCP' }, { port: this.ports.http, protocol: 'TCP' }] }];
    if (deepEqual(asRecord(status(ing)['loadBalancer'])['ingress'], want)) return;
    try {
      await this.ctx.client.patch(RES.ingresses, ing.metadata.namespace, ing.metadata.name ?? '', { status: { loadBalancer: { ingress: want } } }, 'merge', { subresource: 'status' });
    } catch (err) {
      if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/ingress] status', errorMessage(err), str(ing.metadata.name));
    }
  }
}
