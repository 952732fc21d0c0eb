import type { KObject } from '../types.ts';
import { parseTime, rfc3339 } from '../client/clock.ts';
import type { Clock } from '../client/clock.ts';
import type { Condition } from '../client/objects.ts';
import { asArray, getCondition, num, removeCondition, setCondition, spec, status } from '../client/objects.ts';
import { replicas, rolloutParams, statusNum } from './deploymentFields.ts';
import { maxUnavailable } from './rollout.ts';

export type DeploymentStatus = Record<string, unknown>;

/** calculateStatus: the replica counts and the Available condition from the ReplicaSets. */
export function calculateStatus(d: KObject, all: KObject[], newRS: KObject | undefined, nowMs: number): DeploymentStatus {
  const sum = (f: string): number => all.reduce((s, rs) => s + statusNum(rs, f), 0);
  const available = sum('availableReplicas');
  const total = sum('replicas');
  const st: DeploymentStatus = {};
  const put = (k: string, v: number): void => {
    if (v) st[k] = v;
  };
  st['observedGeneration'] = d.metadata.generation ?? 1;
  put('replicas', total);
  put('updatedReplicas', statusNum(newRS, 'replicas'));
  put('readyReplicas', sum('readyReplicas'));
  put('availableReplicas', available);
  // As GetReplicaCountForReplicaSets: the ReplicaSets' desired sizes, not the Deployment's.
  put('unavailableReplicas', Math.max(0, all.reduce((s, rs) => s + replicas(rs), 0) - available));
  const cc = status(d)['collisionCount'];
  if (typeof cc === 'number') st['collisionCount'] = cc;
  let conds = asArray(status(d)['conditions']) as Condition[];
  const now = rfc3339(nowMs);
  const minAvailable = replicas(d) - maxUnavailable(rolloutParams(d));
  conds =
    available >= minAvailable
      ? setCondition(conds, { type: 'Available', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' })
      : setCondition(conds, { type: 'Available', status: 'False', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' });
  st['conditions'] = conds;
  return st;
}

export function isComplete(d: KObject, st: DeploymentStatus): boolean {
  const want = replicas(d);
  return num(st['updatedReplicas'], 0) === want && num(st['replicas'], 0) === want && num(st['availableReplicas'], 0) === want && num(st['observedGeneration'], 0) >= (d.metadata.generation ?? 1);
}

/** syncRolloutStatus's computation: the Progressing condition, progress deadline, ReplicaFailure; and when to look again. */
export function rolloutStatus(d: KObject, all: KObject[], newRS: KObject | undefined, clock: Clock, timeScale: number): { st: DeploymentStatus; requeueAfterMs: number | undefined } {
  const st = calculateStatus(d, all, newRS, clock.now());
  let conds = st['conditions'] as Condition[];
  const deadlineS = spec(d)['progressDeadlineSeconds'];
  const hasDeadline = typeof deadlineS === 'number' && deadlineS < 2147483647;
  const deadlineMs = hasDeadline ? deadlineS * 1000 * timeScale : 0;
  const cur = getCondition(conds, 'Progressing');
  const nowMs = clock.now();
  const now = rfc3339(nowMs);
  const rsName = newRS?.metadata.name;
  const isCompleteDeployment = num(st['replicas'], 0) === num(st['updatedReplicas'], 0) && cur?.reason === 'NewReplicaSetAvailable';
  let requeueAfterMs: number | undefined;
  if (hasDeadline && !isCompleteDeployment) {
    const old = status(d);
    const progressing =
      num(st['updatedReplicas'], 0) > num(old['updatedReplicas'], 0) ||
      num(st['replicas'], 0) - num(st['updatedReplicas'], 0) < num(old['replicas'], 0) - num(old['updatedReplicas'], 0) ||
      num(st['readyReplicas'], 0) > num(old['readyReplicas'], 0) ||
      num(st['availableReplicas'], 0) > num(old['availableReplicas'], 0);
    if (isComplete(d, st)) {
      conds = setCondition(conds, {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: now,
        reason: 'NewReplicaSetAvailable',
        message: rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`,
      });
    } else if (progressing) {
      const c: Condition = {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: now,
        lastTransitionTime: cur?.status === 'True' && cur.lastTransitionTime ? cur.lastTransitionTime : now,
        reason: 'ReplicaSetUpdated',
        message: rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`,
      };
      conds = [...removeCondition(conds, 'Progressing'), c];
      requeueAfterMs = deadlineMs + 1000;
    } else if (cur && cur.reason !== 'NewReplicaSetAvailable') {
      const from = parseTime(cur.lastUpdateTime) ?? nowMs;
      if (cur.reason === 'ProgressDeadlineExceeded' || from + deadlineMs < nowMs) {
        conds = setCondition(conds, {
          type: 'Progressing',
          status: 'False',
          lastUpdateTime: now,
          lastTransitionTime: now,
          reason: 'ProgressDeadlineExceeded',
          message: rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`,
        });
      } else {
        // Wake up right after the deadline to flip the condition (lastUpdateTime has second precision).
        requeueAfterMs = from + deadlineMs - nowMs + 1000;
      }
    }
  }
  const failure = all.map((rs) => getCondition(status(rs)['conditions'], 'ReplicaFailure')).find((c) => c?.status === 'True');
  const curFailure = getCondition(conds, 'ReplicaFailure');
  if (failure) {
    if (curFailure?.status !== failure.status || curFailure.reason !== failure.reason) conds = setCondition(conds, { ...failure, lastUpdateTime: now, lastTransitionTime: failure.lastTransitionTime ?? now });
  } else {
    conds = removeCondition(conds, 'ReplicaFailure');
  }
  st['conditions'] = conds;
  return { st, requeueAfterMs };
}
