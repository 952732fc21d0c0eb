/** Why the current revision of an app cannot start: admission, image pulls, config, OOM, crashes, scheduling, probes, deadline. */
import type { RolloutReason } from './types.ts';
import type { ContainerStatusJson, DeploymentJson, EventJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import { containerSpec } from './podSummary.ts';
import { involves } from './warningEvents.ts';

const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const CONFIG_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError']);
const PROBE_DEFAULTS = { initialDelaySeconds: 0, periodSeconds: 10, failureThreshold: 3 };
const UNHEALTHY_REPEATS = 3;

export type FailureReason = Extract<
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

export interface Failure {
  readonly reason: FailureReason;
  readonly detail: string;
}

export interface FailureContext {
  readonly deployment: DeploymentJson;
  readonly current: ReplicaSetJson;
  readonly currentPods: readonly PodJson[];
  /** The app's Warning events, newest first. */
  readonly events: readonly EventJson[];
  readonly now: Date;
}

/** The failure to report, and the current pods that fail (they do not count as serving). */
export function findFailure(ctx: FailureContext): { failure: Failure | undefined; failing: Set<PodJson> } {
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
