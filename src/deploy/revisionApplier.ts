import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError, type Problem } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderApp, type RenderOptions } from '../manifests/renderApp.ts';
import type { AppStore, ObjectRef, RevisionRow } from '../store/types.ts';
import { withLiveReplicas } from './autoscaledReplicas.ts';
import { objectDiff, ownedFieldDiff, planChanges, REVISION_ANNOTATION } from './changePlan.ts';
import type { EngineLogger } from './engineLogger.ts';
import { resolveStored } from './parseAppRequest.ts';
import type { AppDiff, ObjectChange } from './types.ts';

export const appKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The objects berth applies for one revision: rendered, with the revision on the Deployment's own metadata. */
export function desiredObjects(app: ResolvedApp, revision: number | null, render: RenderOptions = {}): KubeObject[] {
  return renderApp(app, render).map((o) => {
    if (o.kind !== 'Deployment' || revision === null) return o;
    return { ...o, metadata: { ...o.metadata, annotations: { ...(o.metadata.annotations ?? {}), [REVISION_ANNOTATION]: String(revision) } } };
  });
}

export interface RevisionApplierDeps {
  readonly store: AppStore;
  readonly cluster: ClusterClient;
  readonly logger: EngineLogger;
  /** Throws when the engine stopped: checked between cluster calls so a stop leaves the revision to resume. */
  readonly alive: () => void;
  /** Server-wide rendering choices (config.berthImage as the health CronJob's image). */
  readonly render?: RenderOptions;
}

export interface AppliedRevision {
  readonly changes: ObjectChange[];
  readonly warnings: Problem[];
}

/** Applying App specs to the cluster: a stored revision for real, or a candidate as a plan, dry run or diff. */
export interface RevisionApplier {
  /** The objects of `app` as `revision`, rendered with the server's options (desiredObjects). */
  desired(app: ResolvedApp, revision: number | null): KubeObject[];
  /**
   * Applies a stored revision: namespace, objects in renderer order, prune, inventory. Shared by
   * deploy, rollback and resume-after-restart, so a resumed revision does exactly what the first try would.
   */
  apply(row: RevisionRow): Promise<AppliedRevision>;
  /**
   * What re-applying `row` (the app's newest revision) would change now: its rendered objects that it
   * applied against what is live, plus anything of the app's that it no longer renders.
   */
  replan(row: RevisionRow, app: ResolvedApp): Promise<ObjectChange[]>;
  /** Live objects of the app, found by its labels, by refKey. */
  liveState(namespace: string, name: string): Promise<Map<string, KubeObject>>;
  /**
   * What the server would store for each object of `desired` that differs from `live` only as berth
   * sees it (a server-side dry run; cached by the desired object and the live resourceVersion), by
   * refKey. Objects equal as berth sees them, or absent live, are not asked about.
   */
  serverAnswers(desired: readonly KubeObject[], live: ReadonlyMap<string, KubeObject | undefined>): Promise<Map<string, KubeObject>>;
  /** A server-side dry run of `app` as the revision after `currentRevision`. */
  dryRun(app: ResolvedApp, currentRevision: number): Promise<AppliedRevision>;
  /** Live vs rendered for `app` as the revision after `currentRevision`. */
  diff(app: ResolvedApp, currentRevision: number): Promise<AppDiff>;
}

