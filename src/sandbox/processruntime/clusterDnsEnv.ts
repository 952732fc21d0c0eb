import { clusterFirst } from '../network/clusterDns.ts';
import { nssWrapperLibrary } from './serverImages.ts';

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
