/**
 * Checks of privileges: privileged containers, privilege escalation, added and dropped capabilities.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { list, rec } from '../kube/json.ts';
import { containerNames, containersOf, isWindows, joinQuote, sortedSet } from './checkHelpers.ts';
import type { CheckFn, VisitedContainer } from './checkHelpers.ts';

export const privileged: CheckFn = (_meta, spec) => {
  const bad = containersOf(spec).filter((c) => c.sc?.['privileged'] === true);
  if (bad.length === 0) return undefined;
  return { reason: 'privileged', detail: `${containerNames(bad)} must not set securityContext.privileged=true`, targets: bad.map((c) => c.target) };
};

export const allowPrivilegeEscalation: CheckFn = (_meta, spec) => {
  if (isWindows(spec)) return undefined;
  const bad = containersOf(spec).filter((c) => c.sc?.['allowPrivilegeEscalation'] !== false);
  if (bad.length === 0) return undefined;
  return {
    reason: 'allowPrivilegeEscalation != false',
    detail: `${containerNames(bad)} must set securityContext.allowPrivilegeEscalation=false`,
    targets: bad.map((c) => c.target),
  };
};

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD',
  'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

export const capabilitiesBaseline: CheckFn = (_meta, spec) => {
  const nonDefault: string[] = [];
  const bad = containersOf(spec).filter((c) => {
    const caps = rec(c.sc?.['capabilities']);
    if (!caps) return false;
    let valid = true;
    for (const cap of list(caps['add'])) {
      const name = String(cap);
      if (!BASELINE_CAPABILITIES.has(name)) {
        valid = false;
        nonDefault.push(name);
      }
    }
    return !valid;
  });
  if (bad.length === 0) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${containerNames(bad)} must not include ${joinQuote(sortedSet(nonDefault))} in securityContext.capabilities.add`,
    targets: bad.map((c) => c.target),
  };
};

export const capabilitiesRestricted: CheckFn = (_meta, spec) => {
  if (isWindows(spec)) return undefined;
  const missingDropAll: VisitedContainer[] = [];
  const addingForbidden: VisitedContainer[] = [];
  const forbiddenCaps: string[] = [];
  for (const c of containersOf(spec)) {
    const caps = rec(c.sc?.['capabilities']);
    if (!caps) {
      missingDropAll.push(c);
      continue;
    }
    if (!list(caps['drop']).some((d) => d === 'ALL')) missingDropAll.push(c);
    let forbidden = false;
    for (const a of list(caps['add'])) {
      if (a !== 'NET_BIND_SERVICE') {
        forbidden = true;
        forbiddenCaps.push(String(a));
      }
    }
    if (forbidden) addingForbidden.push(c);
  }
  const details: string[] = [];
  if (missingDropAll.length > 0) details.push(`${containerNames(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length > 0) {
    details.push(`${containerNames(addingForbidden)} must not include ${joinQuote(sortedSet(forbiddenCaps))} in securityContext.capabilities.add`);
  }
  if (details.length === 0) return undefined;
  const targets = [...missingDropAll, ...addingForbidden.filter((c) => !missingDropAll.includes(c))].map((c) => c.target);
  return { reason: 'unrestricted capabilities', detail: details.join('; '), targets };
};
