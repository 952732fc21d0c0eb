import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { refKey, refOf, type ClusterClient } from '../cluster/clusterClient.ts';
import { BerthError, type Problem } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { renderApp } from '../manifests/renderApp.ts';
import type { AppStore, ObjectRef, RevisionRow } from '../store/types.ts';
import { objectDiff, planChanges, REVISION_ANNOTATION } from './changePlan.ts';
import type { EngineLogger } from './engineLogger.ts';
import { resolveStored } from './parseAppRequest.ts';
import type { AppDiff, ObjectChange } from './types.ts';

export const appKey = (namespace: string, name: string): string => `${namespace}/${name}`;

/** The objects berth applies for one revision: rendered, with the revision on the Deployment's own metadata. */
export function desiredObjects(app: ResolvedApp, revision: number | null): KubeObject[] {
  return renderApp(app).map((o) => {
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
}

export interface AppliedRevision {
  readonly changes: ObjectChange[];
  readonly warnings: Problem[];
}

/** Applying App specs to the cluster: a stored revision for real, or a candidate as a plan, dry run or diff. */
export interface RevisionApplier {
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
  /** A server-side dry run of `app` as the revision after `currentRevision`. */
  dryRun(app: ResolvedApp, currentRevision: number): Promise<AppliedRevision>;
  /** Live vs rendered for `app` as the revision after `currentRevision`. */
  diff(app: ResolvedApp, currentRevision: number): Promise<AppDiff>;
}

export function createRevisionApplier(deps: RevisionApplierDeps): RevisionApplier {
  const { store, cluster, logger, alive } = deps;

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

  /** Live objects `desired` no longer renders. */
  const leftovers = (desired: readonly KubeObject[], live: ReadonlyMap<string, KubeObject>): ObjectRef[] => {
    const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
    return [...live].filter(([k]) => !desiredKeys.has(k)).map(([, o]) => refOf(o));
  };

  return {
    liveState,

    async apply(row) {
      const app = resolveStored(row.spec);
      if (!app) throw new BerthError('BERTH_INTERNAL', `revision ${row.revision} of ${appKey(row.namespace, row.name)} no longer validates`);
      const desired = desiredObjects(app, row.revision);
      const desiredKeys = new Set(desired.map((o) => refKey(refOf(o))));
      alive();
      await cluster.ensureNamespace(row.namespace);
      alive();
      const live = await liveState(row.namespace, row.name);
      const inventory = await previousInventory(row.namespace, row.name, row.revision);
      const pruneRefs = new Map<string, ObjectRef>();
      for (const ref of inventory) if (!desiredKeys.has(refKey(ref))) pruneRefs.set(refKey(ref), ref);
      for (const ref of leftovers(desired, live)) pruneRefs.set(refKey(ref), ref);
      const changes = planChanges(desired, live, [...pruneRefs.values()]);
      alive();
      const applied = await cluster.apply(desired);
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
      const desired = desiredObjects(app, row.revision).filter((o) => inventory.has(refKey(refOf(o))));
      const live = await liveState(row.namespace, row.name);
      return planChanges(desired, live, leftovers(desired, live));
    },

    async dryRun(app, currentRevision) {
      const desired = desiredObjects(app, currentRevision + 1);
      const exists = await cluster.namespaceExists(app.metadata.namespace);
      if (!exists) {
        // Namespaced objects cannot be dry-run into a namespace that does not exist yet; all would be created.
        const changes: ObjectChange[] = [{ ref: { apiVersion: 'v1', kind: 'Namespace', name: app.metadata.namespace }, action: 'create', changedPaths: [] }, ...planChanges(desired, new Map(), [])];
        return { changes, warnings: [] };
      }
      const live = await liveState(app.metadata.namespace, app.metadata.name);
      const checked = await cluster.dryRunApply(desired);
      return { changes: planChanges(desired, live, leftovers(desired, live)), warnings: [...checked.warnings] };
    },

    async diff(app, currentRevision) {
      const desired = desiredObjects(app, currentRevision + 1);
      const live = await liveState(app.metadata.namespace, app.metadata.name);
      const prune = leftovers(desired, live);
      const changes = planChanges(desired, live, prune);
      const text = [
        ...desired.map((o) => objectDiff(o, live.get(refKey(refOf(o))), refOf(o))),
        ...prune.map((ref) => objectDiff(undefined, live.get(refKey(ref)), ref)),
      ].join('');
      return { changes, diff: text };
    },
  };
}
