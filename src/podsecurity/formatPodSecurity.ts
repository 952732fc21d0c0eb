/** kube-apiserver's Pod Security messages: the Forbidden error and the "would violate" warning. */
import { goQuote } from './checkHelpers.ts';
import type { PodSecurityLevel, PodSecurityViolation } from './types.ts';

/** Upstream AggregateCheckResult.ForbiddenDetail(): `reason (detail), reason, ...`. */
export function formatPodSecurityViolations(violations: readonly PodSecurityViolation[]): string {
  return violations.map((v) => (v.detail === '' ? v.reason : `${v.reason} (${v.detail})`)).join(', ');
}

export interface PodSecurityMessageOptions {
  readonly level: PodSecurityLevel;
  /** Policy version as written in the namespace label, e.g. "latest" or "v1.33". */
  readonly version?: string;
  readonly violations: readonly PodSecurityViolation[];
}

export interface PodSecurityForbiddenOptions extends PodSecurityMessageOptions {
  /** Plural resource, e.g. "pods". */
  readonly resource?: string;
  readonly name: string;
}

/**
 * kube-apiserver's rejection message for a pod, as built by apierrors.NewForbidden, e.g.
 * `pods "nginx" is forbidden: violates PodSecurity "restricted:latest": ...`.
 */
export function formatPodSecurityForbidden(opts: PodSecurityForbiddenOptions): string {
  const resource = opts.resource ?? 'pods';
  const reason = `violates PodSecurity ${goQuote(`${opts.level}:${opts.version ?? 'latest'}`)}: ${formatPodSecurityViolations(opts.violations)}`;
  return opts.name === '' ? `${resource} is forbidden: ${reason}` : `${resource} ${goQuote(opts.name)} is forbidden: ${reason}`;
}

/** The warning kube-apiserver returns for workload objects whose pod template would be rejected. */
export function formatPodSecurityWarning(opts: PodSecurityMessageOptions): string {
  return `would violate PodSecurity ${goQuote(`${opts.level}:${opts.version ?? 'latest'}`)}: ${formatPodSecurityViolations(opts.violations)}`;
}
