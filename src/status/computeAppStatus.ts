import type { AppStatus, PodSummary, ReplicaCounts, RolloutReason, WarningEvent } from './types.ts';
import type { ContainerJson, ContainerStatusJson, DeploymentJson, EventJson, MetaJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';

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

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError']);
const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 };
const UNHEALTHY_REPEATS = 3;

type FailureReason = Extract<
  RolloutReason,
  'ForbiddenByPodSecurity' | 'QuotaExceeded' | 'ImagePullFailed' | 'ConfigError' | 'OOMKilled' | 'CrashLooping' | 'Unschedulable' | 'ProbeFailing' | 'ProgressDeadlineExceeded'
>;

/** Most specific first: when pods fail in different ways, the earlier one is reported. */
const FAILURE_PRIORITY: readonly FailureReason[] = [
  'ForbiddenByPodSecurity',
  'QuotaExceeded',
  'ImagePullFailed',
  'ConfigError',
  'OOMKilled',
  'CrashLooping',
  'Unschedulable',
  'ProbeFailing',
  'ProgressDeadlineExceeded',
];

interface Failure {
  readonly reason: FailureReason;
  readonly detail: string;
}

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

// --- failures ------------------------------------------------------------------------------------

interface FailureContext {
  readonly deployment: DeploymentJson;
  readonly current: ReplicaSetJson;
  readonly currentPods: readonly PodJson[];
  /** The app's Warning events, newest first. */
  readonly events: readonly EventJson[];
  readonly now: Date;
}

/** The failure to report, and the current pods that fail (they do not count as serving). */
function findFailure(ctx: FailureContext): { failure: Failure | undefined; failing: Set<PodJson> } {
  const found: Failure[] = [];
  const failing = new Set<PodJson>();
  const rsFailure = replicaSetFailure(ctx);
  if (rsFailure) found.push(rsFailure);
  for (const pod of ctx.currentPods) {
    const f = podFailure(pod, ctx);
    if (f) {
      found.push(f);
      failing.add(pod);
    }
  }
  const progressing = ctx.deployment.status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    const secs = ctx.deployment.spec?.progressDeadlineSeconds;
    const limit = secs !== undefined ? ` within ${secs}s` : '';
    found.push({ reason: 'ProgressDeadlineExceeded', detail: `no progress${limit} (${progressing.message ?? 'progress deadline exceeded'})` });
  }
  return { failure: mostSpecific(found), failing };
}

function mostSpecific(found: readonly Failure[]): Failure | undefined {
  for (const reason of FAILURE_PRIORITY) {
    const f = found.find((x) => x.reason === reason);
    if (f) return f;
  }
  return undefined;
}

/** Pod creation refused by admission: only while the ReplicaSet is still missing pods, so old events do not linger. */
function replicaSetFailure(ctx: FailureContext): Failure | undefined {
  const rs = ctx.current;
  const cond = rs.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const missing = (rs.status?.replicas ?? 0) < (rs.spec?.replicas ?? 0);
  if (!cond && !missing) return undefined;
  const messages = [
    ...(cond?.message ? [cond.message] : []),
    ...ctx.events.filter((e) => e.reason === 'FailedCreate' && involves(e, 'ReplicaSet', rs.metadata)).map((e) => e.message ?? ''),
  ];
  for (const m of messages) {
    const psa = /violates PodSecurity ("[^"]*"): (.*)$/s.exec(m);
    if (psa) return { reason: 'ForbiddenByPodSecurity', detail: `pods are forbidden by Pod Security ${psa[1]}: ${psa[2]}` };
    const quota = /(exceeded quota: .*)$/s.exec(m);
    if (quota) return { reason: 'QuotaExceeded', detail: `pods cannot be created: ${quota[1]}` };
  }
  return undefined;
}

