import { str } from '../client/objects.ts';
import { nssWrapperLibrary } from './serverImages.ts';

/** Whether the pod resolves cluster names: dnsPolicy ClusterFirst (the default) off the host network, or ClusterFirstWithHostNet. */
export function clusterFirst(podSpec: Record<string, unknown>): boolean {
  const policy = str(podSpec['dnsPolicy']) ?? 'ClusterFirst';
  return policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && podSpec['hostNetwork'] !== true);
}

/**
 * The variables that give a container cluster DNS: nss_wrapper preloaded with the namespace's hosts
 * file, so getaddrinfo in any process of the pod (Node, psql, redis-cli) resolves Service names.
 * Empty when the pod does not use cluster DNS, no hosts file is kept, or nss_wrapper is missing.
 */
export function clusterDnsEnv(podSpec: Record<string, unknown>, hostsFile: () => string | undefined): Record<string, string> {
  if (!clusterFirst(podSpec)) return {};
  const hosts = hostsFile();
  const lib = hosts ? nssWrapperLibrary() : undefined;
  return hosts && lib ? { LD_PRELOAD: lib, NSS_WRAPPER_HOSTS: hosts } : {};
}
