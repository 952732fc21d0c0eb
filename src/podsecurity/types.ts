/**
 * Pod Security Standards evaluation shared by the sandbox's admission, the renderer's tests and
 * `berth lint`. Implemented in ./evaluate.ts.
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
