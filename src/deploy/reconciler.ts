import type { AuditEntry, AuditLog } from '../audit/auditLog.ts';
import { refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError } from '../errors.ts';
import type { Clock } from '../kube/clock.ts';
import type { BerthMetrics } from '../metrics/berthMetrics.ts';
import type { AppStore, RevisionRow } from '../store/types.ts';
import { applyFailure, StoppedError } from './applyFailure.ts';
import { withLiveReplicas } from './autoscaledReplicas.ts';
import { ownedFieldDiff, serverFieldDiff } from './changePlan.ts';
import type { EngineLogger } from './engineLogger.ts';
import type { KeyedMutex } from './keyedMutex.ts';
import { resolveStored } from './parseAppRequest.ts';
import { appKey, type RevisionApplier } from './revisionApplier.ts';
import type { RolloutTracker } from './rolloutTracker.ts';
import type { DriftedObject, DriftNote } from './types.ts';

export interface ReconcileReport {
  readonly resumed: number;
  readonly drifted: number;
  readonly errors: number;
}

export interface ReconcilerDeps {
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly metrics: BerthMetrics;
  readonly logger: EngineLogger;
  readonly clock: Clock;
  /** The engine's per-app lock: a resume or repair never interleaves with a deploy of the same app. */
  readonly mutex: KeyedMutex;
  readonly applier: RevisionApplier;
  readonly tracker: RolloutTracker;
  /** True once the engine stopped: a pass ends early. */
  readonly stopped: () => boolean;
  /** Where resumes, drift repairs and supersessions are recorded, as berth's own (system) writes. */
  readonly audit?: AuditLog;
  /**
   * With several replicas: which unfinished revisions (by revisionKeyText) this replica may resume;
   * the others are carried by a live replica. Absent: every one (a single process).
   */
  readonly resumable?: (unfinished: readonly RevisionRow[]) => Promise<ReadonlySet<string>>;
}

/** berth itself: the actor of every audit row reconciliation writes. No person asked for these changes. */
export const SYSTEM_ACTOR = { actor: 'berth', actorKind: 'system' } as const;

type SystemAuditEntry = Omit<AuditEntry, 'actor' | 'actorKind' | 'sourceIp' | 'requestId' | 'statusCode'>;

/** The stable code of a failure, for a drift note's `reason`. */
const reasonOf = (e: unknown): string => (e instanceof BerthError ? e.code : 'BERTH_INTERNAL');
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const describeDrift = (objects: readonly DriftedObject[]): string =>
  objects.map((d) => `${d.ref.kind}/${d.ref.name} ${d.problem}${d.changedPaths.length > 0 ? ` (${d.changedPaths.join(', ')})` : ''}`).join(', ');

/**
 * Brings the cluster back to what the store says: resumes revisions a previous process accepted but
 * never finished, and re-applies objects deleted or edited outside berth (drift).
 */
export interface Reconciler {
  /** One pass over every unfinished revision and every app; overlapping calls share one pass. */
  reconcile(): Promise<ReconcileReport>;
  /** Only the resume half: revisions left unfinished (cheap; the leader runs it every few seconds). */
  resumeUnfinished(): Promise<ReconcileReport>;
  driftOf(namespace: string, name: string): DriftNote | undefined;
  /** Resolves when the pass in progress (if any) is over. */
  idle(): Promise<void>;
  /** Forgets the app's drift note (it was deleted). */
  forget(namespace: string, name: string): void;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { store, cluster, metrics, logger, clock, mutex, applier, tracker } = deps;
  const drift = new Map<string, DriftNote>();
  let reconciling: Promise<ReconcileReport> | undefined;
  let resuming: Promise<ReconcileReport> | undefined;

  const alive = (): void => {
    if (deps.stopped()) throw new StoppedError();
  };

  /**
   * An audit row of berth's own write. The cluster change it describes is already made and cannot be
   * rolled back with it, so a failed audit write is logged, not retried (a retry would redo the change).
   */
  async function recordSystem(entry: SystemAuditEntry): Promise<void> {
    if (deps.audit === undefined) return;
    try {
      await deps.audit.record({ ...SYSTEM_ACTOR, ...entry });
    } catch (e) {
      logger.error({ app: appKey(entry.namespace ?? '', entry.app ?? ''), action: entry.action, err: messageOf(e) }, 'could not write the audit row of a system change');
    }
  }

