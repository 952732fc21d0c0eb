/**
 * The deploy engine's facade: validates requests, records revisions (with their audit rows) and hands
 * the work to its parts: the applier (revisionApplier.ts), rollout tracking (rolloutTracker.ts) and
 * the reconciler (reconciler.ts: resumption of interrupted revisions and drift repair).
 */
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { ActorKind, AuditLog } from '../audit/auditLog.ts';
import { podSelector, refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError, type Problem } from '../errors.ts';
import { realClock, type Clock } from '../kube/clock.ts';
import type { RenderOptions } from '../manifests/renderApp.ts';
import type { BerthMetrics } from '../metrics/berthMetrics.ts';
import type { StatusEngine } from '../status/types.ts';
import type { AppRow, AppStore, AppStoreTx, NewRevision, ObjectRef, RevisionAction, RevisionRow } from '../store/types.ts';
import { applyFailure, StoppedError } from './applyFailure.ts';
import { diffSummary } from './diffSummary.ts';
import { hardeningScoreOf } from './hardeningScore.ts';
import type { EngineLogger } from './engineLogger.ts';
import { KeyedMutex } from './keyedMutex.ts';
import { parseAppRequest, resolveStored } from './parseAppRequest.ts';
import { createReconciler, type ReconcileReport } from './reconciler.ts';
import { appKey, createRevisionApplier, type AppliedRevision } from './revisionApplier.ts';
import { createRolloutTracker, withRolloutTimeout, type RolloutResult } from './rolloutTracker.ts';
import { createReplicaCoordinator, type ReplicaOptions } from './replicaCoordinator.ts';
import { sameValue } from './sameValue.ts';
import { describeWeakenings, type Weakening } from '../appspec/weakenings.ts';
import type { AppDiff, DriftNote, HardeningScore, ObjectChange } from './types.ts';

export type { EngineLogger } from './engineLogger.ts';
export type { ReconcileReport } from './reconciler.ts';
export { desiredObjects } from './revisionApplier.ts';
export type { FinishedOutcome, RolloutResult } from './rolloutTracker.ts';
export type { DriftedObject } from './types.ts';

export interface DeployEngineOptions {
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly status: StatusEngine;
  readonly metrics: BerthMetrics;
  readonly logger: EngineLogger;
  readonly clock?: Clock;
  /** How long a rollout is tracked before it counts as failed (config.rolloutTimeoutMs). */
  readonly rolloutTimeoutMs: number;
  /** How often resume + drift repair run (config.reconcileIntervalMs); 0 disables the timer. */
  readonly reconcileIntervalMs: number;
  /** How long delete waits for the app's pods to go (default 120 s). */
  readonly deleteTimeoutMs?: number;
  /** config.managedNamespaces: when set, deploy, rollback and delete anywhere else fail with BERTH_NAMESPACE_NOT_MANAGED. */
  readonly managedNamespaces?: readonly string[];
  /** Server-wide rendering choices: the health CronJob's image (config.berthImage). */
  readonly render?: RenderOptions;
  /**
   * The audit log: every new revision and every delete writes its audit row in the transaction that
   * stores the change, so a failed audit write fails (rolls back) the change. Absent: no audit rows
   * (tools and tests that run the engine without a server).
   */
  readonly audit?: AuditLog;
  /**
   * Called when a delete begins, before any object goes: the prober stops probing the app at once
   * instead of recording its Service's removal as an outage.
   */
  readonly onDeleting?: (namespace: string, name: string) => void;
  /** Several replicas on one database: only the leader reconciles (src/deploy/replicaCoordinator.ts). */
  readonly replicas?: ReplicaOptions;
}

/** Who asked for a change, for its audit row (the actor itself is the request's `actor`). */
export interface AuditContext {
  readonly actorKind: ActorKind;
  readonly sourceIp?: string | null;
  readonly requestId?: string | null;
  /** The HTTP status the request answers with when the write succeeds. */
  readonly statusCode?: number | null;
  /**
   * Called once the change and its audit row committed: whatever happens to the request afterwards
   * (an apply that fails, a rollout timeout), its one audit row exists.
   */
  readonly onRecorded?: () => void;
}

