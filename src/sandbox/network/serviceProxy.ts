import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Controller, KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, errorMessage, objKey, spec, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

export interface Backend {
  ip: string;
  port: number;
}

/**
 * The ready backends of one Service port, from the Endpoints object: ports match by name (an
 * unnamed single port matches the unnamed endpoint port), as kube-proxy pairs them.
 */
export function readyBackends(servicePort: Record<string, unknown>, endpoints: KObject | undefined): Backend[] {
  const name = str(servicePort['name']) ?? '';
  const out: Backend[] = [];
  for (const s0 of asArray(endpoints?.['subsets'])) {
    const s = asRecord(s0);
    const p = asArray(s['ports']).map(asRecord).find((x) => (str(x['name']) ?? '') === name && (str(x['protocol']) ?? 'TCP') === (str(servicePort['protocol']) ?? 'TCP'));
    if (!p || typeof p['port'] !== 'number') continue;
    for (const a of asArray(s['addresses'])) {
      const ip = str(asRecord(a)['ip']);
      if (ip) out.push({ ip, port: p['port'] });
    }
  }
  return out;
}

/** Round-robin over a Service's ready backends; shared with the ingress. */
export function pick(backends: readonly Backend[], counter: { n: number }): Backend | undefined {
  if (backends.length === 0) return undefined;
  const b = backends[counter.n % backends.length];
  counter.n = (counter.n + 1) % 1_000_000;
  return b;
}

interface PortProxy {
  ip: string;
  port: number;
  backends: Backend[];
  counter: { n: number };
  server: Server | undefined;
  sockets: Set<Socket>;
}

/**
 * kube-proxy for the sandbox: every ClusterIP Service port with at least one ready endpoint is a
 * real TCP listener on `clusterIP:port` (ClusterIPs are loopback addresses) that forwards each
 * connection to a ready endpoint, round-robin. Without ready endpoints nothing listens, so
 * connections are refused, as kube-proxy's REJECT rule does.
 */
export class ServiceProxy implements Controller {
  readonly name = 'kube-proxy';
  private readonly svcInf: SharedInformer;
  private readonly epInf: SharedInformer;
  private readonly proxies = new Map<string, Map<string, PortProxy>>();
  private started = false;

  constructor(private readonly ctx: ControllerContext) {
    this.svcInf = ctx.informers.for(RES.services);
    this.epInf = ctx.informers.for(RES.endpoints);
    const on = (o: KObject): void => this.sync(objKey(o));
    this.svcInf.addHandler({ add: on, update: (_o, n) => on(n), delete: on });
    this.epInf.addHandler({ add: on, update: (_o, n) => on(n), delete: on });
  }

  async start(): Promise<void> {
    this.started = true;
    await Promise.all([this.svcInf.start(), this.epInf.start()]);
    for (const s of this.svcInf.list()) this.sync(objKey(s));
  }

  async stop(): Promise<void> {
    this.started = false;
    const all = [...this.proxies.values()].flatMap((m) => [...m.values()]);
    this.proxies.clear();
    await Promise.all(all.map((p) => this.close(p, true)));
  }

  /** Where a Service port is served right now (for tests and `berth up` output). */
  listening(namespace: string, name: string): { ip: string; port: number; backends: number }[] {
    return [...(this.proxies.get(`${namespace}/${name}`)?.values() ?? [])].filter((p) => p.server).map((p) => ({ ip: p.ip, port: p.port, backends: p.backends.length }));
  }

  private sync(key: string): void {
    if (!this.started) return;
    const [ns, name] = key.split('/') as [string, string];
    const svc = this.svcInf.get(ns, name);
    const ep = this.epInf.get(ns, name);
    const desired = new Map<string, { ip: string; port: number; backends: Backend[] }>();
    const s = svc ? spec(svc) : {};
    const ip = str(s['clusterIP']);
    if (svc && ip && ip !== 'None' && s['type'] !== 'ExternalName' && Object.keys(asRecord(s['selector'])).length > 0) {
      for (const p0 of asArray(s['ports'])) {
        const p = asRecord(p0);
        if ((str(p['protocol']) ?? 'TCP') !== 'TCP' || typeof p['port'] !== 'number') continue;
        desired.set(`${ip}:${p['port']}`, { ip, port: p['port'], backends: readyBackends(p, ep) });
      }
    }
    const cur = this.proxies.get(key) ?? new Map<string, PortProxy>();
    for (const [k, p] of cur) {
      if (!desired.has(k)) {
        cur.delete(k);
        void this.close(p, false);
      }
    }
    for (const [k, d] of desired) {
      let p = cur.get(k);
      if (!p) {
        p = { ip: d.ip, port: d.port, backends: [], counter: { n: 0 }, server: undefined, sockets: new Set() };
        cur.set(k, p);
      }
      p.backends = d.backends;
      if (p.backends.length > 0 && !p.server) this.listen(p, svc);
      else if (p.backends.length === 0 && p.server) void this.close(p, false);
    }
    if (cur.size) this.proxies.set(key, cur);
    else this.proxies.delete(key);
  }

  private listen(p: PortProxy, svc: KObject | undefined): void {
    const server = createServer((client) => this.forward(p, client));
    p.server = server;
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (p.server === server) p.server = undefined;
      if (svc) this.ctx.recorder('kube-proxy').event(svc, 'Warning', 'FailedToStartServiceProxy', `cannot listen on ${p.ip}:${p.port}: ${errorMessage(err)}`);
    });
    server.listen({ host: p.ip, port: p.port });
  }

  private forward(p: PortProxy, client: Socket): void {
    const b = pick(p.backends, p.counter);
    if (!b) {
      client.destroy();
      return;
    }
    p.sockets.add(client);
    const upstream = connect({ host: b.ip, port: b.port });
    p.sockets.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      p.sockets.delete(client);
      p.sockets.delete(upstream);
    };
    client.on('error', done);
    upstream.on('error', done);
    client.on('close', done);
    upstream.on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private close(p: PortProxy, dropConnections: boolean): Promise<void> {
    const server = p.server;
    p.server = undefined;
    // Established connections survive a backend change, as conntrack entries do; stop() ends them.
    if (dropConnections) for (const s of p.sockets) s.destroy();
    if (!server) return Promise.resolve();
    return new Promise((r) => server.close(() => r()));
  }
}
