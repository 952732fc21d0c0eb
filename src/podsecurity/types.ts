/**
 * Pod Security Standards evaluation shared by the sandbox's admission, the renderer's tests and
 * `berth lint`. Evaluated in ./evaluate.ts, one file of checks per family (./*Checks.ts).
 */
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface PodSecurityViolation {
  /** Check id as in the upstream pod-security-admission library, e.g. "allowPrivilegeEscalation". */
  readonly check: string;
  /** The level whose policy the check belongs to. */
  readonly level: Exclude<PodSecurityLevel, 'privileged'>;
  /**
   * Reason and detail exactly as kube-apiserver prints them, e.g.
   * reason "allowPrivilegeEscalation != false",
   * detail 'container "app" must set securityContext.allowPrivilegeEscalation=false'.
   */
  readonly reason: string;
  readonly detail: string;
}

/** What a violation points at, so callers (lint) can show a field path. */
export type PodSecurityTarget =
  | { readonly kind: 'pod' }
  | { readonly kind: 'container'; readonly list: ContainerList; readonly index: number; readonly name: string }
  | { readonly kind: 'volume'; readonly index: number; readonly name: string }
  | { readonly kind: 'annotation'; readonly key: string };

export type ContainerList = 'initContainers' | 'containers' | 'ephemeralContainers';

export interface DetailedPodSecurityViolation extends PodSecurityViolation {
  readonly targets: readonly PodSecurityTarget[];
}
