/**
 * Checks of kernel interfaces: the /proc mount type and sysctls.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { at, list, rec, str } from '../kube/json.ts';
import { containerNames, containersOf, inUserNamespace, joinQuote, POD, sortedSet } from './checkHelpers.ts';
import type { CheckFn } from './checkHelpers.ts';

/** procMount_1_35_restricted upstream: only "Default" (or unset) is allowed. */
export const procMountStrict: CheckFn = (_meta, spec) => {
  const types: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    const pm = c.sc?.['procMount'];
    if (pm === undefined || pm === null) return false;
    if (pm === 'Default') return false;
    types.push(String(pm));
    return true;
  });
  if (bad.length === 0) return undefined;
  return {
    reason: 'procMount',
    detail: `${containerNames(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
    targets: bad.map((c) => c.target),
  };
};

export const procMountBaseline: CheckFn = (meta, spec) => (inUserNamespace(spec) ? undefined : procMountStrict(meta, spec));

// Safe sysctls through policy v1.37 (upstream sysctlsAllowedV1Dot37).
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

export const sysctls: CheckFn = (_meta, spec) => {
  const forbidden = list(at(spec, 'securityContext', 'sysctls'))
    .map((s) => str(rec(s)?.['name']) ?? '')
    .filter((n) => !SAFE_SYSCTLS.has(n));
  if (forbidden.length === 0) return undefined;
  return { reason: 'forbidden sysctls', detail: forbidden.join(', '), targets: [POD] };
};
