import { BerthError } from '../errors.ts';

/** Thrown by engine work that notices the engine stopped; the revision stays unfinished for the next start. */
export class StoppedError extends Error {
  constructor() {
    super('the deploy engine stopped');
  }
}

/** What a failed apply means for its revision. */
export type ApplyFailure =
  /** Try again later (reconciliation resumes it): the cluster was unreachable or the engine stopped. */
  | { readonly retry: true; readonly error: unknown }
  /** The revision failed: record `reason`/`message`; `error` is what the request answers with. */
  | { readonly retry: false; readonly error: BerthError; readonly reason: string; readonly message: string };

const REASONS: Partial<Record<string, string>> = {
  BERTH_CLUSTER_REJECTED: 'ClusterRejected',
  BERTH_CLUSTER_FORBIDDEN: 'ClusterForbidden',
};

/**
 * The one mapping from an apply error to a revision's failure reason, shared by a deploy and by the
 * resumption of an interrupted revision, so the same error records the same reason whichever applied it.
 */
export function applyFailure(e: unknown): ApplyFailure {
  if (e instanceof StoppedError || (e instanceof BerthError && e.code === 'BERTH_CLUSTER_UNREACHABLE')) return { retry: true, error: e };
  const error = e instanceof BerthError ? e : new BerthError('BERTH_INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
  return { retry: false, error, reason: REASONS[error.code] ?? 'ApplyFailed', message: error.message };
}
