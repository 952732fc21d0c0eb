/**
 * When a rollout of one revision is over, and whether it worked. The deploy engine (to finish the stored
 * revision) and the CLI (to pick its exit code while following the stream) must agree, so both use this.
 */
import type { AppStatus, RolloutReason } from './types.ts';

/** Reasons that make a rollout fail, whether the state is Failed or Degraded (old pods still serve). */
const FAILURE_REASONS: ReadonlySet<RolloutReason> = new Set<RolloutReason>([
  'ImagePullFailed',
  'CrashLooping',
  'OOMKilled',
  'ConfigError',
  'ForbiddenByPodSecurity',
  'QuotaExceeded',
  'Unschedulable',
  'ProbeFailing',
  'ProgressDeadlineExceeded',
]);

export function isFailureReason(reason: RolloutReason): boolean {
  return FAILURE_REASONS.has(reason);
}

export type RolloutVerdict =
  | { readonly done: false }
  | { readonly done: true; readonly ok: true; readonly status: AppStatus }
  | { readonly done: true; readonly ok: false; readonly status: AppStatus; readonly superseded: boolean };

/**
 * Whether `status` ends the wait for `revision`: Available at (or past) that revision succeeds;
 * Failed, or Degraded for a failure reason (the new pods fail while old ones still serve), fails.
 * A status of an older revision is still the previous rollout and says nothing yet.
 */
export function rolloutVerdict(status: AppStatus, revision: number | null): RolloutVerdict {
  if (revision !== null && (status.revision === null || status.revision < revision)) return { done: false };
  if (revision !== null && status.revision !== null && status.revision > revision) return { done: true, ok: false, status, superseded: true };
  if (status.state === 'Available') return { done: true, ok: true, status };
  if (status.state === 'Failed' || (status.state === 'Degraded' && isFailureReason(status.reason))) return { done: true, ok: false, status, superseded: false };
  return { done: false };
}

