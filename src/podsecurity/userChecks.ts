/**
 * Checks of the user a container runs as: runAsNonRoot and runAsUser.
 * Strings are byte-for-byte upstream's (see evaluate.ts).
 */
import { at } from '../kube/json.ts';
import { containerNames, containersOf, inUserNamespace, POD } from './checkHelpers.ts';
import type { CheckFn, VisitedContainer } from './checkHelpers.ts';
import type { PodSecurityTarget } from './types.ts';

export const runAsNonRoot: CheckFn = (_meta, spec) => {
  if (inUserNamespace(spec)) return undefined;
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  let podRunAsNonRoot = false;
  const podValue = at(spec, 'securityContext', 'runAsNonRoot');
  if (typeof podValue === 'boolean') {
    if (!podValue) {
      badSetters.push('pod');
      targets.push(POD);
    } else {
      podRunAsNonRoot = true;
    }
  }
  const explicit: VisitedContainer[] = [];
  const implicit: VisitedContainer[] = [];
  for (const c of containersOf(spec)) {
    const v = c.sc?.['runAsNonRoot'];
    if (typeof v === 'boolean') {
      if (!v) explicit.push(c);
    } else if (!podRunAsNonRoot) {
      implicit.push(c);
    }
  }
  if (explicit.length > 0) {
    badSetters.push(containerNames(explicit));
    targets.push(...explicit.map((c) => c.target));
  }
  if (badSetters.length > 0) {
    return { reason: 'runAsNonRoot != true', detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`, targets };
  }
  if (implicit.length > 0) {
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containerNames(implicit)} must set securityContext.runAsNonRoot=true`,
      targets: implicit.map((c) => c.target),
    };
  }
  return undefined;
};

export const runAsUser: CheckFn = (_meta, spec) => {
  if (inUserNamespace(spec)) return undefined;
  const badSetters: string[] = [];
  const targets: PodSecurityTarget[] = [];
  if (at(spec, 'securityContext', 'runAsUser') === 0) {
    badSetters.push('pod');
    targets.push(POD);
  }
  const bad = containersOf(spec).filter((c) => c.sc?.['runAsUser'] === 0);
  if (bad.length > 0) {
    badSetters.push(containerNames(bad));
    targets.push(...bad.map((c) => c.target));
  }
  if (badSetters.length === 0) return undefined;
  return { reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0`, targets };
};
