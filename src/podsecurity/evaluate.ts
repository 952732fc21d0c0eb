/**
 * Pod Security Standards, ported from k8s.io/pod-security-admission (policy/check_*.go) at the
 * newest policy version ("latest"). Check ids, reasons and details are byte-for-byte the strings
 * kube-apiserver prints, because users paste them into searches and CI logs compare them.
 *
 * Ordering follows upstream registry.go: baseline check ids sorted, then restricted check ids sorted
 * (Go byte order); at "restricted", baseline checks named in a restricted check's OverrideCheckIDs are
 * dropped. Within a check, container lists follow visitContainers order (init, regular, ephemeral)
 * and value sets are sorted like Go's sets.List().
 */
import { at, rec, str } from '../kube/json.ts';
import { byteOrder, isWindows } from './checkHelpers.ts';
import type { CheckFn } from './checkHelpers.ts';
import { formatPodSecurityForbidden, formatPodSecurityWarning } from './formatPodSecurity.ts';
import { hostNamespaces, hostPorts, hostProbesAndHostLifecycle, windowsHostProcess } from './hostChecks.ts';
import { procMountBaseline, procMountStrict, sysctls } from './kernelChecks.ts';
import type { PodLike } from './podLike.ts';
import { podTemplateOf, withPodDefaults } from './podTemplates.ts';
import { allowPrivilegeEscalation, capabilitiesBaseline, capabilitiesRestricted, privileged } from './privilegeChecks.ts';
import { appArmorProfile, seccomp, seLinuxOptions } from './securityProfileChecks.ts';
import type { DetailedPodSecurityViolation, PodSecurityLevel, PodSecurityViolation } from './types.ts';
import { runAsNonRoot, runAsUser } from './userChecks.ts';
import { hostPathVolumes, restrictedVolumes } from './volumeChecks.ts';

export type { PodSecurityLevel, PodSecurityViolation } from './types.ts';

interface Check {
  readonly id: string;
  readonly level: 'baseline' | 'restricted';
  /** Baseline check ids this restricted check replaces when the level is restricted. */
  readonly overrides?: readonly string[];
  readonly fn: CheckFn;
}

const CHECKS: readonly Check[] = [
  { id: 'appArmorProfile', level: 'baseline', fn: appArmorProfile },
  { id: 'capabilities_baseline', level: 'baseline', fn: capabilitiesBaseline },
  { id: 'hostNamespaces', level: 'baseline', fn: hostNamespaces },
  { id: 'hostPathVolumes', level: 'baseline', fn: hostPathVolumes },
  { id: 'hostPorts', level: 'baseline', fn: hostPorts },
  { id: 'hostProbesAndHostLifecycle', level: 'baseline', fn: hostProbesAndHostLifecycle },
  { id: 'privileged', level: 'baseline', fn: privileged },
  { id: 'procMount', level: 'baseline', fn: procMountBaseline },
  { id: 'seLinuxOptions', level: 'baseline', fn: seLinuxOptions },
  { id: 'seccompProfile_baseline', level: 'baseline', fn: (_m, s) => seccomp(s, false) },
  { id: 'sysctls', level: 'baseline', fn: sysctls },
  { id: 'windowsHostProcess', level: 'baseline', fn: windowsHostProcess },
  { id: 'allowPrivilegeEscalation', level: 'restricted', fn: allowPrivilegeEscalation },
  { id: 'capabilities_restricted', level: 'restricted', overrides: ['capabilities_baseline'], fn: capabilitiesRestricted },
  { id: 'procMount_restricted', level: 'restricted', overrides: ['procMount'], fn: procMountStrict },
  { id: 'restrictedVolumes', level: 'restricted', overrides: ['hostPathVolumes'], fn: restrictedVolumes },
  { id: 'runAsNonRoot', level: 'restricted', fn: runAsNonRoot },
  { id: 'runAsUser', level: 'restricted', fn: runAsUser },
  { id: 'seccompProfile_restricted', level: 'restricted', overrides: ['seccompProfile_baseline'], fn: (_m, s) => (isWindows(s) ? undefined : seccomp(s, true)) },
];

/** Check ids in evaluation order for each level, computed once the way upstream's registry does. */
function checksFor(level: 'baseline' | 'restricted'): readonly Check[] {
  const byId = (a: Check, b: Check): number => byteOrder(a.id, b.id);
  const baseline = CHECKS.filter((c) => c.level === 'baseline').sort(byId);
  if (level === 'baseline') return baseline;
  const restricted = CHECKS.filter((c) => c.level === 'restricted').sort(byId);
  const overridden = new Set(restricted.flatMap((c) => c.overrides ?? []));
  return [...baseline.filter((c) => !overridden.has(c.id)), ...restricted];
}

const ORDERED = { baseline: checksFor('baseline'), restricted: checksFor('restricted') } as const;

/** Every check id at a level, in message order. */
export function podSecurityCheckIds(level: PodSecurityLevel): readonly string[] {
  return level === 'privileged' ? [] : ORDERED[level].map((c) => c.id);
}

/** Like evaluatePodSecurity, plus what each violation points at. */
export function evaluatePodSecurityDetailed(level: PodSecurityLevel, pod: PodLike): DetailedPodSecurityViolation[] {
  if (level === 'privileged') return [];
  const meta = rec(pod.metadata) ?? {};
  const spec = rec(pod.spec) ?? {};
  const out: DetailedPodSecurityViolation[] = [];
  for (const check of ORDERED[level]) {
    const r = check.fn(meta, spec);
    if (r) out.push({ check: check.id, level: check.level, reason: r.reason, detail: r.detail, targets: r.targets });
  }
  return out;
}

/** Evaluates a pod (or pod template) against a Pod Security Standards level at policy "latest". */
export function evaluatePodSecurity(level: PodSecurityLevel, pod: PodLike): PodSecurityViolation[] {
  return evaluatePodSecurityDetailed(level, pod).map(({ check, level: l, reason, detail }) => ({ check, level: l, reason, detail }));
}

/**
 * The message kube-apiserver would produce for this object at a level: the Forbidden error for a
 * Pod, the "would violate" warning for workloads; undefined when it passes or has no pod template.
 */
export function podSecurityMessageFor(obj: unknown, level: PodSecurityLevel, version = 'latest'): string | undefined {
  const tpl = podTemplateOf(obj);
  if (!tpl) return undefined;
  const isPod = at(obj, 'kind') === 'Pod';
  const violations = evaluatePodSecurity(level, isPod ? withPodDefaults(tpl) : tpl);
  if (violations.length === 0) return undefined;
  if (isPod) {
    return formatPodSecurityForbidden({ resource: 'pods', name: str(at(obj, 'metadata', 'name')) ?? '', level, version, violations });
  }
  return formatPodSecurityWarning({ level, version, violations });
}