export interface DeployRequest {
  readonly namespace: string;
  readonly name: string;
  /** YAML/JSON text or an already parsed JSON value. */
  readonly document: unknown;
  readonly actor: string;
  /** If-Match: the write only happens when the app's newest revision is this (0 = must not exist). */
  readonly expectedRevision?: number;
  readonly dryRun?: boolean;
  /** Resolve only once the rollout finished (or `timeoutMs` passed: BERTH_ROLLOUT_TIMEOUT). */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly audit?: AuditContext;
  /**
   * Admission by the caller's rights, run on the resolved App before anything is stored: throws to
   * refuse (e.g. a weakening without a grant), or returns the weakened settings to record.
   */
  readonly admit?: (app: ResolvedApp) => readonly Weakening[];
}

export interface RollbackRequest {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number;
  readonly actor: string;
  readonly expectedRevision?: number;
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly audit?: AuditContext;
  /** As for deploy: a rollback re-deploys the old spec's weakenings and needs the same grant. */
  readonly admit?: (app: ResolvedApp) => readonly Weakening[];
}

export interface DeleteRequest {
  readonly namespace: string;
  readonly name: string;
  readonly actor: string;
  readonly audit?: AuditContext;
}

export interface DeployResult {
  readonly namespace: string;
  readonly name: string;
  /** The new revision; null for a dry run; the current one when `unchanged`. */
  readonly revision: number | null;
  readonly dryRun: boolean;
  /** The App already runs this spec and nothing drifted: no revision was recorded. */
  readonly unchanged: boolean;
  readonly changes: readonly ObjectChange[];
  readonly warnings: readonly Problem[];
  /** The lint hardening score of the objects rendered for this spec (docs/lint-rules.md, "Score"). */
  readonly score: HardeningScore;
  /** With wait: how the rollout ended. */
  readonly rollout?: RolloutResult;
}

export interface DeployEngine {
  /** Resumes unfinished revisions and starts periodic drift repair; returns at once (work runs in the background). */
  start(): void;
  /** Stops the timer and rollout tracking; revisions in flight stay unfinished and resume at the next start. */
  stop(): Promise<void>;
  deploy(req: DeployRequest): Promise<DeployResult>;
  rollback(req: RollbackRequest): Promise<DeployResult>;
  delete(req: DeleteRequest): Promise<ObjectRef[]>;
  /** Live vs rendered for a candidate App (or the stored one when `document` is undefined). */
  diff(namespace: string, name: string, document: unknown): Promise<AppDiff>;
  /** One pass of resume + drift detection/repair over every app. */
  reconcile(): Promise<ReconcileReport>;
  /** Resolves when the first reconcile pass after start() is over. */
  readonly initialReconcile: Promise<ReconcileReport>;
  driftOf(namespace: string, name: string): DriftNote | undefined;
  /** Resolves when the revision's rollout tracking finished in this process (undefined when none runs). */
  rolloutOf(namespace: string, name: string, revision: number): Promise<RolloutResult> | undefined;
}

interface WriteRequest {
  readonly namespace: string;
  readonly name: string;
  readonly actor: string;
  readonly expectedRevision?: number;
  readonly wait?: boolean;
  readonly timeoutMs?: number;
  readonly dryRun?: boolean;
  readonly audit?: AuditContext;
}

type AuditDescription = { action: string; revision: number | null; diffSummary: string };

