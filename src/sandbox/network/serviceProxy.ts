import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Controller, KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { asArray, asRecord, errorMessage, isTerminal, objKey, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { connectionAllowed, policiesSelecting } from './networkPolicy.ts';
import type { Peer } from './networkPolicy.ts';

/** One end of a TCP connection. */
export interface SocketEnd {
  address: string;
  port: number;
}

export interface ServiceProxyOptions {
  /**
   * The pod that holds the client end (`remote`) of a connection accepted on `local` (a pod's
   * connections to loopback addresses come from 127.0.0.1, and any process may bind another pod's
   * IP). The runtimes answer from /proc: undefined when no pod holds it (the host), 'unknown' when
   * its holder cannot be attributed, which is refused under a policy.
   */
  sourceOf?: (local: SocketEnd, remote: SocketEnd) => Promise<{ namespace: string; name: string } | 'unknown' | undefined>;
}

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
 *
 * It is also the sandbox's network policy enforcement, as a CNI plugin's: once NetworkPolicies
 * exist, each connection's source pod (the pod whose process holds the client socket, from
 * `sourceOf`, else the pod whose IP it comes from) and the chosen endpoint's pod are checked
 * against the ingress and egress rules that select them; a refused connection is reset before
 * anything reaches the endpoint. Connections from outside any pod (the host) pass ingress rules, as
 * most CNI plugins let the node reach its pods; a connection whose holder cannot be attributed is
 * refused rather than taken for the host's (docs/sandbox.md, NetworkPolicies).
 */
export class ServiceProxy implements Controller {
  readonly name = 'kube-proxy';
  private readonly svcInf: SharedInformer;
  private readonly epInf: SharedInformer;
  private readonly podInf: SharedInformer;
  private readonly nsInf: SharedInformer;
  private readonly policyInf: SharedInformer;
  /** Connections refused by NetworkPolicies since start (for tests and diagnostics). */
  refused = 0;
  private readonly proxies = new Map<string, Map<string, PortProxy>>();
  private started = false;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly opts: ServiceProxyOptions = {},
  ) {
    this.svcInf = ctx.informers.for(RES.services);
    this.epInf = ctx.informers.for(RES.endpoints);
    this.podInf = ctx.informers.for(RES.pods);
    this.nsInf = ctx.informers.for(RES.namespaces);
    this.policyInf = ctx.informers.for(RES.networkpolicies);
    const on = (o: KObject): void => this.sync(objKey(o));
    this.svcInf.addHandler({ add: on, update: (_o, n) => on(n), delete: on });
    this.epInf.addHandler({ add: on, update: (_o, n) => on(n), delete: on });
  }

  async start(): Promise<void> {
    this.started = true;
    await Promise.all([this.svcInf.start(), this.epInf.start(), this.podInf.start(), this.nsInf.start(), this.policyInf.start()]);
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
    // Until the verdict the client's bytes wait in its socket: nothing reads them before pipe().
    p.sockets.add(client);
    client.on('error', () => client.destroy());
    void this.admit(client, b).then(
      (verdict) => this.connectAdmitted(p, client, b, verdict),
      () => client.resetAndDestroy(),
    );
  }

  private connectAdmitted(p: PortProxy, client: Socket, b: Backend, verdict: { allowed: boolean; reason?: string }): void {
    if (client.destroyed) {
      p.sockets.delete(client);
      return;
    }
    if (!verdict.allowed) {
      this.refused++;
      p.sockets.delete(client);
      if (process.env['BERTH_SANDBOX_DEBUG']) console.error('[sandbox/kube-proxy]', verdict.reason);
      // A reset, as a CNI's REJECT does: the client fails at once instead of waiting for a timeout.
      client.resetAndDestroy();
      return;
    }
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

  private podAt(ip: string): KObject | undefined {
    return this.podInf.list().find((p) => str(status(p)['podIP']) === ip && !isTerminal(p) && spec(p)['hostNetwork'] !== true);
  }

  private peer(pod: KObject | undefined, ip: string): Peer {
    if (!pod) return { ip };
    return { pod, ip, namespaceLabels: this.nsInf.get(undefined, pod.metadata.namespace ?? '')?.metadata.labels ?? {} };
  }

  /** The NetworkPolicy verdict for a connection to backend `b`; without policies everything passes at no cost. */
  private async admit(client: Socket, b: Backend): Promise<{ allowed: boolean; reason?: string }> {
    const policies = this.policyInf.list();
    if (policies.length === 0) return { allowed: true };
    const destination = this.podAt(b.ip);
    // Who connects matters only when a policy selects the destination, or some pod has egress rules.
    const relevant = (destination && policiesSelecting(policies, destination, 'Ingress').length > 0) || policies.some((p) => asArray(spec(p)['policyTypes']).includes('Egress'));
    if (!relevant) return { allowed: true };
    const ip = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    // The socket's holder first: a source address proves nothing where every pod may bind any loopback address.
    const ref = this.opts.sourceOf ? await this.opts.sourceOf({ address: client.localAddress ?? '', port: client.localPort ?? 0 }, { address: ip, port: client.remotePort ?? 0 }) : undefined;
    if (ref === 'unknown') return { allowed: false, reason: `connection from ${ip}:${client.remotePort ?? 0} refused: no pod or host process could be found holding it` };
    const source = ref ? this.podInf.get(ref.namespace, ref.name) : this.podAt(ip);
    // A pod's process whose pod the informer does not know (yet, or any more) is no host either.
    if (ref && !source) return { allowed: false, reason: `connection from pod ${ref.namespace}/${ref.name} refused: the pod is not known` };
    return connectionAllowed(policies, this.peer(source, ip), this.peer(destination, b.ip), b.port);
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