function podFailure(pod: PodJson, ctx: FailureContext): Failure | undefined {
  const podEvents = ctx.events.filter((e) => involves(e, 'Pod', pod.metadata));
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const found: Failure[] = [];
  for (const cs of statuses) {
    const f = containerFailure(pod, cs, podEvents, ctx.now);
    if (f) found.push(f);
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (!pod.spec?.nodeName && (pod.status?.phase ?? 'Pending') === 'Pending') {
    const failedScheduling = podEvents.find((e) => e.reason === 'FailedScheduling');
    const msg =
      scheduled?.status === 'False' && scheduled.reason === 'Unschedulable' ? scheduled.message : failedScheduling ? failedScheduling.message : undefined;
    if (msg !== undefined) found.push({ reason: 'Unschedulable', detail: `pods cannot be scheduled: ${withoutPreemption(msg ?? '')}` });
  }
  const creating = statuses.some((cs) => cs.state?.waiting?.reason === 'ContainerCreating') || (pod.spec?.nodeName && statuses.length === 0);
  const failedMount = podEvents.find((e) => e.reason === 'FailedMount');
  if (creating && failedMount && pod.status?.phase !== 'Running') {
    found.push({ reason: 'ConfigError', detail: `pod ${pod.metadata?.name ?? ''} cannot mount its volumes: ${failedMount.message ?? ''}` });
  }
  return mostSpecific(found);
}

function containerFailure(pod: PodJson, cs: ContainerStatusJson, podEvents: readonly EventJson[], now: Date): Failure | undefined {
  const cname = cs.name ?? '';
  const spec = containerSpec(pod, cname);
  const image = spec?.image ?? cs.image ?? '';
  const waiting = cs.state?.waiting;
  const reason = waiting?.reason ?? '';
  const containerEvents = podEvents.filter((e) => !e.involvedObject?.fieldPath || e.involvedObject.fieldPath.endsWith(`{${cname}}`));

  if (PULL_FAILURES.has(reason)) {
    if (reason === 'InvalidImageName') return { reason: 'ImagePullFailed', detail: `image "${image}" is not a valid image reference: ${waiting?.message ?? ''}` };
    if (reason === 'ErrImageNeverPull') return { reason: 'ImagePullFailed', detail: `image "${image}" is not on the node and imagePullPolicy is Never` };
    const prefix = `Failed to pull image "${image}": `;
    const ev = containerEvents.find((e) => e.reason === 'Failed' && (e.message ?? '').startsWith(prefix));
    const why = ev ? (ev.message ?? '').slice(prefix.length) : (waiting?.message ?? reason);
    return { reason: 'ImagePullFailed', detail: `image "${image}" cannot be pulled: ${why}` };
  }
  if (CONFIG_FAILURES.has(reason)) {
    return { reason: 'ConfigError', detail: `container "${cname}" cannot be created: ${waiting?.message ?? reason}` };
  }
  const last = cs.lastState?.terminated ?? cs.state?.terminated;
  const restarts = cs.restartCount ?? 0;
  // Reported at the first kill, not after two restarts: no retry gets more memory than the last one.
  if (last?.reason === 'OOMKilled') {
    const limit = spec?.resources?.limits?.memory;
    const at = limit !== undefined ? ` at its ${String(limit)} memory limit` : '';
    const again = restarts > 0 ? `, restarted ${restarts} time${restarts === 1 ? '' : 's'}` : '';
    return {
      reason: 'OOMKilled',
      detail: `container "${cname}" ran out of memory and the kernel killed it${at} (OOMKilled, exit code ${last.exitCode ?? 137})${again}; raise spec.resources.memoryLimit or make the app use less memory`,
    };
  }
  if (reason === 'CrashLoopBackOff' || (restarts >= 2 && last !== undefined && (last.exitCode ?? 0) !== 0)) {
    const liveness = containerEvents.find((e) => e.reason === 'Unhealthy' && (e.message ?? '').startsWith('Liveness probe failed'));
    if (liveness) {
      return { reason: 'ProbeFailing', detail: `container "${cname}" is restarted because its liveness probe fails: ${probeMessage(liveness)} (restarted ${restarts} times)` };
    }
    return { reason: 'CrashLooping', detail: `container "${cname}" keeps crashing: ${describeExit(last)}, restarted ${restarts} times` };
  }
  const running = cs.state?.running;
  if (running && cs.ready !== true && pod.status?.phase === 'Running') {
    const started = running.startedAt ? Date.parse(running.startedAt) : NaN;
    const runningFor = Number.isNaN(started) ? 0 : (now.getTime() - started) / 1000;
    const unhealthy = containerEvents.filter((e) => e.reason === 'Unhealthy');
    // Newest first: the kind that failed most recently is checked (and named) first.
    const kinds = [...new Set(unhealthy.map(probeKind))];
    for (const kind of kinds) {
      const ofKind = unhealthy.filter((e) => probeKind(e) === kind);
      const first = ofKind[0];
      if (!first) continue;
      const probe = kind === 'startup' ? spec?.startupProbe : kind === 'liveness' ? spec?.livenessProbe : spec?.readinessProbe;
      const grace =
        (probe?.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds) +
        (probe?.periodSeconds ?? PROBE_DEFAULTS.periodSeconds) * (probe?.failureThreshold ?? PROBE_DEFAULTS.failureThreshold);
      if (kind === 'startup') {
        // Failing the startup probe while booting is what the probe is for: a 1 s period fails a few
        // times before the server listens. Only a container past its whole startup budget fails it
        // (the kubelet restarts it then); once started, these events are history.
        if (cs.started !== true && runningFor > grace) {
          return { reason: 'ProbeFailing', detail: `container "${cname}" fails its startup probe: ${probeMessage(first)}` };
        }
        continue;
      }
      const repeats = ofKind.reduce((n, e) => n + (e.count ?? 1), 0);
      // Readiness and liveness only probe once the startup probe passed, which may be long after the
      // container started (150 s budget): their grace runs from their first failure, not from start.
      const since = Math.min(...ofKind.map(firstSeen));
      const failingFor = Number.isFinite(since) ? Math.min(runningFor, (now.getTime() - since) / 1000) : runningFor;
      if (failingFor > grace || repeats >= UNHEALTHY_REPEATS) {
        return { reason: 'ProbeFailing', detail: `container "${cname}" fails its ${kind} probe: ${probeMessage(first)}` };
      }
    }
  }
  return undefined;
}

/** When an (aggregated) event was first seen, in ms; Infinity when it carries no time. */
function firstSeen(e: EventJson): number {
  const t = e.firstTimestamp ?? e.eventTime ?? e.lastTimestamp ?? e.metadata?.creationTimestamp;
  const n = t ? Date.parse(t) : NaN;
  return Number.isNaN(n) ? Infinity : n;
}

function probeKind(e: EventJson): 'readiness' | 'liveness' | 'startup' {
  const m = e.message ?? '';
  if (m.startsWith('Liveness')) return 'liveness';
  if (m.startsWith('Startup')) return 'startup';
  return 'readiness';
}

function probeMessage(e: EventJson): string {
  return (e.message ?? '').replace(/^(Readiness|Liveness|Startup) probe failed: /, '');
}

function describeExit(t: { exitCode?: number; reason?: string } | undefined): string {
  if (!t) return 'it exits';
  const code = t.exitCode ?? 0;
  if (t.reason === 'OOMKilled') return `OOMKilled (exit code ${code}: it ran out of memory; raise resources.memory)`;
  return `exit code ${code}${t.reason ? ` (${t.reason})` : ''}`;
}

/** kube-scheduler appends what preemption could do; for a user the first sentence is the answer. */
function withoutPreemption(msg: string): string {
  const i = msg.indexOf(' preemption:');
  return i >= 0 ? msg.slice(0, i) : msg;
}

// --- objects, ownership, events ----------------------------------------------------------------

function isOwnedBy(child: MetaJson | undefined, owner: MetaJson | undefined, kind: string): boolean {
  const refs = child?.ownerReferences ?? [];
  return refs.some((r) => (r.kind === undefined || r.kind === kind) && (owner?.uid && r.uid ? r.uid === owner.uid : r.name === owner?.name));
}

function involves(e: EventJson, kind: string, meta: MetaJson | undefined): boolean {
  const io = e.involvedObject;
  if (!io || io.kind !== kind || io.name !== meta?.name) return false;
  return !io.uid || !meta?.uid || io.uid === meta.uid;
}

function containerSpec(pod: PodJson, name: string): ContainerJson | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name);
}