  async function supersede(row: RevisionRow, by: number | undefined): Promise<void> {
    const message = by === undefined ? 'superseded by a newer revision' : `superseded by revision ${by}`;
    await tracker.finish(row, { outcome: 'superseded', reason: null, message });
    await recordSystem({ action: 'app.supersede', namespace: row.namespace, app: row.name, revision: row.revision, outcome: 'succeeded', diffSummary: `revision ${row.revision} left unfinished by a previous process, ${message}` });
  }

  async function resume(row: RevisionRow): Promise<void> {
    const k = appKey(row.namespace, row.name);
    await mutex.run(k, async () => {
      alive();
      const app = await store.getApp(row.namespace, row.name);
      if (!app) return;
      if (app.revision !== row.revision) {
        await supersede(row, app.revision);
        return;
      }
      const about = { namespace: row.namespace, app: row.name, revision: row.revision, action: 'app.resume' } as const;
      if (row.outcome === 'accepted') {
        logger.info({ app: k, revision: row.revision }, `resuming revision ${row.revision}: applying`);
        try {
          await applier.apply(row);
        } catch (e) {
          const failure = applyFailure(e);
          // Retried at the next pass; its row is written once the resume gets somewhere.
          if (failure.retry) throw failure.error;
          await tracker.finish(row, { outcome: 'failed', reason: failure.reason, message: failure.message });
          await recordSystem({ ...about, outcome: 'failed', reason: failure.message, diffSummary: `resumed revision ${row.revision} after a restart: applying it failed` });
          return;
        }
        await recordSystem({ ...about, outcome: 'succeeded', diffSummary: `resumed revision ${row.revision} after a restart: applied its objects, tracking its rollout` });
      } else {
        await recordSystem({ ...about, outcome: 'succeeded', diffSummary: `resumed revision ${row.revision} after a restart: tracking its rollout` });
      }
      if (tracker.trackedRevision(row.namespace, row.name) === undefined) void tracker.track(row);
    });
  }

  async function repairDrift(namespace: string, name: string): Promise<boolean> {
    const k = appKey(namespace, name);
    return mutex.run(k, async () => {
      alive();
      const appRow = await store.getApp(namespace, name);
      if (!appRow) return false;
      const row = await store.getRevision(namespace, name, appRow.revision);
      // Unfinished revisions are resume's job; an inventory-less revision never reached the cluster.
      if (!row || row.outcome === 'accepted' || row.inventory.length === 0) return false;
      const app = resolveStored(row.spec);
      if (!app) return false;
      const inventory = new Set(row.inventory.map(refKey));
      const live = await applier.liveState(namespace, name);
      const desired = withLiveReplicas(applier.desired(app, row.revision), app, live).filter((o) => inventory.has(refKey(refOf(o))));
      for (const o of desired) {
        const key = refKey(refOf(o));
        if (!live.has(key)) {
          const found = await cluster.get(refOf(o));
          if (found) live.set(key, found);
        }
      }
      // Compared as the server stores objects: fields it drops or normalises are no drift (on a real
      // cluster a zero initialDelaySeconds once read as drift and was re-applied every pass, forever).
      const server = await applier.serverAnswers(desired, live);
      const drifted: DriftedObject[] = [];
      for (const o of desired) {
        const ref = refOf(o);
        const current = live.get(refKey(ref));
        if (!current) drifted.push({ ref, problem: 'missing', changedPaths: [] });
        else {
          const answer = server.get(refKey(ref));
          const paths = answer ? serverFieldDiff(o, answer, current) : ownedFieldDiff(o, current);
          if (paths.length > 0) drifted.push({ ref, problem: 'changed', changedPaths: paths });
        }
      }
      if (drifted.length === 0) return false;
      logger.warn({ app: k, revision: row.revision, drifted: drifted.map((d) => `${d.ref.kind}/${d.ref.name} ${d.problem}`) }, 'drift detected; re-applying');
      let error: string | null = null;
      let reason: string | null = null;
      try {
        // The namespace itself may be gone (deleted, or a cluster that lost its state): objects cannot
        // be applied into it, so it is recreated first, with the labels deploy gives a new one.
        if (await cluster.ensureNamespace(namespace)) {
          drifted.unshift({ ref: { apiVersion: 'v1', kind: 'Namespace', name: namespace }, problem: 'missing', changedPaths: [] });
          logger.warn({ app: k, namespace }, 'namespace was missing; recreated it (Pod Security restricted)');
        }
        await cluster.apply(desired);
        for (const d of drifted) metrics.driftRepairs.inc({ kind: d.ref.kind });
      } catch (e) {
        error = messageOf(e);
        reason = reasonOf(e);
        logger.error({ app: k, reason, err: error }, 'drift repair failed; retrying at the next pass');
      }
      const previous = drift.get(k);
      drift.set(k, { detectedAt: new Date(clock.now()).toISOString(), revision: row.revision, objects: drifted, repaired: error === null, error, reason });
      // A repair that keeps failing the same way is one audit row, not one per pass; the note stays current.
      const sameFailure = error !== null && previous !== undefined && !previous.repaired && previous.revision === row.revision && previous.reason === reason && previous.error === error;
      if (!sameFailure) {
        await recordSystem({
          action: 'app.drift.repair',
          namespace,
          app: name,
          revision: row.revision,
          outcome: error === null ? 'succeeded' : 'failed',
          reason: error === null ? null : `${reason}: ${error}`,
          diffSummary: `${error === null ? 're-applied' : 'could not re-apply'} revision ${row.revision}: ${describeDrift(drifted)}`,
        });
      }
      return true;
    });
  }

