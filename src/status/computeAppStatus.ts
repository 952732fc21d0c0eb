import type { AppStatus, ReplicaCounts } from './types.ts';
import type { DeploymentJson, EventJson, MetaJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import { findFailure } from './findFailure.ts';
import { byCurrentThenName, byName, podReady, summarizePod } from './podSummary.ts';
import { rfc3339 } from './statusTime.ts';
import { toWarning, warningEventsOf } from './warningEvents.ts';

/**
 * How berth turns a Deployment, its ReplicaSets, their Pods and Warning events into one AppStatus.
 * Pure: same input, same output (observedAt is `now`).
 *
 * | situation (checked top to bottom)                                        | state               | reason                   |
 * |--------------------------------------------------------------------------|---------------------|--------------------------|
 * | no Deployment                                                            | Pending             | NotFound                 |
 * | controller has not observed the latest generation / no current RS yet   | Progressing         | Deploying                |
 * | current RS: FailedCreate event or ReplicaFailure says "violates PodSecurity" (while pods are missing) | Failed / Degraded | ForbiddenByPodSecurity |
 * | current RS: same, "exceeded quota"                                       | Failed / Degraded   | QuotaExceeded            |
 * | current pod waits with ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull | Failed / Degraded | ImagePullFailed |
 * | current pod waits with CreateContainerConfigError / CreateContainerError, or stays ContainerCreating with FailedMount events | Failed / Degraded | ConfigError |
 * | current container's last (or final) termination was OOMKilled: the kernel killed it at its memory limit | Failed / Degraded | OOMKilled |
 * | current container in CrashLoopBackOff, or ≥ 2 restarts after a non-zero exit (liveness kills → ProbeFailing) | Failed / Degraded | CrashLooping |
 * | current pod Pending with PodScheduled=False/Unschedulable (or FailedScheduling while unbound) | Failed / Degraded | Unschedulable |
 * | current container running, not ready, readiness/liveness Unhealthy events failing for longer than that probe's grace (initialDelay + period × failureThreshold) or ≥ 3 of them; startup-probe failures only past the startup budget | Failed / Degraded | ProbeFailing |
 * | Deployment Progressing=False/ProgressDeadlineExceeded                    | Failed / Degraded   | ProgressDeadlineExceeded |
 * | desired 0, nothing left running                                          | Available           | ScaledToZero             |
 * | observedGeneration ≥ generation, updated = available = replicas = desired, no old pods | Available | Ready              |
 * | old pods still running                                                   | Progressing         | RollingUpdate            |
 * | current RS not yet at the desired size                                   | Progressing         | ScalingReplicaSet        |
 * | otherwise (all pods created, not all ready)                              | Progressing         | WaitingForReady          |
 *
 * A failure is `Degraded` while some pods still serve traffic (Ready pods of an older revision, or
 * Ready current pods that are not themselves failing: a crash-looping pod Ready between two restarts
 * does not count) and `Failed` when nothing serves. Failures are reported as soon as
 * the kubelet or controller says so, not at the progress deadline.
 */

export interface AppStatusInput {
  readonly namespace: string;
  readonly name: string;
  readonly deployment?: DeploymentJson | undefined;
  /** ReplicaSets of the app; only those owned by the Deployment are used. */
  readonly replicaSets: readonly ReplicaSetJson[];
  /** Pods of the app; only those owned by the Deployment's ReplicaSets are used. */
  readonly pods: readonly PodJson[];
  /** Events of the namespace (or just the app's); only Warnings about the app's objects are used. */
  readonly events: readonly EventJson[];
  readonly now: Date;
}

export const K8S_REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const BERTH_REVISION_ANNOTATION = 'berth.dev/revision';
export const MAX_WARNINGS = 20;

export function computeAppStatus(input: AppStatusInput): AppStatus {
  const { namespace, name, now } = input;
  const observedAt = rfc3339(now);
  const d = input.deployment;
  if (!d) {
    return {
      namespace,
      name,
      revision: null,
      state: 'Pending',
      reason: 'NotFound',
      message: `Deployment ${namespace}/${name} is not created yet`,
      replicas: { desired: 0, ready: 0, updated: 0, available: 0, unavailable: 0 },
      pods: [],
      warnings: [],
      observedAt,
    };
  }

  const replicaSets = input.replicaSets.filter((rs) => isOwnedBy(rs.metadata, d.metadata, 'Deployment'));
  const pods = input.pods.filter((p) => replicaSets.some((rs) => isOwnedBy(p.metadata, rs.metadata, 'ReplicaSet')));
  const k8sRevision = d.metadata?.annotations?.[K8S_REVISION_ANNOTATION];
  const current = k8sRevision !== undefined ? replicaSets.find((rs) => rs.metadata?.annotations?.[K8S_REVISION_ANNOTATION] === k8sRevision) : undefined;
  const isCurrent = (p: PodJson): boolean => current !== undefined && isOwnedBy(p.metadata, current.metadata, 'ReplicaSet');

  const revision = parseRevision(d.metadata?.annotations?.[BERTH_REVISION_ANNOTATION]);
  const st = d.status ?? {};
  const replicas: ReplicaCounts = {
    desired: d.spec?.replicas ?? 1,
    ready: st.readyReplicas ?? 0,
    updated: st.updatedReplicas ?? 0,
    available: st.availableReplicas ?? 0,
    unavailable: st.unavailableReplicas ?? 0,
  };
  const appEvents = warningEventsOf(namespace, d, replicaSets, pods, input.events);
  const base = {
    namespace,
    name,
    revision,
    replicas,
    pods: pods.map((p) => summarizePod(p, isCurrent(p))).sort(byCurrentThenName),
    warnings: appEvents.slice(0, MAX_WARNINGS).map(toWarning),
    observedAt,
  };

  const curRev = revision !== null ? String(revision) : (k8sRevision ?? '?');
  const generation = d.metadata?.generation ?? 0;
  if ((st.observedGeneration ?? 0) < generation || !current) {
    return { ...base, state: 'Progressing', reason: 'Deploying', message: `waiting for the Deployment controller to start revision ${curRev}` };
  }

  const live = (p: PodJson): boolean => !p.metadata?.deletionTimestamp;
  const currentPods = pods.filter((p) => isCurrent(p) && live(p)).sort(byName);
  const oldPods = pods.filter((p) => !isCurrent(p) && live(p));
  const curReady = currentPods.filter(podReady).length;
  const oldReady = oldPods.filter(podReady).length;
  const desired = replicas.desired;

  const { failure, failing } = findFailure({ deployment: d, current, currentPods, events: appEvents, now });
  if (failure) {
    // A crash-looping pod can be Ready for a moment between restarts; it does not serve anything.
    const curServing = currentPods.filter((p) => podReady(p) && !failing.has(p)).length;
    const what =
      failure.reason === 'ProgressDeadlineExceeded'
        ? `revision ${curRev} did not finish rolling out: ${failure.detail}`
        : curServing > 0
          ? `${Math.max(desired - curServing, 1)} pod(s) of revision ${curRev} cannot start: ${failure.detail}`
          : `revision ${curRev} cannot start: ${failure.detail}`;
    if (curServing + oldReady === 0) return { ...base, state: 'Failed', reason: failure.reason, message: what };
    const oldRev = oldReady > 0 ? revisionOfOldest(replicaSets, current, oldPods) : undefined;
    const still =
      oldRev !== undefined
        ? `${oldReady}/${desired} pods of revision ${oldRev} still serve traffic`
        : `${curServing}/${desired} pods of revision ${curRev} serve traffic`;
    return { ...base, state: 'Degraded', reason: failure.reason, message: `${what}; ${still}` };
  }

  const complete =
    (st.observedGeneration ?? 0) >= generation &&
    replicas.updated === desired &&
    replicas.available === desired &&
    (st.replicas ?? 0) === desired &&
    oldPods.length === 0 &&
    currentPods.length === desired;
  if (complete) {
    if (desired === 0) return { ...base, state: 'Available', reason: 'ScaledToZero', message: `scaled to zero (revision ${curRev})` };
    return { ...base, state: 'Available', reason: 'Ready', message: `${desired}/${desired} pods of revision ${curRev} ready` };
  }
  if (oldPods.length > 0) {
    const oldRev = revisionOfOldest(replicaSets, current, oldPods) ?? 'older revisions';
    return {
      ...base,
      state: 'Progressing',
      reason: 'RollingUpdate',
      message: `rolling update to revision ${curRev}: ${curReady}/${desired} pods of revision ${curRev} ready, ${oldPods.length} pod(s) of revision ${oldRev} left`,
    };
  }
  if ((current.spec?.replicas ?? 0) !== desired || currentPods.length !== desired) {
    return {
      ...base,
      state: 'Progressing',
      reason: 'ScalingReplicaSet',
      message: `scaling revision ${curRev} to ${desired} pod(s): ${currentPods.length} exist, ${curReady} ready`,
    };
  }
  return { ...base, state: 'Progressing', reason: 'WaitingForReady', message: `${curReady}/${desired} pods of revision ${curRev} ready` };
}

/** True when two statuses differ in anything but `observedAt` (the engine emits only real changes). */
export function statusChanged(a: AppStatus | undefined, b: AppStatus | undefined): boolean {
  if (a === undefined || b === undefined) return a !== b;
  return JSON.stringify({ ...a, observedAt: '' }) !== JSON.stringify({ ...b, observedAt: '' });
}

// --- objects, ownership ------------------------------------------------------------------------

function isOwnedBy(child: MetaJson | undefined, owner: MetaJson | undefined, kind: string): boolean {
  const refs = child?.ownerReferences ?? [];
  return refs.some((r) => (r.kind === undefined || r.kind === kind) && (owner?.uid && r.uid ? r.uid === owner.uid : r.name === owner?.name));
}

/** The revision the serving old pods belong to: berth's annotation when the RS carries it, else Kubernetes'. */
function revisionOfOldest(replicaSets: readonly ReplicaSetJson[], current: ReplicaSetJson, oldPods: readonly PodJson[]): string | undefined {
  let best: { rs: ReplicaSetJson; ready: number } | undefined;
  for (const rs of replicaSets) {
    if (rs === current) continue;
    const mine = oldPods.filter((p) => isOwnedBy(p.metadata, rs.metadata, 'ReplicaSet'));
    if (mine.length === 0) continue;
    const ready = mine.filter(podReady).length;
    if (!best || ready > best.ready) best = { rs, ready };
  }
  const ann = best?.rs.metadata?.annotations;
  return ann?.[BERTH_REVISION_ANNOTATION] ?? ann?.[K8S_REVISION_ANNOTATION];
}

function parseRevision(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : null;
}
