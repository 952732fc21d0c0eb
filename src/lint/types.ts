import type { KubeObject as BaseKubeObject, ObjectMeta } from '../kube/objectMeta.ts';

export type LintSeverity = 'error' | 'warning' | 'info';

export const SEVERITIES: readonly LintSeverity[] = ['error', 'warning', 'info'];

/** Rank for --min-severity: higher is more severe. */
export const SEVERITY_RANK: Readonly<Record<LintSeverity, number>> = { error: 3, warning: 2, info: 1 };

export interface LintObjectRef {
  readonly kind: string;
  /** Empty when the object does not set metadata.namespace. */
  readonly namespace: string;
  readonly name: string;
}

export interface LintLocation {
  /** File name, "-" for stdin, or "" when objects were passed in directly. */
  readonly source: string;
  /** 1-based line where the object's document starts; 0 when unknown. */
  readonly line: number;
}

export interface LintFinding {
  /** Stable rule id, e.g. "berth/run-as-non-root". */
  readonly rule: string;
  readonly severity: LintSeverity;
  readonly object: LintObjectRef;
  /** Field path inside the object, e.g. "spec.template.spec.containers[0].securityContext"; "" for the whole object. */
  readonly path: string;
  readonly message: string;
  readonly hint: string;
  readonly location?: LintLocation;
}

export interface LintSummary {
  readonly objects: number;
  readonly error: number;
  readonly warning: number;
  readonly info: number;
}

export interface LintReport {
  readonly findings: readonly LintFinding[];
  readonly summary: LintSummary;
  /** The hardening score of the whole input (src/lint/score.ts); filtering findings does not change it. */
  readonly score: HardeningScore;
}

/** A Kubernetes object as read from the input; only the envelope is guaranteed. */
export interface KubeObject extends BaseKubeObject {
  readonly metadata: ObjectMeta & { readonly [k: string]: unknown };
}

/** An input object plus where it came from. */
export interface LintInput {
  readonly object: KubeObject;
  readonly location?: LintLocation;
}

/** The 0–100 hardening score of one workload (src/lint/score.ts). */
export interface WorkloadScore {
  readonly object: LintObjectRef;
  /** 0..100. */
  readonly score: number;
  /** Findings on the workload object, by severity (every finding, before once-per-rule counting). */
  readonly findings: { readonly error: number; readonly warning: number; readonly info: number };
}

export interface HardeningScore {
  /** 0..100. */
  readonly overall: number;
  readonly workloads: readonly WorkloadScore[];
}