export function createRevisionApplier(deps: RevisionApplierDeps): RevisionApplier {
  const { store, cluster, logger, alive } = deps;
  const render = deps.render ?? {};
  const objectsOf = (app: ResolvedApp, revision: number | null): KubeObject[] => desiredObjects(app, revision, render);

  /** Live objects of the app, found by its labels. */
  async function liveState(namespace: string, name: string): Promise<Map<string, KubeObject>> {
    const live = new Map<string, KubeObject>();
    for (const o of await cluster.listAppObjects(namespace, name)) live.set(refKey(refOf(o)), o);
    return live;
  }

  async function previousInventory(namespace: string, name: string, before: number): Promise<ObjectRef[]> {
    for (const r of await store.listRevisions(namespace, name)) if (r.revision < before && r.inventory.length > 0) return [...r.inventory];
    return [];
  }

  // Server answers by refKey, live resourceVersion and desired JSON: a drift pass every few minutes asks
  // the server again only when the object or the rendering changed. Bounded: oldest entries go first.
  const answers = new Map<string, KubeObject>();
  const ANSWER_CACHE_LIMIT = 4096;

  async function serverAnswers(desired: readonly KubeObject[], live: ReadonlyMap<string, KubeObject | undefined>): Promise<Map<string, KubeObject>> {
    const out = new Map<string, KubeObject>();
    const ask: Array<{ readonly key: string; readonly cacheKey: string; readonly obj: KubeObject }> = [];
    for (const obj of desired) {
      const key = refKey(refOf(obj));
      const current = live.get(key);
      if (!current || ownedFieldDiff(obj, current).length === 0) continue;
      const version = (current.metadata as { readonly resourceVersion?: unknown }).resourceVersion;
      // Without a resourceVersion (a fake cluster) there is nothing to key on: ask every time.
      const cacheKey = typeof version === 'string' ? `${key}\u0000${version}\u0000${JSON.stringify(obj)}` : '';
      const hit = cacheKey === '' ? undefined : answers.get(cacheKey);
      if (hit) out.set(key, hit);
      else ask.push({ key, cacheKey, obj });
    }
    if (ask.length === 0) return out;
    let result;
    try {
      result = await cluster.dryRunApply(ask.map((a) => a.obj));
    } catch (e) {
      // The real apply reports what the server refuses; until then, compare as berth sees it.
      logger.warn({ err: e }, 'dry run to compare live objects failed; comparing rendered fields instead');
      return out;
    }
    const byKey = new Map(result.objects.map((o) => [refKey(refOf(o)), o] as const));
    for (const a of ask) {
      const answer = byKey.get(a.key);
      if (!answer) continue;
      out.set(a.key, answer);
      if (a.cacheKey === '') continue;
      if (answers.size >= ANSWER_CACHE_LIMIT) answers.delete(answers.keys().next().value as string);
      answers.set(a.cacheKey, answer);
    }
    return out;
  }

  /** Live objects `desired` no longer renders. */
  const leftovers = (desired: readonly KubeObject[], live: ReadonlyMap<string, KubeObject>): ObjectRef[] => {
    const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
    return [...live].filter(([k]) => !desiredKeys.has(k)).map(([, o]) => refOf(o));
  };

  return {
    desired: objectsOf,
    liveState,
    serverAnswers,

    async apply(row) {
      const app = resolveStored(row.spec);
      if (!app) throw new BerthError('BERTH_INTERNAL', `revision ${row.revision} of ${appKey(row.namespace, row.name)} no longer validates`);
      alive();
      await cluster.ensureNamespace(row.namespace);
      alive();
      const live = await liveState(row.namespace, row.name);
      const desired = withLiveReplicas(objectsOf(app, row.revision), app, live);
      const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
      const inventory = await previousInventory(row.namespace, row.name, row.revision);
      const pruneRefs = new Map<string, ObjectRef>();
      for (const ref of inventory) if (!desiredKeys.has(refKey(ref))) pruneRefs.set(refKey(ref), ref);
      for (const ref of leftovers(desired, live)) pruneRefs.set(refKey(ref), ref);
      alive();
      const applied = await cluster.apply(desired);
      // The apply's answers are what the server stored: the plan compares them with what was live.
      const changes = planChanges(desired, live, [...pruneRefs.values()], new Map(applied.objects.map((o) => [refKey(refOf(o)), o] as const)));
      alive();
      const pruned = await cluster.delete([...pruneRefs.values()], { propagationPolicy: 'Background' });
      if (pruned.length > 0) logger.info({ app: appKey(row.namespace, row.name), revision: row.revision, pruned }, `pruned ${pruned.length} object(s)`);
      const skipped = new Set(applied.skipped.map(refKey));
      alive();
      await store.setApplied(row.namespace, row.name, row.revision, desired.map(refOf).filter((r) => !skipped.has(refKey(r))));
      return { changes, warnings: [...applied.warnings] };
    },

    async replan(row, app) {
      // Objects the cluster does not serve were skipped and are not in the inventory: they are no change.
      const inventory = new Set(row.inventory.map(refKey));
      const live = await liveState(row.namespace, row.name);
      const desired = withLiveReplicas(objectsOf(app, row.revision), app, live).filter((o) => inventory.has(refKey(refOf(o))));
      return planChanges(desired, live, leftovers(desired, live), await serverAnswers(desired, live));
    },

    async dryRun(app, currentRevision) {
      const rendered = objectsOf(app, currentRevision + 1);
      const exists = await cluster.namespaceExists(app.metadata.namespace);
      if (!exists) {
        // Namespaced objects cannot be dry-run into a namespace that does not exist yet; all would be created.
        const changes: ObjectChange[] = [{ ref: { apiVersion: 'v1', kind: 'Namespace', name: app.metadata.namespace }, action: 'create', changedPaths: [] }, ...planChanges(rendered, new Map(), [])];
        return { changes, warnings: [] };
      }
      const live = await liveState(app.metadata.namespace, app.metadata.name);
      const desired = withLiveReplicas(rendered, app, live);
      const checked = await cluster.dryRunApply(desired);
      const server = new Map(checked.objects.map((o) => [refKey(refOf(o)), o] as const));
      return { changes: planChanges(desired, live, leftovers(desired, live), server), warnings: [...checked.warnings] };
    },

    async diff(app, currentRevision) {
      const live = await liveState(app.metadata.namespace, app.metadata.name);
      const desired = withLiveReplicas(objectsOf(app, currentRevision + 1), app, live);
      const prune = leftovers(desired, live);
      const server = await serverAnswers(desired, live);
      const changes = planChanges(desired, live, prune, server);
      const text = [
        // Only changed objects: an unchanged one differs at most in the revision annotation, by design.
        ...desired.filter((_, i) => changes[i]?.action !== 'unchanged').map((o) => objectDiff(o, live.get(refKey(refOf(o))), refOf(o), server.get(refKey(refOf(o))))),
        ...prune.map((ref) => objectDiff(undefined, live.get(refKey(ref)), ref)),
      ].join('');
      return { changes, diff: text };
    },
  };
}
