import type { DiffResponse, DriftNote, ObjectChange } from '../api/types.ts';
import type { ActorKind, AuditLog } from '../audit/auditLog.ts';
import { podSelector, refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError, type Problem } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderApp } from '../manifests/renderApp.ts';
import type { BerthMetrics } from '../metrics/berthMetrics.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { AppStatus, StatusEngine } from '../status/types.ts';
import type { AppStore, AppStoreTx, NewRevision, ObjectRef, RevisionAction, RevisionOutcome, RevisionRow } from '../store/types.ts';
import { rolloutVerdict } from '../status/rolloutVerdict.ts';
import { objectDiff, ownedFieldDiff, planChanges, REVISION_ANNOTATION } from './changePlan.ts';
import { diffSummary } from './diffSummary.ts';
import { KeyedMutex } from './keyedMutex.ts';
import { parseAppRequest, resolveStored } from './parseAppRequest.ts';

export interface Clock {
  now(): Date;
}

/** The slice of a pino logger the engine writes to. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

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
  /**
   * The audit log: every new revision and every delete writes its audit row in the transaction that
   * stores the change, so a failed audit write fails (rolls back) the change. Absent: no audit rows
   * (tools and tests that run the engine without a server).
   */
  readonly audit?: AuditLog;
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
}

export interface DeleteRequest {
  readonly namespace: string;
  readonly name: string;
  readonly actor: string;
  readonly audit?: AuditContext;
}

export type FinishedOutcome = Extract<RevisionOutcome, 'succeeded' | 'failed' | 'superseded'>;

export interface RolloutResult {
  readonly outcome: FinishedOutcome;
  readonly reason: string | null;
  readonly message: string | null;
  readonly status: AppStatus | undefined;
}

export interface DeployResult {
  readonly namespace: string;
  readonly name: string;
  readonly revision: number | null;
  readonly dryRun: boolean;
  readonly changes: readonly ObjectChange[];
  readonly warnings: readonly Problem[];
  /** With wait: how the rollout ended. */
  readonly rollout?: RolloutResult;
}

export type DriftedObject = DriftNote['objects'][number];

export interface ReconcileReport {
  readonly resumed: number;
  readonly drifted: number;
  readonly errors: number;
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
  diff(namespace: string, name: string, document: unknown): Promise<DiffResponse>;
  /** One pass of resume + drift detection/repair over every app. */
  reconcile(): Promise<ReconcileReport>;
  /** Resolves when the first reconcile pass after start() is over. */
  readonly initialReconcile: Promise<ReconcileReport>;
  driftOf(namespace: string, name: string): DriftNote | undefined;
  /** Resolves when the revision's rollout tracking finished in this process (undefined when none runs). */
  rolloutOf(namespace: string, name: string, revision: number): Promise<RolloutResult> | undefined;
}

function rolloutFinished(s: AppStatus, revision: number): boolean {
  return rolloutVerdict(s, revision).done;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The objects berth applies for one revision: rendered, with the revision on the Deployment's own metadata. */
export function desiredObjects(app: ResolvedApp, revision: number | null): KubeObject[] {
  return renderApp(app).map((o) => {
    if (o.kind !== 'Deployment' || revision === null) return o;
    return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), [REVISION_ANNOTATION]: String(revision) } } };
  });
}

class StoppedError extends Error {
  constructor() {
    super('the deploy engine stopped');
  }
}

