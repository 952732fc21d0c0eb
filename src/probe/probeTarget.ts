/**
 * Where an app's probe goes. `spec.health.url` always wins. Otherwise it depends on where berth sits:
 *   cluster  berth can reach ClusterIPs (it runs in a pod, or it is the sandbox of `berth up`, whose
 *            ClusterIPs are real loopback listeners): the app's Service at its ClusterIP, as another
 *            workload would call it, bypassing the Ingress;
 *   outside  berth runs on a workstation or CI runner next to a real cluster: the Ingress host when the
 *            app is exposed (what users reach), else the ClusterIP anyway (reachable on flat networks;
 *            otherwise the probes fail as `connect` and say so).
 * The Service is looked up (not its DNS name used) so 500 probes a second never wait on DNS.
 */
import { DEFAULTS, HTTP_PORT_NAME } from '../appspec/defaults.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { ProbeTargetKind } from './probeBuckets.ts';

export type ProbeNetwork = 'cluster' | 'outside';

export interface ProbeTarget {
  readonly kind: ProbeTargetKind;
  readonly url: string;
}

export interface ServiceAddress {
  readonly clusterIP: string;
  readonly port: number;
}

/** The ClusterIP and http port of a Service object (plain JSON), or undefined when it has none. */
export function serviceAddressOf(service: unknown): ServiceAddress | undefined {
  const spec = (service as { spec?: { clusterIP?: unknown; ports?: unknown } } | undefined)?.spec;
  const ip = spec?.clusterIP;
  if (typeof ip !== 'string' || ip === '' || ip === 'None') return undefined;
  const ports = Array.isArray(spec?.ports) ? (spec.ports as { name?: unknown; port?: unknown }[]) : [];
  const port = ports.find((p) => p.name === HTTP_PORT_NAME)?.port ?? ports[0]?.port;
  return typeof port === 'number' ? { clusterIP: ip, port } : undefined;
}

function hostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

export async function resolveProbeTarget(
  app: ResolvedApp,
  network: ProbeNetwork,
  serviceOf: (namespace: string, name: string) => Promise<ServiceAddress | undefined>,
): Promise<ProbeTarget> {
  const { health, expose } = app.spec;
  if (health.url !== null) return { kind: 'url', url: health.url };
  const ingress = expose.ingress;
  // A wildcard host names no machine to connect to.
  if (network === 'outside' && ingress !== null && !ingress.host.startsWith('*.')) {
    return { kind: 'ingress', url: `${ingress.tls !== null ? 'https' : 'http'}://${ingress.host}${health.path}` };
  }
  const { namespace, name } = app.metadata;
  let address: ServiceAddress | undefined;
  try {
    address = await serviceOf(namespace, name);
  } catch {
    address = undefined;
  }
  // No Service object (yet): its cluster DNS name, which resolves once it exists (inside the cluster).
  const authority = address ? hostPort(address.clusterIP, address.port) : `${name}.${namespace}.svc:${DEFAULTS.servicePort}`;
  return { kind: 'service', url: `http://${authority}${health.path}` };
}