function podReady(p: PodJson): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
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

function warningEventsOf(namespace: string, d: DeploymentJson, replicaSets: readonly ReplicaSetJson[], pods: readonly PodJson[], events: readonly EventJson[]): EventJson[] {
  const rsNames = replicaSets.map((rs) => rs.metadata?.name ?? '').filter((n) => n !== '');
  const podNames = new Set(pods.map((p) => p.metadata?.name));
  const mine = events.filter((e) => {
    if (e.type !== 'Warning') return false;
    const io = e.involvedObject;
    if (!io || (io.namespace ?? e.metadata?.namespace) !== namespace) return false;
    if (io.kind === 'Deployment') return io.name === d.metadata?.name;
    if (io.kind === 'ReplicaSet') return rsNames.includes(io.name ?? '');
    // Pods that are already gone keep their events; their names start with their ReplicaSet's.
    if (io.kind === 'Pod') return podNames.has(io.name) || rsNames.some((n) => (io.name ?? '').startsWith(`${n}-`));
    return false;
  });
  return mine.sort((a, b) => eventTime(b) - eventTime(a) || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? ''));
}

function eventTime(e: EventJson): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  const n = t ? Date.parse(t) : NaN;
  return Number.isNaN(n) ? 0 : n;
}

function toWarning(e: EventJson): WarningEvent {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? null;
  return {
    reason: e.reason ?? '',
    message: e.message ?? '',
    object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
    count: e.count ?? 1,
    lastTimestamp: normalizeTime(t),
  };
}

function summarizePod(p: PodJson, current: boolean): PodSummary {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  const waiting = statuses.find((cs) => cs.state?.waiting?.reason)?.state?.waiting;
  const terminated = statuses.map((cs) => cs.lastState?.terminated ?? cs.state?.terminated).find((t) => t !== undefined);
  return {
    name: p.metadata?.name ?? '',
    phase: p.status?.phase ?? 'Pending',
    ready: podReady(p),
    restarts: statuses.reduce((n, cs) => n + (cs.restartCount ?? 0), 0),
    node: p.spec?.nodeName ?? null,
    ip: p.status?.podIP ?? null,
    current,
    waitingReason: waiting?.reason ?? null,
    waitingMessage: waiting?.message ?? null,
    lastTermination: terminated
      ? { exitCode: terminated.exitCode ?? 0, reason: terminated.reason ?? null, finishedAt: normalizeTime(terminated.finishedAt ?? null) }
      : null,
  };
}

function byName(a: PodJson, b: PodJson): number {
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

function byCurrentThenName(a: PodSummary, b: PodSummary): number {
  return Number(b.current) - Number(a.current) || a.name.localeCompare(b.name);
}

function parseRevision(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lists and watches may format the same instant differently; status comparison must not see that. */
function normalizeTime(t: string | null | undefined): string | null {
  if (!t) return null;
  const n = Date.parse(t);
  return Number.isNaN(n) ? t : rfc3339(new Date(n));
}