export function createDeployEngine(opts: DeployEngineOptions): DeployEngine {
  const { store, cluster, status, metrics, logger } = opts;
  const clock = opts.clock ?? { now: () => new Date() };
  const mutex = new KeyedMutex();
  const trackers = new Map<string, { revision: number; abort: AbortController; promise: Promise<RolloutResult> }>();
  const drift = new Map<string, DriftNote>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<ReconcileReport> | undefined;
  let resolveInitial!: (r: ReconcileReport) => void;
  const initialReconcile = new Promise<ReconcileReport>((r) => (resolveInitial = r));

  const alive = (): void => {
    if (stopped) throw new StoppedError();
  };

  const managed = opts.managedNamespaces === undefined ? undefined : new Set(opts.managedNamespaces);
  /** berth holds no Role outside its managed namespaces and does not watch them: refuse before anything is stored. */
  const checkManaged = (namespace: string): void => {
    if (managed === undefined || managed.has(namespace)) return;
    throw new BerthError('BERTH_NAMESPACE_NOT_MANAGED', `berth does not manage namespace "${namespace}"; it manages ${[...managed].sort().join(', ')}.`, {
      hint: `Use one of those namespaces, or add "${namespace}" to managedNamespaces (BERTH_MANAGED_NAMESPACES) and re-run "berth install --managed-namespaces" so berth gets its Role there.`,
    });
  };

  /**
   * Runs a store write and, with an audit log, its audit row in the same transaction: both commit or
   * neither does. `describe` fills the row from the write's result.
   */
  async function audited<T>(
    req: { readonly namespace: string; readonly name: string; readonly actor: string; readonly audit?: AuditContext },
    change: (tx: AppStoreTx) => Promise<T>,
    describe: (result: T) => { action: string; revision: number | null; diffSummary: string },
  ): Promise<T> {
    const { audit } = opts;
    // Without an audit log the store's own (retried) write is the whole change.
    if (audit === undefined) return change(store);
    const ctx = req.audit;
    const result = await audit.transaction(async (tx) => {
      const r = await change(tx);
      await audit.recordInTx(tx, {
        actor: req.actor,
        actorKind: ctx?.actorKind ?? 'system',
        sourceIp: ctx?.sourceIp ?? null,
        namespace: req.namespace,
        app: req.name,
        outcome: 'succeeded',
        statusCode: ctx?.statusCode ?? null,
        requestId: ctx?.requestId ?? null,
        ...describe(r),
      });
      return r;
    });
    ctx?.onRecorded?.();
    return result;
  }

  async function finish(row: Pick<RevisionRow, 'namespace' | 'name' | 'revision' | 'createdAt'>, result: Omit<RolloutResult, 'status'>): Promise<void> {
    await store.finishRevision(row.namespace, row.name, row.revision, { outcome: result.outcome, reason: result.reason, message: result.message });
    metrics.deploys.inc({ outcome: result.outcome, reason: result.reason ?? '' });
    metrics.rolloutDuration.observe({ outcome: result.outcome }, Math.max(0, (clock.now().getTime() - Date.parse(row.createdAt)) / 1000));
    logger.info({ app: key(row.namespace, row.name), revision: row.revision, outcome: result.outcome, reason: result.reason }, `revision ${row.revision} ${result.outcome}`);
  }

  /** Live objects of the app (by labels) plus inventory entries the labels no longer find. */
  async function liveState(namespace: string, name: string): Promise<Map<string, KubeObject>> {
    const live = new Map<string, KubeObject>();
    for (const o of await cluster.listAppObjects(namespace, name)) live.set(refKey(refOf(o)), o);
    return live;
  }

  async function previousInventory(namespace: string, name: string, before: number): Promise<ObjectRef[]> {
    for (const r of await store.listRevisions(namespace, name)) if (r.revision < before && r.inventory.length > 0) return [...r.inventory];
    return [];
  }

  /**
   * Applies a stored revision: namespace, objects in renderer order, prune, inventory. Shared by
   * deploy, rollback and resume-after-restart, so a resumed revision does exactly what the first try would.
   */
  async function applyRevision(row: RevisionRow): Promise<{ changes: ObjectChange[]; warnings: Problem[] }> {
    const app = resolveStored(row.spec);
    if (!app) throw new BerthError('BERTH_INTERNAL', `revision ${row.revision} of ${key(row.namespace, row.name)} no longer validates`);
    const desired = desiredObjects(app, row.revision);
    const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
    alive();
    await cluster.ensureNamespace(row.namespace);
    alive();
    const live = await liveState(row.namespace, row.name);
    const inventory = await previousInventory(row.namespace, row.name, row.revision);
    const pruneRefs = new Map<string, ObjectRef>();
    for (const ref of inventory) if (!desiredKeys.has(refKey(ref))) pruneRefs.set(refKey(ref), ref);
    for (const [k, o] of live) if (!desiredKeys.has(k)) pruneRefs.set(k, refOf(o));
    const changes = planChanges(desired, live, [...pruneRefs.values()]);
    alive();
    const applied = await cluster.apply(desired);
    alive();
    const pruned = await cluster.delete([...pruneRefs.values()], { propagationPolicy: 'Background' });
    if (pruned.length > 0) logger.info({ app: key(row.namespace, row.name), revision: row.revision, pruned }, `pruned ${pruned.length} object(s)`);
    const skipped = new Set(applied.skipped.map(refKey));
    alive();
    await store.setApplied(row.namespace, row.name, row.revision, desired.map(refOf).filter((r) => !skipped.has(refKey(r))));
    return { changes, warnings: [...applied.warnings] };
  }

  /** Follows the rollout of `row` through the status engine and records its outcome once. */
  function track(row: RevisionRow): Promise<RolloutResult> {
    const k = key(row.namespace, row.name);
    const existing = trackers.get(k);
    if (existing && existing.revision === row.revision) return existing.promise;
    existing?.abort.abort('superseded');
    const abort = new AbortController();
    const elapsed = clock.now().getTime() - Date.parse(row.createdAt);
    // A resumed revision gets what is left of its time, but at least a moment to look at the current status.
    const timeoutMs = Math.max(opts.rolloutTimeoutMs - (Number.isFinite(elapsed) ? elapsed : 0), Math.min(opts.rolloutTimeoutMs, 5000));
    const promise = (async (): Promise<RolloutResult> => {
      let result: RolloutResult;
      try {
        const s = await status.waitFor(row.namespace, row.name, (st) => rolloutFinished(st, row.revision), { timeoutMs, signal: abort.signal });
        if (s.revision !== null && s.revision > row.revision) result = { outcome: 'superseded', reason: null, message: `superseded by revision ${s.revision}`, status: s };
        else if (s.state === 'Available') result = { outcome: 'succeeded', reason: s.reason, message: s.message, status: s };
        else result = { outcome: 'failed', reason: s.reason, message: s.message, status: s };
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

  async function awaitRollout(promise: Promise<RolloutResult>, timeoutMs: number | undefined): Promise<RolloutResult> {
    const limit = timeoutMs ?? opts.rolloutTimeoutMs;
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new BerthError('BERTH_ROLLOUT_TIMEOUT', `The rollout did not finish within ${Math.round(limit / 1000)}s; it goes on in the cluster.`)), limit);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(t);
    }
  }

  async function write(
    parsed: { app: ResolvedApp; document: Record<string, unknown>; warnings: readonly Problem[] },
    req: { namespace: string; name: string; actor: string; expectedRevision?: number; wait?: boolean; timeoutMs?: number; dryRun?: boolean; audit?: AuditContext },
    action: RevisionAction,
    rollbackOf?: number,
  ): Promise<DeployResult> {
    const k = key(req.namespace, req.name);
    const outcome = await mutex.run(k, async () => {
      alive();
      const current = await store.getApp(req.namespace, req.name);
      if (req.dryRun) {
        if (req.expectedRevision !== undefined && (current?.revision ?? 0) !== req.expectedRevision) {
          throw new BerthError('BERTH_REVISION_CONFLICT', `${k} is at revision ${current?.revision ?? 0}, not ${req.expectedRevision}.`);
        }
        return { revision: null, ...(await dryRun(parsed.app, current?.revision ?? 0)) };
      }
      const previous = current ? resolveStored(current.spec) : undefined;
      const summary = diffSummary(previous, parsed.app);
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
      const row = await audited(req, (tx) => tx.createRevision(input), (r) => ({
        action: action === 'rollback' ? 'app.rollback' : 'app.deploy',
        revision: r.revision,
        // The diff summary names fields and env keys, never env values (diffSummary.ts).
        diffSummary: r.diffSummary,
      }));
      logger.info({ app: k, revision: row.revision, actor: req.actor, action }, `revision ${row.revision} accepted`);
      try {
        const applied = await applyRevision(row);
        return { revision: row.revision, row, ...applied };
      } catch (e) {
        // An unreachable cluster (or a stop) leaves the revision accepted: reconciliation applies it later.
        if (e instanceof StoppedError || (e instanceof BerthError && e.code === 'BERTH_CLUSTER_UNREACHABLE')) throw e;
        const err = e instanceof BerthError ? e : new BerthError('BERTH_INTERNAL', e instanceof Error ? e.message : String(e), { cause: e });
        await finish(row, { outcome: 'failed', reason: err.code === 'BERTH_CLUSTER_REJECTED' ? 'ClusterRejected' : err.code === 'BERTH_CLUSTER_FORBIDDEN' ? 'ClusterForbidden' : 'ApplyFailed', message: err.message });
        throw err;
      }
    });
    const base = { namespace: req.namespace, name: req.name, revision: outcome.revision, dryRun: req.dryRun === true, changes: outcome.changes, warnings: [...parsed.warnings, ...outcome.warnings] };
    if (!('row' in outcome) || !outcome.row) return base;
    const rollout = track(outcome.row);
    if (!req.wait) return base;
    return { ...base, rollout: await awaitRollout(rollout, req.timeoutMs) };
  }

  async function dryRun(app: ResolvedApp, currentRevision: number): Promise<{ changes: ObjectChange[]; warnings: Problem[] }> {
    const desired = desiredObjects(app, currentRevision + 1);
    const exists = await cluster.namespaceExists(app.metadata.namespace);
    if (!exists) {
      // Namespaced objects cannot be dry-run into a namespace that does not exist yet; all would be created.
      const changes: ObjectChange[] = [{ ref: { apiVersion: 'v1', kind: 'Namespace', name: app.metadata.namespace }, action: 'create', changedPaths: [] }, ...planChanges(desired, new Map(), [])];
      return { changes, warnings: [] };
    }
    const live = await liveState(app.metadata.namespace, app.metadata.name);
    const checked = await cluster.dryRunApply(desired);
    const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
    const prune = [...live].filter(([k]) => !desiredKeys.has(k)).map(([, o]) => refOf(o));
    return { changes: planChanges(desired, live, prune), warnings: [...checked.warnings] };
  }

  async function resume(row: RevisionRow): Promise<void> {
    const k = key(row.namespace, row.name);
    await mutex.run(k, async () => {
      alive();
      const app = await store.getApp(row.namespace, row.name);
      if (!app) return;
      if (app.revision !== row.revision) {
        await finish(row, { outcome: 'superseded', reason: null, message: `superseded by revision ${app.revision}` });
        return;
      }
      if (row.outcome === 'accepted') {
        logger.info({ app: k, revision: row.revision }, `resuming revision ${row.revision}: applying`);
        try {
          await applyRevision(row);
        } catch (e) {
          if (e instanceof StoppedError || (e instanceof BerthError && e.code === 'BERTH_CLUSTER_UNREACHABLE')) throw e;
          await finish(row, { outcome: 'failed', reason: 'ApplyFailed', message: e instanceof Error ? e.message : String(e) });
          return;
        }
      }
      if (!trackers.has(k)) void track(row);
    });
  }

  async function repairDrift(namespace: string, name: string): Promise<boolean> {
    const k = key(namespace, name);
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
      const desired = desiredObjects(app, row.revision).filter((o) => inventory.has(refKey(refOf(o))));
      const live = await liveState(namespace, name);
      const drifted: DriftedObject[] = [];
      for (const o of desired) {
        const ref = refOf(o);
        const current = live.get(refKey(ref)) ?? (await cluster.get(ref));
        if (!current) drifted.push({ ref, problem: 'missing', changedPaths: [] });
        else {
          const paths = ownedFieldDiff(o, current);
          if (paths.length > 0) drifted.push({ ref, problem: 'changed', changedPaths: paths });
        }
      }
      if (drifted.length === 0) return false;
      logger.warn({ app: k, revision: row.revision, drifted: drifted.map((d) => `${d.ref.kind}/${d.ref.name} ${d.problem}`) }, 'drift detected; re-applying');
      let error: string | null = null;
      try {
        await cluster.apply(desired);
        for (const d of drifted) metrics.driftRepairs.inc({ kind: d.ref.kind });
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
        logger.error({ app: k, err: error }, 'drift repair failed');
      }
      drift.set(k, { detectedAt: clock.now().toISOString(), revision: row.revision, objects: drifted, repaired: error === null, error });
      return true;
    });
  }

  async function reconcileOnce(): Promise<ReconcileReport> {
    let resumed = 0;
    let drifted = 0;
    let errors = 0;
    const unfinished = await store.unfinishedRevisions();
    const newest = new Map<string, RevisionRow>();
    for (const r of unfinished) newest.set(key(r.namespace, r.name), r);
    for (const r of unfinished) {
      if (stopped) break;
      const k = key(r.namespace, r.name);
      if (newest.get(k) !== r) {
        await finish(r, { outcome: 'superseded', reason: null, message: 'superseded by a newer revision' });
        continue;
      }
      if (trackers.get(k)?.revision === r.revision) continue;
      try {
        await resume(r);
        resumed++;
      } catch (e) {
        if (e instanceof StoppedError) break;
        errors++;
        logger.warn({ app: k, revision: r.revision, err: e instanceof Error ? e.message : String(e) }, 'could not resume revision; will retry');
      }
    }
    for (const a of await store.listApps()) {
      if (stopped) break;
      try {
        if (await repairDrift(a.namespace, a.name)) drifted++;
      } catch (e) {
        if (e instanceof StoppedError) break;
        errors++;
        logger.warn({ app: key(a.namespace, a.name), err: e instanceof Error ? e.message : String(e) }, 'drift check failed; will retry');
      }
    }
    return { resumed, drifted, errors };
  }

  const engine: DeployEngine = {
    initialReconcile,

    start() {
      stopped = false;
      void engine.reconcile().then(resolveInitial, (e: unknown) => {
        logger.error({ err: e instanceof Error ? e.message : String(e) }, 'initial reconciliation failed');
        resolveInitial({ resumed: 0, drifted: 0, errors: 1 });
      });
      if (opts.reconcileIntervalMs > 0) {
        timer = setInterval(() => {
          void engine.reconcile().catch((e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'reconciliation failed'));
        }, opts.reconcileIntervalMs);
        timer.unref();
      }
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const t of trackers.values()) t.abort.abort('stopped');
      await Promise.allSettled([...trackers.values()].map((t) => t.promise));
      await reconciling?.catch(() => undefined);
    },

    async reconcile() {
      // Overlapping passes (timer + manual) share one run.
      reconciling ??= reconcileOnce().finally(() => {
        reconciling = undefined;
      });
      return reconciling;
    },

    async deploy(req) {
      checkManaged(req.namespace);
      const parsed = parseAppRequest(req.document, req);
      return write(parsed, req, 'deploy');
    },

    async rollback(req) {
      checkManaged(req.namespace);
      const target = await store.getRevision(req.namespace, req.name, req.revision);
      if (!target) {
        if (!(await store.getApp(req.namespace, req.name))) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${key(req.namespace, req.name)}.`);
        throw new BerthError('BERTH_REVISION_NOT_FOUND', `${key(req.namespace, req.name)} has no revision ${req.revision}.`);
      }
      const parsed = parseAppRequest(target.spec, req);
      return write(parsed, req, 'rollback', req.revision);
    },

    async delete(req) {
      checkManaged(req.namespace);
      const k = key(req.namespace, req.name);
      return mutex.run(k, async () => {
        alive();
        const app = await store.getApp(req.namespace, req.name);
        if (!app) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${k}.`);
        trackers.get(k)?.abort.abort('deleted');
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
        drift.delete(k);
        logger.info({ app: k, actor: req.actor, deleted: deleted.length }, 'app deleted');
        return deleted;
      });
    },

    async diff(namespace, name, document) {
      let app: ResolvedApp;
      if (document === undefined) {
        const row = await store.getApp(namespace, name);
        const stored = row ? resolveStored(row.spec) : undefined;
        if (!stored) throw new BerthError('BERTH_APP_NOT_FOUND', `No app ${key(namespace, name)}.`);
        app = stored;
      } else {
        app = parseAppRequest(document, { namespace, name }).app;
      }
      const current = await store.getApp(namespace, name);
      const desired = desiredObjects(app, (current?.revision ?? 0) + 1);
      const live = await liveState(namespace, name);
      const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
      const prune = [...live].filter(([k]) => !desiredKeys.has(k)).map(([, o]) => refOf(o));
      const changes = planChanges(desired, live, prune);
      const text = [
        ...desired.map((o) => objectDiff(o, live.get(refKey(refOf(o))), refOf(o))),
        ...prune.map((ref) => objectDiff(undefined, live.get(refKey(ref)), ref)),
      ].join('');
      return { changes, diff: text };
    },

    driftOf: (namespace, name) => drift.get(key(namespace, name)),

    rolloutOf(namespace, name, revision) {
      const t = trackers.get(key(namespace, name));
      return t && t.revision === revision ? t.promise : undefined;
    },
  };
  return engine;
}