export function createDeployEngine(opts: DeployEngineOptions): DeployEngine {
  const { store, cluster, status, metrics, logger } = opts;
  const clock = opts.clock ?? realClock;
  const mutex = new KeyedMutex();
  let stopped = false;
  let cancelTimer: (() => void) | undefined;
  let resolveInitial!: (r: ReconcileReport) => void;
  const initialReconcile = new Promise<ReconcileReport>((r) => (resolveInitial = r));

  const alive = (): void => {
    if (stopped) throw new StoppedError();
  };
  const applier = createRevisionApplier({ store, cluster, logger, alive, ...(opts.render ? { render: opts.render } : {}) });
  const tracker = createRolloutTracker({ store, status, metrics, logger, clock, rolloutTimeoutMs: opts.rolloutTimeoutMs });
  // A revision's claim is written in the transaction of its audit row; without an audit log there is none.
  if (opts.replicas && !opts.audit) throw new BerthError('BERTH_INTERNAL', 'several replicas need the audit log: claims are written in its transactions');
  const replicas = opts.replicas ? createReplicaCoordinator(opts.replicas, { clock, logger }) : undefined;
  const reconciler = createReconciler({
    store,
    cluster,
    metrics,
    logger,
    clock,
    mutex,
    applier,
    tracker,
    stopped: () => stopped,
    ...(opts.audit ? { audit: opts.audit } : {}),
    ...(replicas ? { resumable: (rows: readonly RevisionRow[]) => replicas.resumable(rows) } : {}),
  });

  const managed = opts.managedNamespaces === undefined ? undefined : new Set(opts.managedNamespaces);
  /** berth holds no Role outside its managed namespaces and does not watch them: refuse before anything is stored. */
  const checkManaged = (namespace: string): void => {
    if (managed === undefined || managed.has(namespace)) return;
    throw new BerthError('BERTH_NAMESPACE_NOT_MANAGED', `berth does not manage namespace "${namespace}"; it manages ${[...managed].sort().join(', ')}.`, {
      hint: `Use one of those namespaces, or add "${namespace}" to managedNamespaces (BERTH_MANAGED_NAMESPACES) and re-run "berth install --managed-namespaces" so berth gets its Role there.`,
    });
  };

  const auditEntry = (req: WriteRequest & { readonly audit?: AuditContext }, description: AuditDescription) => {
    const ctx = req.audit;
    return {
      actor: req.actor,
      actorKind: ctx?.actorKind ?? 'system',
      sourceIp: ctx?.sourceIp ?? null,
      namespace: req.namespace,
      app: req.name,
      outcome: 'succeeded' as const,
      statusCode: ctx?.statusCode ?? null,
      requestId: ctx?.requestId ?? null,
      ...description,
    };
  };

  /**
   * Runs a store write and, with an audit log, its audit row in the same transaction: both commit or
   * neither does. `describe` fills the row from the write's result.
   */
  async function audited<T>(req: WriteRequest, change: (tx: AppStoreTx) => Promise<T>, describe: (result: T) => AuditDescription): Promise<T> {
    const { audit } = opts;
    // Without an audit log the store's own (retried) write is the whole change.
    if (audit === undefined) return change(store);
    const result = await audit.transaction(async (tx) => {
      const r = await change(tx);
      await audit.recordInTx(tx, auditEntry(req, describe(r)));
      return r;
    });
    req.audit?.onRecorded?.();
    return result;
  }

  /**
   * The changes of re-deploying `app` when the app's newest revision succeeded with the same resolved
   * spec and the cluster still holds exactly what it applied; undefined when a new revision is due.
   */
  async function unchangedPlan(current: AppRow, app: ResolvedApp, req: WriteRequest): Promise<ObjectChange[] | undefined> {
    if (req.expectedRevision !== undefined && req.expectedRevision !== current.revision) return undefined;
    const stored = resolveStored(current.spec);
    if (!stored || !sameValue(stored, app)) return undefined;
    const row = await store.getRevision(req.namespace, req.name, current.revision);
    if (!row || row.outcome !== 'succeeded' || row.inventory.length === 0) return undefined;
    const changes = await applier.replan(row, app);
    return changes.every((c) => c.action === 'unchanged') ? changes : undefined;
  }

  type WriteOutcome = AppliedRevision & { readonly revision: number | null; readonly unchanged: boolean; readonly row?: Parameters<typeof tracker.track>[0] };

  async function write(
    parsed: { app: ResolvedApp; document: Record<string, unknown>; warnings: readonly Problem[] },
    req: WriteRequest,
    action: RevisionAction,
    rollbackOf?: number,
    weakenings: readonly Weakening[] = [],
  ): Promise<DeployResult> {
    const k = appKey(req.namespace, req.name);
    const outcome = await mutex.run(k, async (): Promise<WriteOutcome> => {
      alive();
      const current = await store.getApp(req.namespace, req.name);
      if (req.dryRun) {
        if (req.expectedRevision !== undefined && (current?.revision ?? 0) !== req.expectedRevision) {
          throw new BerthError('BERTH_REVISION_CONFLICT', `${k} is at revision ${current?.revision ?? 0}, not ${req.expectedRevision}.`);
        }
        return { revision: null, unchanged: false, ...(await applier.dryRun(parsed.app, current?.revision ?? 0)) };
      }
      if (current && action === 'deploy') {
        const same = await unchangedPlan(current, parsed.app, req);
        if (same) {
          // Nothing to store or apply; the audit row says so instead of naming a revision it did not make.
          if (opts.audit) {
            await opts.audit.record(auditEntry(req, { action: 'app.deploy.unchanged', revision: current.revision, diffSummary: `unchanged: revision ${current.revision} already runs this spec` }));
            req.audit?.onRecorded?.();
          }
          logger.info({ app: k, revision: current.revision, actor: req.actor }, `unchanged: revision ${current.revision} already runs this spec`);
          return { revision: current.revision, unchanged: true, changes: same, warnings: [] };
        }
      }
      const previous = current ? resolveStored(current.spec) : undefined;
      // Every weakened setting is named in the revision history and the audit row, every time.
      const weakened = describeWeakenings(weakenings);
      const summary = weakened === '' ? diffSummary(previous, parsed.app) : `${diffSummary(previous, parsed.app)}; ${weakened}`;
      const input: NewRevision = {
        namespace: req.namespace,
        name: req.name,
        spec: parsed.document,
        action,
        ...(rollbackOf !== undefined ? { rollbackOf } : {}),
        diffSummary: action === 'rollback' ? `rollback to revision ${rollbackOf}: ${summary}` : summary,
        actor: req.actor,
        ...(req.expectedRevision !== undefined ? { expectedRevision: req.expectedRevision } : {}),
      };
      const row = await audited(req, async (tx) => {
        const created = await tx.createRevision(input);
        // Claimed in the same transaction: the leader never mistakes it for one a dead replica left.
        await replicas?.claimWithin(tx, created);
        return created;
      }, (r) => ({
        action: action === 'rollback' ? 'app.rollback' : 'app.deploy',
        revision: r.revision,
        // The diff summary names fields and env keys, never env values (diffSummary.ts).
        diffSummary: r.diffSummary,
      }));
      logger.info({ app: k, revision: row.revision, actor: req.actor, action }, `revision ${row.revision} accepted`);
      try {
        return { revision: row.revision, unchanged: false, row, ...(await applier.apply(row)) };
      } catch (e) {
        const failure = applyFailure(e);
        // An unreachable cluster (or a stop) leaves the revision accepted: reconciliation applies it later.
        if (failure.retry) throw failure.error;
        await tracker.finish(row, { outcome: 'failed', reason: failure.reason, message: failure.message });
        throw failure.error;
      }
    });
    const base = {
      namespace: req.namespace,
      name: req.name,
      revision: outcome.revision,
      dryRun: req.dryRun === true,
      unchanged: outcome.unchanged,
      changes: outcome.changes,
      warnings: [...parsed.warnings, ...outcome.warnings],
      score: hardeningScoreOf(parsed.app),
    };
    const limit = req.timeoutMs ?? opts.rolloutTimeoutMs;
    if (outcome.unchanged && outcome.revision !== null) {
      // Nothing rolls out: a wait reports how the current revision stands (it may have degraded since).
      return req.wait ? { ...base, rollout: await tracker.settled(req.namespace, req.name, outcome.revision, limit) } : base;
    }
    if (outcome.row === undefined) return base;
    const rollout = tracker.track(outcome.row);
    if (!req.wait) return base;
    return { ...base, rollout: await withRolloutTimeout(clock, rollout, limit) };
  }

  const scheduleReconcile = (): void => {
    if (opts.reconcileIntervalMs <= 0 || stopped || (replicas !== undefined && !replicas.isLeader())) return;
    cancelTimer = clock.setTimeout(() => {
      void engine
        .reconcile()
        .catch((e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'reconciliation failed'))
        .finally(scheduleReconcile);
    }, opts.reconcileIntervalMs);
  };

  const engine: DeployEngine = {
    initialReconcile,

    start() {
      stopped = false;
      const lead = (): void => {
        // At once, not at the next periodic tick: a new leader repairs what happened while nobody led.
        void engine.reconcile().then(
          (report) => {
            resolveInitial(report);
            // The failover bench (bench/failover.bench.ts) measures SIGKILL → this line of the next leader.
            if (replicas) logger.info({ replica: replicas.identity, ...report }, 'first reconciliation as leader done');
          },
          (e: unknown) => {
            logger.error({ err: e instanceof Error ? e.message : String(e) }, 'initial reconciliation failed');
            resolveInitial({ resumed: 0, drifted: 0, errors: 1 });
          },
        );
        cancelTimer?.();
        scheduleReconcile();
      };
      if (!replicas) {
        lead();
        return;
      }
      // A follower has nothing to reconcile: the leader does it for every replica.
      if (!replicas.isLeader()) resolveInitial({ resumed: 0, drifted: 0, errors: 0 });
      replicas.start({
        onLead: () => {
          logger.info({ replica: replicas.identity }, 'leading: reconciling and resuming what other replicas left unfinished');
          lead();
        },
        onFollow: () => {
          logger.info({ replica: replicas.identity }, 'following: another replica reconciles');
          cancelTimer?.();
          cancelTimer = undefined;
        },
        orphanPass: async () => {
          await reconciler.resumeUnfinished();
        },
      });
    },

    async stop() {
      stopped = true;
      replicas?.stop();
      cancelTimer?.();
      await tracker.stop();
      await reconciler.idle();
    },

    reconcile: () => reconciler.reconcile(),

    async deploy(req) {
      checkManaged(req.namespace);
      const parsed = parseAppRequest(req.document, req);
      const weakenings = req.admit?.(parsed.app) ?? [];
      return write(parsed, req, 'deploy', undefined, weakenings);
    },

    async rollback(req) {
      checkManaged(req.namespace);
      const target = await store.getRevision(req.namespace, req.name, req.revision);
      if (!target) {
        if (!(await store.getApp(req.namespace, req.name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${appKey(req.namespace, req.name)}.`);
        throw new BerthError('BERTH_REVISION_NOT_FOUND', `${appKey(req.namespace, req.name)} has no revision ${req.revision}.`);
      }
      const parsed = parseAppRequest(target.spec, req);
      const weakenings = req.admit?.(parsed.app) ?? [];
      return write(parsed, req, 'rollback', req.revision, weakenings);
    },

    async delete(req) {
      checkManaged(req.namespace);
      const k = appKey(req.namespace, req.name);
      return mutex.run(k, async () => {
        alive();
        const app = await store.getApp(req.namespace, req.name);
        if (!app) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${k}.`);
        tracker.abort(req.namespace, req.name, 'deleted');
        opts.onDeleting?.(req.namespace, req.name);
        const refs = new Map<string, ObjectRef>();
        for (const r of await store.listRevisions(req.namespace, req.name)) for (const ref of r.inventory) refs.set(refKey(ref), ref);
        for (const o of await cluster.listAppObjects(req.namespace, req.name)) refs.set(refKey(refOf(o)), refOf(o));
        // Reverse renderer order: traffic (Ingress) goes first, the ServiceAccount last.
        const order = [...refs.values()].reverse();
        const deleted = [
          ...(await cluster.delete(order.filter((r) => r.kind !== 'Deployment'), { propagationPolicy: 'Background' })),
          ...(await cluster.delete(order.filter((r) => r.kind === 'Deployment'), { propagationPolicy: 'Foreground' })),
        ];
        await cluster.waitForPodsGone(req.namespace, podSelector(req.name), { timeoutMs: opts.deleteTimeoutMs ?? 120_000 });
        await audited(req, (tx) => tx.deleteApp(req.namespace, req.name), () => ({
          action: 'app.delete',
          revision: app.revision,
          diffSummary: `deleted ${deleted.length} object(s): ${deleted.map((r) => `${r.kind}/${r.name}`).join(', ') || 'none'}`,
        }));
        reconciler.forget(req.namespace, req.name);
        logger.info({ app: k, actor: req.actor, deleted: deleted.length }, 'app deleted');
        return deleted;
      });
    },

    async diff(namespace, name, document) {
      let app: ResolvedApp;
      if (document === undefined) {
        const row = await store.getApp(namespace, name);
        const stored = row ? resolveStored(row.spec) : undefined;
        if (!stored) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${appKey(namespace, name)}.`);
        app = stored;
      } else {
        app = parseAppRequest(document, { namespace, name }).app;
      }
      const current = await store.getApp(namespace, name);
      return applier.diff(app, current?.revision ?? 0);
    },

    driftOf: (namespace, name) => reconciler.driftOf(namespace, name),
    rolloutOf: (namespace, name, revision) => tracker.rolloutOf(namespace, name, revision),
  };
  return engine;
}
