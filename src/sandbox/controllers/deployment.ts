import type { KObject } from '../types.ts';
import { rfc3339 } from '../client/clock.ts';
import type { ControllerContext } from '../client/controllerContext.ts';
import { QueueController } from '../client/controllerContext.ts';
import { computeHash } from './hash.ts';
import type { SharedInformer } from '../client/sharedInformer.ts';
import type { Condition, LabelSelector } from '../client/objects.ts';
import {
  asArray,
  asRecord,
  controllerRef,
  deepEqual,
  getCondition,
  isApiError,
  isTerminal,
  num,
  objKey,
  ownerRefTo,
  removeCondition,
  setCondition,
  spec,
  splitKey,
  status,
} from '../client/objects.ts';
import { RES } from '../client/resources.ts';
import { created, DESIRED_REPLICAS, findNewRS, HASH_LABEL, MAX_REPLICAS, replicas, REVISION, revisionOf, rolloutParams, statusNum, templateIgnoringHash } from './deploymentFields.ts';
import type { DeploymentStatus } from './deploymentStatus.ts';
import { calculateStatus, isComplete, rolloutStatus } from './deploymentStatus.ts';
import type { RSView } from './rollout.ts';
import { maxSurge, newRSNewReplicas, planOldReplicaSetScaleDown, proportionalScale } from './rollout.ts';

// Annotations that describe the Deployment object itself and must not be copied onto ReplicaSets.
const SKIP_COPY = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', DESIRED_REPLICAS, MAX_REPLICAS, 'kubernetes.io/change-cause']);

