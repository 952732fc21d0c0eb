import { BerthError } from '../errors.ts';
import type { Clock } from '../kube/clock.ts';
import type { BerthMetrics } from '../metrics/berthMetrics.ts';
import { rolloutVerdict } from '../status/rolloutVerdict.ts';
import type { AppStatus, StatusEngine } from '../status/types.ts';
import type { AppStore, RevisionOutcome, RevisionRow } from '../store/types.ts';
import type { EngineLogger } from './engineLogger.ts';
import { appKey } from './revisionApplier.ts';

export type FinishedOutcome = Extract<RevisionOutcome, 'succeeded' | 'failed' | 'superseded'>;

export interface RolloutResult {
  readonly outcome: FinishedOutcome;
  readonly reason: string | null;
  readonly message: string | null;
  readonly status: AppStatus | undefined;
}

export interface RolloutTrackerDeps {
  readonly store: AppStore;
  readonly status: StatusEngine;
  readonly metrics: BerthMetrics;
  readonly logger: EngineLogger;
  readonly clock: Clock;
  /** How long a rollout is tracked before it counts as failed. */
  readonly rolloutTimeoutMs: number;
}

/** Follows rollouts through the status engine and records each revision's outcome, once. */
export interface RolloutTracker {
  /** Tracks `row` (the same promise when it is tracked already); a newer revision of the app supersedes the older's tracking. */
  track(row: RevisionRow): Promise<RolloutResult>;
  /** The revision tracked for the app, if any. */
  trackedRevision(namespace: string, name: string): number | undefined;
  rolloutOf(namespace: string, name: string, revision: number): Promise<RolloutResult> | undefined;
  /** Stops tracking the app (it was deleted): its revision is recorded superseded. */
  abort(namespace: string, name: string, reason: string): void;
  /** Stops all tracking without recording anything: the next start resumes those revisions. */
  stop(): Promise<void>;
  /** Records how a revision ended: store, metrics and log. */
  finish(row: Pick<RevisionRow, 'namespace' | 'name' | 'revision' | 'createdAt'>, result: Omit<RolloutResult, 'status'>): Promise<void>;
  /** Waits (up to `timeoutMs`) until the app's rollout of `revision` is done, without recording anything. */
  settled(namespace: string, name: string, revision: number, timeoutMs: number): Promise<RolloutResult>;
}

/** How a finished rollout of `revision` ended, as the status shows it. */
function resultOf(s: AppStatus, revision: number): RolloutResult {
  if (s.revision !== null && s.revision > revision) return { outcome: 'superseded', reason: null, message: `superseded by revision ${s.revision}`, status: s };
  if (s.state === 'Available') return { outcome: 'succeeded', reason: s.reason, message: s.message, status: s };
  return { outcome: 'failed', reason: s.reason, message: s.message, status: s };
}

const rolloutTimeout = (limitMs: number): BerthError =>
  new BerthError('BERTH_ROLLOUT_TIMEOUT', `The rollout did not finish within ${Math.round(limitMs / 1000)}s; it goes on in the cluster.`);

/** Resolves with `promise`, or rejects with BERTH_ROLLOUT_TIMEOUT after `limitMs` (the rollout goes on). */
export async function withRolloutTimeout<T>(clock: Clock, promise: Promise<T>, limitMs: number): Promise<T> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.setTimeout(() => reject(rolloutTimeout(limitMs)), limitMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    cancel?.();
  }
}

export function createRolloutTracker(deps: RolloutTrackerDeps): RolloutTracker {
  const { store, status, metrics, logger, clock } = deps;
  const trackers = new Map<string, { revision: number; abort: AbortController; promise: Promise<RolloutResult> }>();

  const finish: RolloutTracker['finish'] = async (row, result) => {
    await store.finishRevision(row.namespace, row.name, row.revision, { outcome: result.outcome, reason: result.reason, message: result.message });
    metrics.deploys.inc({ outcome: result.outcome, reason: result.reason ?? '' });
    metrics.rolloutDuration.observe({ outcome: result.outcome }, Math.max(0, (clock.now() - Date.parse(row.createdAt)) / 1000));
    logger.info({ app: appKey(row.namespace, row.name), revision: row.revision, outcome: result.outcome, reason: result.reason }, `revision ${row.revision} ${result.outcome}`);
  };

  function track(row: RevisionRow): Promise<RolloutResult> {
    const k = appKey(row.namespace, row.name);
    const existing = trackers.get(k);
    if (existing && existing.revision === row.revision) return existing.promise;
    existing?.abort.abort('superseded');
    const abort = new AbortController();
    const elapsed = clock.now() - Date.parse(row.createdAt);
    // A resumed revision gets what is left of its time, but at least a moment to look at the current status.
    const timeoutMs = Math.max(deps.rolloutTimeoutMs - (Number.isFinite(elapsed) ? elapsed : 0), Math.min(deps.rolloutTimeoutMs, 5000));
    const promise = (async (): Promise<RolloutResult> => {
      let result: RolloutResult;
      try {
        const s = await status.waitFor(row.namespace, row.name, (st) => rolloutVerdict(st, row.revision).done, { timeoutMs, signal: abort.signal });
        result = resultOf(s, row.revision);
      } catch (e) {
        if (abort.signal.aborted) {
          const current = status.get(row.namespace, row.name);
          // Stopping leaves the revision unfinished on purpose: the next start resumes it.
          if (abort.signal.reason === 'stopped') return { outcome: 'superseded', reason: null, message: 'the server stopped', status: current };
          return { outcome: 'superseded', reason: null, message: 'superseded by a newer revision', status: current };
        }
        const current = status.get(row.namespace, row.name);
        logger.warn({ app: k, revision: row.revision, err: e instanceof Error ? e.message : String(e) }, 'rollout did not finish in time');
        result = {
          outcome: 'failed',
          reason: 'RolloutTimeout',
          message: `The rollout did not finish within ${Math.round(timeoutMs / 1000)}s${current ? ` (last state ${current.state}: ${current.message})` : ''}.`,
          status: current,
        };
      } finally {
        if (trackers.get(k)?.abort === abort) trackers.delete(k);
      }
      await finish(row, result).catch((e: unknown) => logger.error({ app: k, revision: row.revision, err: String(e) }, 'could not record the rollout outcome'));
      return result;
    })();
    trackers.set(k, { revision: row.revision, abort, promise });
    return promise;
  }

  return {
    track,
    finish,
    trackedRevision: (namespace, name) => trackers.get(appKey(namespace, name))?.revision,
    rolloutOf(namespace, name, revision) {
      const t = trackers.get(appKey(namespace, name));
      return t && t.revision === revision ? t.promise : undefined;
    },
    abort(namespace, name, reason) {
      trackers.get(appKey(namespace, name))?.abort.abort(reason);
    },
    async stop() {
      for (const t of trackers.values()) t.abort.abort('stopped');
      await Promise.allSettled([...trackers.values()].map((t) => t.promise));
    },
    async settled(namespace, name, revision, timeoutMs) {
      let s: AppStatus;
      try {
        s = await status.waitFor(namespace, name, (st) => rolloutVerdict(st, revision).done, { timeoutMs });
      } catch {
        throw rolloutTimeout(timeoutMs);
      }
      return resultOf(s, revision);
    },
  };
}
