import { chmodSync, closeSync, constants, ftruncateSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Controller, KObject } from '../types.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import { isPodReady, isTerminal, spec, status, str } from '../client/objects.ts';
import { RES } from '../client/resources.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/** Whether the pod resolves cluster names: dnsPolicy ClusterFirst (the default) off the host network, or ClusterFirstWithHostNet. */
export function clusterFirst(podSpec: Record<string, unknown>): boolean {
  const policy = str(podSpec['dnsPolicy']) ?? 'ClusterFirst';
  return policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && podSpec['hostNetwork'] !== true);
}

/**
 * What a container's /etc/hosts starts with, before the cluster's names: the loopback names the
 * kubelet's managed hosts file has (a file bind-mounted there replaces podman's, which had them).
 */
export const CONTAINER_HOSTS_HEADER = '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n';

/** One address and the name it has inside its namespace (`db`, or `db-0.db-headless` for a StatefulSet pod). */
interface DnsRecord {
  readonly ip: string;
  readonly name: string;
  readonly namespace: string;
}

function records(services: readonly KObject[], pods: readonly KObject[]): DnsRecord[] {
  const out: DnsRecord[] = [];
  const headless = new Set<string>();
  for (const svc of services) {
    const s = spec(svc);
    const name = svc.metadata.name ?? '';
    const namespace = svc.metadata.namespace ?? '';
    const ip = str(s['clusterIP']);
    if (s['type'] === 'ExternalName' || !ip) continue;
    if (ip !== 'None') out.push({ ip, name, namespace });
    else headless.add(`${namespace}/${name}`);
  }
  // A headless Service names its ready pods: each by hostname.subdomain, and the Service name all of them.
  for (const pod of pods) {
    const p = spec(pod);
    const namespace = pod.metadata.namespace ?? '';
    const subdomain = str(p['subdomain']);
    const ip = str(status(pod)['podIP']);
    if (!subdomain || !ip || !headless.has(`${namespace}/${subdomain}`) || isTerminal(pod) || !isPodReady(pod)) continue;
    out.push({ ip, name: `${str(p['hostname']) ?? pod.metadata.name ?? ''}.${subdomain}`, namespace });
    out.push({ ip, name: subdomain, namespace });
  }
  return out;
}

/**
 * hosts(5) lines for a pod in `namespace`: every name cluster DNS would answer it, with the search
 * path a pod's resolv.conf has (`<ns>.svc.cluster.local svc.cluster.local cluster.local`) already
 * applied, since a hosts file has no search path: `db.api.svc.cluster.local`, `db.api.svc`,
 * `db.api`, and plain `db` for the pod's own namespace. Sorted, so equal clusters give equal files.
 * Empty when there is nothing to name (nss_wrapper then falls back to the machine's resolver).
 */
export function hostsFileText(namespace: string, services: readonly KObject[], pods: readonly KObject[]): string {
  const lines = records(services, pods).map((r) => {
    const fqdn = `${r.name}.${r.namespace}.svc.${CLUSTER_DOMAIN}`;
    const names = [fqdn, `${r.name}.${r.namespace}.svc`, `${r.name}.${r.namespace}`, ...(r.namespace === namespace ? [r.name] : [])];
    return `${r.ip} ${names.join(' ')}`;
  });
  // No comment line: nss_wrapper refuses the whole file on a line that is not an address and names.
  return [...new Set(lines)].sort().map((l) => `${l}\n`).join('');
}

/**
 * The sandbox's cluster DNS for the process runtime: one hosts file per namespace, rewritten (a new
 * file renamed over the old) whenever a Service or a headless Service's pod changes. The runtime
 * hands a container its namespace's file through nss_wrapper (NSS_WRAPPER_HOSTS), which rereads it
 * when it changes, so `db.api.svc.cluster.local` resolves in every process of a pod — Node, psql,
 * redis-cli alike — without a DNS server or a change to the machine's resolver.
 */
export class ClusterDns implements Controller {
  readonly name = 'cluster-dns';
  readonly dir: string;
  private readonly svcInf: SharedInformer;
  private readonly podInf: SharedInformer;
  /** Namespaces some container asked for, with the text last written. */
  private readonly written = new Map<string, string>();
  private started = false;
  private queued = false;

  constructor(ctx: ControllerContext) {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-sandbox-dns-'));
    // Containers running under their pods' uids read the files, never write them.
    chmodSync(this.dir, 0o755);
    this.svcInf = ctx.informers.for(RES.services);
    this.podInf = ctx.informers.for(RES.pods);
    const changed = (): void => this.queue();
    this.svcInf.addHandler({ add: changed, update: changed, delete: changed });
    // Only pods that can have a name (a subdomain) change what the files say.
    const podChanged = (o: KObject): void => {
      if (str(spec(o)['subdomain'])) this.queue();
    };
    this.podInf.addHandler({ add: podChanged, update: (_o, n) => podChanged(n), delete: podChanged });
  }

  async start(): Promise<void> {
    await Promise.all([this.svcInf.start(), this.podInf.start()]);
    this.started = true;
    for (const ns of this.written.keys()) this.write(ns);
  }

  async stop(): Promise<void> {
    this.started = false;
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The hosts file for containers of `namespace`, written now if it is the first one asked for. */
  hostsFile(namespace: string): string {
    if (!this.written.has(namespace)) this.write(namespace);
    return this.path(namespace);
  }

  /**
   * The file the container runtime bind-mounts read-only at /etc/hosts for pods of `namespace`:
   * the same names after the loopback ones. Rewritten in place, never replaced, because a bind
   * mount of a file pins the inode it was made from (a renamed-over file would go unseen).
   */
  containerHostsFile(namespace: string): string {
    if (!this.written.has(namespace)) this.write(namespace);
    return this.path(namespace, 'etc-hosts');
  }

  private path(namespace: string, kind = 'hosts'): string {
    return join(this.dir, `${namespace}.${kind}`);
  }

  /** Coalesces a burst of changes (a rollout, a stack) into one rewrite. */
  private queue(): void {
    if (this.queued || !this.started) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      if (this.started) for (const ns of this.written.keys()) this.write(ns);
    });
  }

  private write(namespace: string): void {
    const text = hostsFileText(namespace, this.svcInf.list(), this.podInf.list());
    if (this.written.get(namespace) === text) return;
    const path = this.path(namespace);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    // A new inode: nss_wrapper notices the change even within the same second.
    renameSync(tmp, path);
    rewriteInPlace(this.path(namespace, 'etc-hosts'), CONTAINER_HOSTS_HEADER + text);
    this.written.set(namespace, text);
  }
}

/**
 * Replaces a file's content keeping its inode. The new text is written over the old before the file
 * is cut to length, so a reader never finds it empty (which would fail every lookup at once); at
 * worst it sees, for an instant, a tail of lines the previous version had.
 */
function rewriteInPlace(path: string, text: string): void {
  // Read-write and created if missing, but never O_TRUNC.
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
  try {
    const data = Buffer.from(text);
    writeSync(fd, data, 0, data.length, 0);
    ftruncateSync(fd, data.length);
  } finally {
    closeSync(fd);
  }
}