  async function reconcileOnce(withDrift: boolean): Promise<ReconcileReport> {
    let resumed = 0;
    let drifted = 0;
    let errors = 0;
    const unfinished = await store.unfinishedRevisions();
    const newest = new Map<string, RevisionRow>();
    for (const r of unfinished) newest.set(appKey(r.namespace, r.name), r);
    const mine = deps.resumable ? await deps.resumable(unfinished) : undefined;
    for (const r of unfinished) {
      if (deps.stopped()) break;
      if (mine !== undefined && !mine.has(`${r.namespace}/${r.name}#${r.revision}`)) continue;
      const k = appKey(r.namespace, r.name);
      if (newest.get(k) !== r) {
        await supersede(r, undefined);
        continue;
      }
      if (tracker.trackedRevision(r.namespace, r.name) === r.revision) continue;
      try {
        await resume(r);
        resumed++;
      } catch (e) {
        if (e instanceof StoppedError) break;
        errors++;
        logger.warn({ app: k, revision: r.revision, err: e instanceof Error ? e.message : String(e) }, 'could not resume revision; will retry');
      }
    }
    for (const a of withDrift ? await store.listApps() : []) {
      if (deps.stopped()) break;
      try {
        if (await repairDrift(a.namespace, a.name)) drifted++;
      } catch (e) {
        if (e instanceof StoppedError) break;
        errors++;
        logger.warn({ app: appKey(a.namespace, a.name), err: e instanceof Error ? e.message : String(e) }, 'drift check failed; will retry');
      }
    }
    return { resumed, drifted, errors };
  }

  return {
    reconcile() {
      // Overlapping passes (timer + manual) share one run; a resume-only pass in flight finishes first.
      reconciling ??= (resuming ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => reconcileOnce(true))
        .finally(() => {
          reconciling = undefined;
        });
      return reconciling;
    },
    resumeUnfinished() {
      // A full pass resumes too: share it rather than race it.
      if (reconciling) return reconciling;
      resuming ??= reconcileOnce(false).finally(() => {
        resuming = undefined;
      });
      return resuming;
    },
    driftOf: (namespace, name) => drift.get(appKey(namespace, name)),
    idle: async () => {
      await Promise.all([reconciling?.catch(() => undefined), resuming?.catch(() => undefined)]);
    },
    forget(namespace, name) {
      drift.delete(appKey(namespace, name));
    },
  };
}