export class DeploymentController extends QueueController {
  readonly name = 'deployment-controller';
  private readonly dInf: SharedInformer;
  private readonly rsInf: SharedInformer;
  private readonly podInf: SharedInformer;

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.dInf = ctx.informers.for(RES.deployments);
    this.rsInf = ctx.informers.for(RES.replicasets);
    this.podInf = ctx.informers.for(RES.pods);
    this.dInf.addHandler({
      add: (o) => this.queue.add(objKey(o)),
      update: (_o, n) => this.queue.add(objKey(n)),
      delete: (o) => this.queue.add(objKey(o)),
    });
    const rsOwner = (rs: KObject): void => {
      const ref = controllerRef(rs);
      if (ref?.kind === 'Deployment') this.queue.add(`${rs.metadata.namespace}/${ref.name}`);
    };
    this.rsInf.addHandler({ add: rsOwner, update: (o, n) => (rsOwner(o), rsOwner(n)), delete: rsOwner });
    // Recreate waits for old pods to be gone, so pod deletions must wake the Deployment.
    this.podInf.addHandler({
      delete: (p) => {
        const ref = controllerRef(p);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = this.rsInf.get(p.metadata.namespace, ref.name);
        if (rs) rsOwner(rs);
      },
    });
  }

  protected informersUsed(): SharedInformer[] {
    return [this.dInf, this.rsInf, this.podInf];
  }

  protected initialKeys(): string[] {
    return this.dInf.list().map(objKey);
  }

  private recorder() {
    return this.ctx.recorder('deployment-controller');
  }

  private now(): number {
    return this.ctx.clock.now();
  }

  protected async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const { namespace, name } = splitKey(key);
    const cached = this.dInf.get(namespace, name);
    if (!cached) return undefined;
    let d = structuredClone(cached);
    const rsList = this.rsInf.listByOwner(d.metadata.uid).map((rs) => structuredClone(rs));

    if (d.metadata.deletionTimestamp) {
      await this.syncStatusOnly(d, rsList);
      return undefined;
    }
    const sel = spec(d)['selector'] as LabelSelector | undefined;
    if (!sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)) {
      this.recorder().event(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      return undefined;
    }

    d = await this.checkPausedConditions(d);
    if (spec(d)['paused'] === true) {
      await this.syncScaleOnly(d, rsList);
      return undefined;
    }
    if (this.isScalingEvent(d, rsList)) {
      await this.syncScaleOnly(d, rsList);
      return undefined;
    }
    const p = rolloutParams(d);
    return p.rolling ? this.rolloutRolling(d, rsList) : this.rolloutRecreate(d, rsList);
  }

  // --- replica set bookkeeping -------------------------------------------------------------------

  private async getAllReplicaSetsAndSyncRevision(d: KObject, rsList: KObject[], create: boolean): Promise<{ d: KObject; newRS: KObject | undefined; oldRSs: KObject[] }> {
    const existing = findNewRS(d, rsList);
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const maxOld = oldRSs.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
    const newRevision = String(maxOld + 1);
    const p = rolloutParams(d);
    const desired = String(replicas(d));
    const maxReps = String(replicas(d) + maxSurge(p));

    if (existing) {
      let rs = existing;
      const ann = { ...(rs.metadata.annotations ?? {}) };
      let changed = false;
      if (revisionOf(rs) < Number(newRevision)) {
        ann[REVISION] = newRevision;
        changed = true;
      }
      if (ann[DESIRED_REPLICAS] !== desired || ann[MAX_REPLICAS] !== maxReps) {
        ann[DESIRED_REPLICAS] = desired;
        ann[MAX_REPLICAS] = maxReps;
        changed = true;
      }
      const minReady = num(spec(d)['minReadySeconds'], 0);
      if (changed || num(spec(rs)['minReadySeconds'], 0) !== minReady) {
        rs = await this.ctx.client.update(RES.replicasets, { ...rs, metadata: { ...rs.metadata, annotations: ann }, spec: { ...spec(rs), minReadySeconds: minReady } });
        rsList = rsList.map((x) => (x.metadata.uid === rs.metadata.uid ? rs : x));
      }
      d = await this.setDeploymentRevision(d, ann[REVISION] ?? newRevision);
      if (!getCondition(status(d)['conditions'], 'Progressing')) {
        const now = rfc3339(this.now());
        const conds = setCondition(asArray(status(d)['conditions']) as Condition[], {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: now,
          lastTransitionTime: now,
          reason: 'FoundNewReplicaSet',
          message: `Found new replica set "${rs.metadata.name}"`,
        });
        d = await this.ctx.client.updateStatus(RES.deployments, { ...d, status: { ...status(d), conditions: conds } });
      }
      return { d, newRS: rs, oldRSs };
    }
    if (!create) return { d, newRS: undefined, oldRSs };

    const collisionCount = status(d)['collisionCount'] as number | undefined;
    const template = structuredClone(asRecord(spec(d)['template']));
    const hash = computeHash(template, collisionCount);
    const tmeta = asRecord(template['metadata']);
    tmeta['labels'] = { ...asRecord(tmeta['labels']), [HASH_LABEL]: hash };
    template['metadata'] = tmeta;
    const sel = structuredClone(asRecord(spec(d)['selector'])) as LabelSelector;
    sel.matchLabels = { ...(sel.matchLabels ?? {}), [HASH_LABEL]: hash };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY.has(k)) annotations[k] = v;
    annotations[REVISION] = newRevision;
    annotations[DESIRED_REPLICAS] = desired;
    annotations[MAX_REPLICAS] = maxReps;
    const allSpec = oldRSs.reduce((s, rs) => s + replicas(rs), 0);
    const newReplicas = newRSNewReplicas(p, allSpec, 0);
    const rsName = `${d.metadata.name}-${hash}`;
    const obj: KObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace: d.metadata.namespace,
        labels: { ...(asRecord(tmeta['labels']) as Record<string, string>) },
        annotations,
        ownerReferences: [ownerRefTo(d)],
      },
      spec: { replicas: newReplicas, minReadySeconds: num(spec(d)['minReadySeconds'], 0), selector: sel, template },
    };
    let rs: KObject;
    try {
      rs = await this.ctx.client.create(RES.replicasets, obj, { fieldManager: 'kube-controller-manager' });
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      const other = await this.ctx.client.get(RES.replicasets, d.metadata.namespace, rsName);
      if (other && controllerRef(other)?.uid === d.metadata.uid && deepEqual(templateIgnoringHash(spec(other)['template']), templateIgnoringHash(spec(d)['template']))) {
        return { d, newRS: other, oldRSs };
      }
      // A hash collision with a foreign ReplicaSet: bump collisionCount so the next hash differs.
      await this.ctx.client.updateStatus(RES.deployments, { ...d, status: { ...status(d), collisionCount: (collisionCount ?? 0) + 1 } });
      throw err;
    }
    if (newReplicas > 0) this.recorder().event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata.name} from 0 to ${newReplicas}`);
    const now = rfc3339(this.now());
    const conds = setCondition(removeCondition(asArray(status(d)['conditions']) as Condition[], 'Progressing'), {
      type: 'Progressing',
      status: 'True',
      lastUpdateTime: now,
      lastTransitionTime: now,
      reason: 'NewReplicaSetCreated',
      message: `Created new replica set "${rs.metadata.name}"`,
    });
    const prevProg = getCondition(status(d)['conditions'], 'Progressing');
    if (prevProg?.status === 'True' && prevProg.lastTransitionTime) {
      const c = conds.find((x) => x.type === 'Progressing');
      if (c) c.lastTransitionTime = prevProg.lastTransitionTime;
    }
    d = await this.ctx.client.updateStatus(RES.deployments, { ...d, status: { ...status(d), conditions: conds } });
    d = await this.setDeploymentRevision(d, newRevision);
    return { d, newRS: rs, oldRSs };
  }

  private async setDeploymentRevision(d: KObject, rev: string): Promise<KObject> {
    if (d.metadata.annotations?.[REVISION] === rev) return d;
    return this.ctx.client.patch(RES.deployments, d.metadata.namespace, d.metadata.name ?? '', { metadata: { annotations: { [REVISION]: rev } } }, 'merge', {
      fieldManager: 'kube-controller-manager',
    });
  }

  /** Sets spec.replicas and the desired/max annotations; records the ScalingReplicaSet event. */
  private async scaleRS(d: KObject, rs: KObject, to: number): Promise<KObject> {
    const from = replicas(rs);
    const desired = String(replicas(d));
    const maxReps = String(replicas(d) + maxSurge(rolloutParams(d)));
    const ann = rs.metadata.annotations ?? {};
    if (from === to && ann[DESIRED_REPLICAS] === desired && ann[MAX_REPLICAS] === maxReps) return rs;
    const updated = await this.ctx.client.update(RES.replicasets, {
      ...rs,
      metadata: { ...rs.metadata, annotations: { ...ann, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: maxReps } },
      spec: { ...spec(rs), replicas: to },
    });
    if (from !== to) {
      const dir = to > from ? 'up' : 'down';
      this.recorder().event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${dir} replica set ${rs.metadata.name} from ${from} to ${to}`);
    }
    return updated;
  }

  // --- strategies ----------------------------------------------------------------------------------

  private async rolloutRolling(d0: KObject, rsList: KObject[]): Promise<{ requeueAfterMs?: number } | void> {
    const { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, true);
    if (!newRS) return undefined;
    const p = rolloutParams(d);
    // reconcileNewReplicaSet
    const want = replicas(d);
    const cur = replicas(newRS);
    if (cur !== want) {
      const all = [...oldRSs, newRS].reduce((s, rs) => s + replicas(rs), 0);
      const target = cur > want ? want : newRSNewReplicas(p, all, cur);
      if (target !== cur) {
        const updated = await this.scaleRS(d, newRS, target);
        return this.syncRolloutStatus(d, [...oldRSs, updated], updated);
      }
    }
    // reconcileOldReplicaSets
    const view = (rs: KObject): RSView => ({ name: rs.metadata.name ?? '', replicas: replicas(rs), available: statusNum(rs, 'availableReplicas'), created: created(rs) });
    const activeOld = oldRSs.filter((rs) => replicas(rs) > 0);
    const plan = planOldReplicaSetScaleDown(p, activeOld.map(view), view(newRS));
    if (plan.size > 0) {
      const updatedOld: KObject[] = [];
      for (const rs of oldRSs) {
        const to = plan.get(rs.metadata.name ?? '');
        updatedOld.push(to === undefined ? rs : await this.scaleRS(d, rs, to));
      }
      return this.syncRolloutStatus(d, [...updatedOld, newRS], newRS);
    }
    const { requeue, st } = await this.syncRolloutStatusFull(d, [...oldRSs, newRS], newRS);
    if (isComplete(d, st)) await this.cleanup(d, oldRSs);
    return requeue;
  }

  private async rolloutRecreate(d0: KObject, rsList: KObject[]): Promise<{ requeueAfterMs?: number } | void> {
    let { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    const activeOld = oldRSs.filter((rs) => replicas(rs) > 0);
    if (activeOld.length > 0) {
      const updated: KObject[] = [];
      for (const rs of oldRSs) updated.push(replicas(rs) > 0 ? await this.scaleRS(d, rs, 0) : rs);
      return this.syncRolloutStatus(d, newRS ? [...updated, newRS] : updated, newRS);
    }
    const oldPodsRunning =
      oldRSs.some((rs) => statusNum(rs, 'replicas') > 0) ||
      oldRSs.some((rs) => this.podInf.listByOwner(rs.metadata.uid).some((pod) => !isTerminal(pod)));
    if (oldPodsRunning) return this.syncRolloutStatus(d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    if (!newRS) ({ d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
    if (!newRS) return undefined;
    if (replicas(newRS) !== replicas(d)) newRS = await this.scaleRS(d, newRS, replicas(d));
    const { requeue, st } = await this.syncRolloutStatusFull(d, [...oldRSs, newRS], newRS);
    if (isComplete(d, st)) await this.cleanup(d, oldRSs);
    return requeue;
  }

  /** Scaling without a template change (and everything while paused): keeps the rollout's proportions. */
  private async syncScaleOnly(d0: KObject, rsList: KObject[]): Promise<void> {
    const { d, newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d0, rsList, false);
    const all = newRS ? [newRS, ...oldRSs] : oldRSs;
    const active = all.filter((rs) => replicas(rs) > 0);
    const want = replicas(d);
    let result = all;
    const replace = (u: KObject): void => {
      result = result.map((x) => (x.metadata.uid === u.metadata.uid ? u : x));
    };
    let target: KObject | undefined;
    if (active.length === 1) target = active[0];
    else if (active.length === 0) target = newRS ?? [...oldRSs].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    if (target) {
      replace(await this.scaleRS(d, target, want));
    } else if (newRS && replicas(newRS) === want && statusNum(newRS, 'availableReplicas') === want) {
      for (const rs of oldRSs) if (replicas(rs) > 0) replace(await this.scaleRS(d, rs, 0));
    } else if (rolloutParams(d).rolling) {
      const allowed = want > 0 ? want + maxSurge(rolloutParams(d)) : 0;
      const current = active.reduce((s, rs) => s + replicas(rs), 0);
      const plan = proportionalScale(
        active.map((rs) => ({ name: rs.metadata.name ?? '', replicas: replicas(rs) })),
        allowed - current,
      );
      for (const rs of active) {
        const to = plan.get(rs.metadata.name ?? '');
        replace(await this.scaleRS(d, rs, to ?? replicas(rs)));
      }
    }
    if (spec(d)['paused'] === true) await this.cleanup(d, oldRSs);
    await this.syncStatusOnly(d, result, newRS ? result.find((x) => x.metadata.uid === newRS.metadata.uid) : undefined);
  }

  private isScalingEvent(d: KObject, rsList: KObject[]): boolean {
    const newRS = findNewRS(d, rsList);
    if (!newRS) return false;
    const want = String(replicas(d));
    return rsList.some((rs) => replicas(rs) > 0 && rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && rs.metadata.annotations[DESIRED_REPLICAS] !== want);
  }

  private async checkPausedConditions(d: KObject): Promise<KObject> {
    const conds = asArray(status(d)['conditions']) as Condition[];
    const prog = getCondition(conds, 'Progressing');
    const paused = spec(d)['paused'] === true;
    let next: Condition | undefined;
    const now = rfc3339(this.now());
    if (paused && prog?.reason !== 'DeploymentPaused') {
      next = { type: 'Progressing', status: 'Unknown', lastUpdateTime: now, lastTransitionTime: now, reason: 'DeploymentPaused', message: 'Deployment is paused' };
    } else if (!paused && prog?.reason === 'DeploymentPaused') {
      next = { type: 'Progressing', status: 'Unknown', lastUpdateTime: now, lastTransitionTime: now, reason: 'DeploymentResumed', message: 'Deployment is resumed' };
    }
    if (!next) return d;
    return this.ctx.client.updateStatus(RES.deployments, { ...d, status: { ...status(d), conditions: setCondition(conds, next) } });
  }

  /** cleanupDeployment: keeps revisionHistoryLimit scaled-down old ReplicaSets, deleting the oldest. */
  private async cleanup(d: KObject, oldRSs: KObject[]): Promise<void> {
    const limit = num(spec(d)['revisionHistoryLimit'], 10);
    const candidates = oldRSs.filter((rs) => replicas(rs) === 0 && statusNum(rs, 'replicas') === 0 && !rs.metadata.deletionTimestamp);
    const excess = candidates.length - limit;
    if (excess <= 0) return;
    const sorted = [...candidates].sort((a, b) => revisionOf(a) - revisionOf(b) || created(a) - created(b));
    for (const rs of sorted.slice(0, excess)) {
      try {
        await this.ctx.client.delete(RES.replicasets, rs.metadata.namespace, rs.metadata.name ?? '');
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
  }

  // --- status --------------------------------------------------------------------------------------

  private async syncStatusOnly(d: KObject, all: KObject[], newRS?: KObject): Promise<void> {
    const nrs = newRS ?? findNewRS(d, all);
    const st = calculateStatus(d, all, nrs, this.now());
    if (!deepEqual(st, d['status'])) await this.ctx.client.updateStatus(RES.deployments, { ...d, status: st });
  }

  private async syncRolloutStatus(d: KObject, all: KObject[], newRS: KObject | undefined): Promise<{ requeueAfterMs?: number } | undefined> {
    return (await this.syncRolloutStatusFull(d, all, newRS)).requeue;
  }

  /** syncRolloutStatus: the Progressing condition, progress deadline, ReplicaFailure. */
  private async syncRolloutStatusFull(d: KObject, all: KObject[], newRS: KObject | undefined): Promise<{ requeue: { requeueAfterMs: number } | undefined; st: DeploymentStatus }> {
    const { st, requeueAfterMs } = rolloutStatus(d, all, newRS, this.ctx.clock, this.ctx.timeScale);
    if (!deepEqual(st, d['status'])) await this.ctx.client.updateStatus(RES.deployments, { ...d, status: st });
    return { requeue: requeueAfterMs === undefined ? undefined : { requeueAfterMs }, st };
  }
}
