/**
 * Checks of the host the pod may reach: host namespaces, host ports, probe and lifecycle hosts,
 * Windows HostProcess.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { at, list, rec, str } from '../kube/json.ts';
import { containerNames, containersOf, joinQuote, pluralize, POD, sortedSet } from './checkHelpers.ts';
import type { CheckFn } from './checkHelpers.ts';
import type { PodSecurityTarget } from './types.ts';

export const hostNamespaces: CheckFn = (_meta, spec) => {
  const found: string[] = [];
  if (spec['hostNetwork'] === true) found.push('hostNetwork=true');
  if (spec['hostPID'] === true) found.push('hostPID=true');
  if (spec['hostIPC'] === true) found.push('hostIPC=true');
  if (found.length === 0) return undefined;
  return { reason: 'host namespaces', detail: found.join(', '), targets: [POD] };
};

export const hostPorts: CheckFn = (_meta, spec) => {
  const ports: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    let valid = true;
    for (const p of list(c.raw['ports'])) {
      const hp = rec(p)?.['hostPort'];
      if (typeof hp === 'number' && hp !== 0) {
        valid = false;
        ports.push(String(hp));
      }
    }
    return !valid;
  });
  if (bad.length === 0) return undefined;
  const unique = sortedSet(ports);
  return {
    reason: 'hostPort',
    detail: `${containerNames(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}`,
    targets: bad.map((c) => c.target),
  };
};

export const hostProbesAndHostLifecycle: CheckFn = (_meta, spec) => {
  const badNames = new Set<string>();
  const hosts: string[] = [];
  const targets: PodSecurityTarget[] = [];
  for (const c of containersOf(spec)) {
    const handlers = [
      c.raw['livenessProbe'], c.raw['readinessProbe'], c.raw['startupProbe'],
      at(c.raw, 'lifecycle', 'postStart'), at(c.raw, 'lifecycle', 'preStop'),
    ];
    let bad = false;
    for (const h of handlers) {
      for (const kind of ['httpGet', 'tcpSocket']) {
        const host = str(at(h, kind, 'host'));
        if (host) {
          bad = true;
          hosts.push(host);
        }
      }
    }
    if (bad) {
      badNames.add(c.name);
      targets.push(c.target);
    }
  }
  if (badNames.size === 0) return undefined;
  const names = sortedSet(badNames);
  const unique = sortedSet(hosts);
  return {
    reason: 'probe or lifecycle host',
    detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('probe or lifecycle host', 'probe or lifecycle hosts', unique.length)} ${joinQuote(unique)}`,
    targets,
  };
};

export const windowsHostProcess: CheckFn = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => at(c.sc, 'windowsOptions', 'hostProcess') === true);
  const setters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  if (at(spec, 'securityContext', 'windowsOptions', 'hostProcess') === true) {
    setters.push('pod');
    targets.push(POD);
  }
  if (bad.length > 0) {
    setters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (setters.length === 0) return undefined;
  return { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`, targets };
};
