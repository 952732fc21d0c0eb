/**
 * Checks of security profiles: AppArmor, SELinux options and seccomp.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { at, rec, str, type Rec } from '../kube/json.ts';
import { byteOrder, containerNames, containersOf, goQuote, joinQuote, pluralize, POD, sortedSet } from './checkHelpers.ts';
import type { CheckFn, CheckResult, VisitedContainer } from './checkHelpers.ts';
import type { PodSecurityTarget } from './types.ts';

export const appArmorProfile: CheckFn = (meta, spec) => {
  const allowedType = (t: string): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const allowedAnnotation = (v: string): boolean => v === '' || v === 'runtime/default' || v.startsWith('localhost/');
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const targets: PodSecurityTarget[] = [];
  const podProfile = rec(at(spec, 'securityContext', 'appArmorProfile'));
  if (podProfile) {
    const t = str(podProfile['type']) ?? '';
    if (!allowedType(t)) {
      badSetters.push('pod');
      badValues.push(t);
      targets.push(POD);
    }
  }
  const bad = containersOf(spec).filter((c) => {
    const p = rec(c.sc?.['appArmorProfile']);
    if (!p) return false;
    const t = str(p['type']) ?? '';
    if (allowedType(t)) return false;
    badValues.push(t);
    return true;
  });
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  const annotations: string[] = [];
  for (const [k, v] of Object.entries(rec(meta['annotations']) ?? {})) {
    const value = str(v) ?? '';
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !allowedAnnotation(value)) {
      annotations.push(`${k}=${goQuote(value)}`);
      targets.push({ kind: 'annotation', key: k });
    }
  }
  annotations.sort(byteOrder);
  const values = [...sortedSet(badValues), ...annotations];
  if (annotations.length > 0) badSetters.push(pluralize('annotation', 'annotations', annotations.length));
  if (badSetters.length === 0) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
    targets,
  };
};

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

export const seLinuxOptions: CheckFn = (_meta, spec) => {
  const badTypes: string[] = [];
  let setUser = false;
  let setRole = false;
  const valid = (opts: Rec): boolean => {
    let ok = true;
    const t = str(opts['type']) ?? '';
    if (!SELINUX_TYPES.has(t)) {
      ok = false;
      badTypes.push(t);
    }
    if ((str(opts['user']) ?? '').length > 0) {
      ok = false;
      setUser = true;
    }
    if ((str(opts['role']) ?? '').length > 0) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  const podOpts = rec(at(spec, 'securityContext', 'seLinuxOptions'));
  if (podOpts && !valid(podOpts)) {
    badSetters.push('pod');
    targets.push(POD);
  }
  const bad = containersOf(spec).filter((c) => {
    const o = rec(c.sc?.['seLinuxOptions']);
    return o !== undefined && !valid(o);
  });
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (badSetters.length === 0) return undefined;
  const data: string[] = [];
  const types = sortedSet(badTypes);
  if (types.length > 0) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
  if (setUser) data.push('user may not be set');
  if (setRole) data.push('role may not be set');
  return { reason: 'seLinuxOptions', detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`, targets };
};

const validSeccomp = (t: string): boolean => t === 'Localhost' || t === 'RuntimeDefault';

/** Shared by the baseline and restricted seccomp checks; restricted also requires the field. */
export function seccomp(spec: Rec, required: boolean): CheckResult | undefined {
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const targets: PodSecurityTarget[] = [];
  let podSet = false;
  const podProfile = rec(at(spec, 'securityContext', 'seccompProfile'));
  if (podProfile) {
    const t = str(podProfile['type']) ?? '';
    if (!validSeccomp(t)) {
      badSetters.push('pod');
      badValues.push(t);
      targets.push(POD);
    } else {
      podSet = true;
    }
  }
  const explicit: VisitedContainer[] = [];
  const implicit: VisitedContainer[] = [];
  for (const c of containersOf(spec)) {
    const p = rec(c.sc?.['seccompProfile']);
    if (p) {
      const t = str(p['type']) ?? '';
      if (!validSeccomp(t)) {
        explicit.push(c);
        badValues.push(t);
      }
    } else if (!podSet) {
      implicit.push(c);
    }
  }
  if (explicit.length > 0) {
    badSetters.push(containerNames(explicit));
    targets.push(...explicit.map((c) => c.target));
  }
  if (badSetters.length > 0) {
    return {
      reason: 'seccompProfile',
      detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}`,
      targets,
    };
  }
  if (required && implicit.length > 0) {
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containerNames(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      targets: implicit.map((c) => c.target),
    };
  }
  return undefined;
}
