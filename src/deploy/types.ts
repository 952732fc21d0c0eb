/**
 * The deploy domain's own shapes: change plans, drift notes and diffs. The HTTP API (src/api/types.ts)
 * re-exports them as its wire types, so the server and the CLI read exactly what the engine produces.
 */
import type { ObjectRef } from '../store/types.ts';

/** The hardening score every deploy answers with; the lint domain defines it (src/lint/types.ts, computed by src/lint/score.ts). */
export type { HardeningScore, WorkloadScore } from '../lint/types.ts';

/** One object of a change plan: what applying a revision does to the cluster. */
export interface ObjectChange {
  readonly ref: ObjectRef;
  readonly action: 'create' | 'update' | 'unchanged' | 'prune';
  /** Top-level paths that differ, e.g. ["spec.template.spec.containers[0].image"]; empty for create/prune. */
  readonly changedPaths: readonly string[];
}

/** One object reconciliation found missing or changed outside berth. */
export interface DriftedObject {
  readonly ref: ObjectRef;
  readonly problem: 'missing' | 'changed';
  readonly changedPaths: readonly string[];
}

/** Objects reconciliation found missing or changed outside berth, and whether re-applying repaired them. */
export interface DriftNote {
  readonly detectedAt: string;
  /** The revision whose desired state was restored. */
  readonly revision: number;
  readonly objects: readonly DriftedObject[];
  readonly repaired: boolean;
  readonly error: string | null;
  /** The stable error code of a failed repair (e.g. BERTH_CLUSTER_FORBIDDEN when berth may not recreate the namespace); null when repaired. */
  readonly reason: string | null;
}

/** Live vs rendered for one App. */
export interface AppDiff {
  readonly changes: readonly ObjectChange[];
  /** Unified diff text of live vs rendered YAML, per object. */
  readonly diff: string;
}
