import { describe, expect, it } from 'vitest';
import { computeAppStatus, statusChanged, type AppStatusInput } from './computeAppStatus.ts';
import type { ContainerStatusJson, DeploymentJson, EventJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import type { RolloutReason, RolloutState } from './types.ts';
import type { RawObject } from '../cluster/informer.ts';
import { statusFields } from './statusFields.ts';

const NOW = new Date('2025-01-01T12:00:00Z');
const NS = 'shop';

function deployment(opts: { replicas?: number; k8sRev?: number; berthRev?: number; generation?: number; observed?: number; status?: DeploymentJson['status'] } = {}): DeploymentJson {
  const replicas = opts.replicas ?? 2;
  return {
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: NS,
      uid: 'd-uid',
      generation: opts.generation ?? 1,
      annotations: {
        'deployment.kubernetes.io/revision': String(opts.k8sRev ?? 1),
        ...(opts.berthRev !== undefined ? { 'berth.dev/revision': String(opts.berthRev) } : {}),
      },
    },
    spec: { replicas, progressDeadlineSeconds: 600 },
    status: opts.status ?? {
      observedGeneration: opts.observed ?? opts.generation ?? 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

function rs(rev: number, replicas: number, extra: { berthRev?: number; status?: ReplicaSetJson['status'] } = {}): ReplicaSetJson {
  return {
    kind: 'ReplicaSet',
    metadata: {
      name: `web-rs${rev}`,
      namespace: NS,
      uid: `rs${rev}-uid`,
      annotations: {
        'deployment.kubernetes.io/revision': String(rev),
        ...(extra.berthRev !== undefined ? { 'berth.dev/revision': String(extra.berthRev) } : {}),
      },
      ownerReferences: [{ kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true }],
    },
    spec: { replicas },
    status: extra.status ?? { replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

let podSeq = 0;
function pod(rev: number, opts: { ready?: boolean; phase?: string; node?: string | null; cs?: ContainerStatusJson; conditions?: PodJson['status'] extends infer S ? S extends { conditions?: infer C } ? C : never : never; image?: string; terminating?: boolean; name?: string; probes?: boolean; memoryLimit?: string } = {}): PodJson {
  const ready = opts.ready ?? true;
  const name = opts.name ?? `web-rs${rev}-p${++podSeq}`;
  return {
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      uid: `${name}-uid`,
      ownerReferences: [{ kind: 'ReplicaSet', name: `web-rs${rev}`, uid: `rs${rev}-uid`, controller: true }],
      ...(opts.terminating ? { deletionTimestamp: '2025-01-01T11:59:00Z' } : {}),
    },
    spec: {
      ...(opts.node === null ? {} : { nodeName: opts.node ?? 'node-1' }),
      containers: [
        {
          name: 'app',
          image: opts.image ?? 'nginx:1.27',
          ...(opts.probes ? { readinessProbe: { initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3 } } : {}),
          ...(opts.memoryLimit ? { resources: { limits: { memory: opts.memoryLimit } } } : {}),
        },
      ],
    },
    status: {
      phase: opts.phase ?? 'Running',
      podIP: '10.0.0.1',
      conditions: opts.conditions ?? [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [opts.cs ?? { name: 'app', ready, restartCount: 0, state: { running: { startedAt: '2025-01-01T11:00:00Z' } } }],
    },
  };
}

function event(kind: string, name: string, reason: string, message: string, extra: Partial<EventJson> = {}): EventJson {
  return {
    kind: 'Event',
    metadata: { name: `${name}.${reason}.${message.length}`, namespace: NS },
    involvedObject: { kind, name, namespace: NS },
    type: 'Warning',
    reason,
    message,
    count: 1,
    lastTimestamp: '2025-01-01T11:59:00Z',
    ...extra,
  };
}

/** berth's default startup probe: 1 s period, 150 failures (a 150 s budget). */
function withStartupProbe(p: PodJson): PodJson {
  const [c, ...rest] = p.spec?.containers ?? [];
  return { ...p, spec: { ...p.spec, containers: [{ ...c, startupProbe: { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 150 } }, ...rest] } };
}

function input(parts: Partial<AppStatusInput>): AppStatusInput {
  return { namespace: NS, name: 'web', replicaSets: [], pods: [], events: [], now: NOW, ...parts };
}

/** Rollout of revision 2 (berth revision 7) over revision 1 (berth revision 6). */
function rolloutOverHealthy(newPods: PodJson[], events: EventJson[] = [], oldReady = 2): AppStatusInput {
  return input({
    deployment: deployment({ k8sRev: 2, berthRev: 7, status: { observedGeneration: 1, replicas: 2 + newPods.length, updatedReplicas: newPods.length, readyReplicas: oldReady, availableReplicas: oldReady } }),
    replicaSets: [rs(1, oldReady, { berthRev: 6 }), rs(2, newPods.length, { berthRev: 7 })],
    pods: [...Array.from({ length: oldReady }, () => pod(1)), ...newPods],
    events,
  });
}

const pullFailed = (reason: string, message: string): ContainerStatusJson => ({ name: 'app', ready: false, restartCount: 0, image: 'nginx:doesnotexist', state: { waiting: { reason, message } } });
const notFound = 'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:doesnotexist": not found';

interface Case {
  readonly name: string;
  readonly input: () => AppStatusInput;
  readonly state: RolloutState;
  readonly reason: RolloutReason;
  readonly message: string | RegExp;
}

const cases: Case[] = [
  {
    name: 'no Deployment',
    input: () => input({}),
    state: 'Pending',
    reason: 'NotFound',
    message: 'Deployment shop/web is not created yet',
  },
  {
    name: 'controller has not observed the new generation',
    input: () => input({ deployment: deployment({ generation: 2, observed: 1, berthRev: 3 }), replicaSets: [rs(1, 2)], pods: [pod(1), pod(1)] }),
    state: 'Progressing',
    reason: 'Deploying',
    message: 'waiting for the Deployment controller to start revision 3',
  },
  {
    name: 'complete rollout',
    input: () => input({ deployment: deployment({ berthRev: 3 }), replicaSets: [rs(1, 2)], pods: [pod(1), pod(1)] }),
    state: 'Available',
    reason: 'Ready',
    message: '2/2 pods of revision 3 ready',
  },
  {
    name: 'scaled to zero',
    input: () => input({ deployment: deployment({ replicas: 0, berthRev: 3 }), replicaSets: [rs(1, 0)] }),
    state: 'Available',
    reason: 'ScaledToZero',
    message: 'scaled to zero (revision 3)',
  },
  {
    name: 'rolling update with old pods left',
    input: () => rolloutOverHealthy([pod(2, { ready: true }), pod(2, { ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:58Z' } } } })]),
    state: 'Progressing',
    reason: 'RollingUpdate',
    message: 'rolling update to revision 7: 1/2 pods of revision 7 ready, 2 pod(s) of revision 6 left',
  },
  {
    name: 'all pods created, waiting for readiness',
    input: () =>
      input({
        deployment: deployment({ berthRev: 3, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } }),
        replicaSets: [rs(1, 2)],
        pods: [pod(1), pod(1, { ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:59Z' } } } })],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '1/2 pods of revision 3 ready',
  },
  {
    name: 'scaling the ReplicaSet up',
    input: () =>
      input({
        deployment: deployment({ replicas: 4, berthRev: 3, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } }),
        replicaSets: [rs(1, 2)],
        pods: [pod(1), pod(1)],
      }),
    state: 'Progressing',
    reason: 'ScalingReplicaSet',
    message: 'scaling revision 3 to 4 pod(s): 2 exist, 2 ready',
  },
  {
    name: 'ErrImagePull on a first rollout → Failed with the kubelet message',
    input: () =>
      input({
        deployment: deployment({ berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, unavailableReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-a', image: 'nginx:doesnotexist', ready: false, phase: 'Pending', cs: pullFailed('ErrImagePull', notFound) })],
      }),
    state: 'Failed',
    reason: 'ImagePullFailed',
    message: `revision 1 cannot start: image "nginx:doesnotexist" cannot be pulled: ${notFound}`,
  },
  {
    name: 'ImagePullBackOff quotes the Failed event, not the back-off text',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-b', image: 'nginx:doesnotexist', ready: false, phase: 'Pending', cs: pullFailed('ImagePullBackOff', 'Back-off pulling image "nginx:doesnotexist"') })],
        events: [event('Pod', 'web-rs1-b', 'Failed', `Failed to pull image "nginx:doesnotexist": ${notFound}`)],
      }),
    state: 'Failed',
    reason: 'ImagePullFailed',
    message: `revision 1 cannot start: image "nginx:doesnotexist" cannot be pulled: ${notFound}`,
  },
  {
    name: 'InvalidImageName',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { image: 'Bad:Name', ready: false, phase: 'Pending', cs: pullFailed('InvalidImageName', 'Failed to apply default image tag "Bad:Name": invalid reference format') })],
      }),
    state: 'Failed',
    reason: 'ImagePullFailed',
    message: /image "Bad:Name" is not a valid image reference: Failed to apply default image tag/,
  },
  {
    name: 'bad image rolled over a healthy revision → Degraded, old pods still serve',
    input: () => rolloutOverHealthy([pod(2, { image: 'nginx:doesnotexist', ready: false, phase: 'Pending', cs: pullFailed('ErrImagePull', notFound) })]),
    state: 'Degraded',
    reason: 'ImagePullFailed',
    message: `revision 7 cannot start: image "nginx:doesnotexist" cannot be pulled: ${notFound}; 2/2 pods of revision 6 still serve traffic`,
  },
  {
    name: 'CrashLoopBackOff with the exit code',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 2, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [
          pod(1, {
            ready: false,
            cs: { name: 'app', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } },
          }),
        ],
      }),
    state: 'Failed',
    reason: 'CrashLooping',
    message: 'revision 2 cannot start: container "app" keeps crashing: exit code 1 (Error), restarted 3 times',
  },
  {
    name: 'two restarts after OOMKilled, before the back-off shows',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 2, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: false, cs: { name: 'app', ready: false, restartCount: 2, state: { running: { startedAt: '2025-01-01T11:59:59Z' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } } })],
      }),
    state: 'Failed',
    reason: 'OOMKilled',
    message: 'revision 2 cannot start: container "app" ran out of memory and the kernel killed it (OOMKilled, exit code 137), restarted 2 times; raise spec.resources.memoryLimit or make the app use less memory',
  },
  {
    name: 'OOMKilled once names the limit at the first kill',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 2, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [
          pod(1, {
            ready: false,
            memoryLimit: '64Mi',
            cs: { name: 'app', ready: false, restartCount: 1, state: { running: { startedAt: '2025-01-01T11:59:59Z' } }, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } },
          }),
        ],
      }),
    state: 'Failed',
    reason: 'OOMKilled',
    message: 'revision 2 cannot start: container "app" ran out of memory and the kernel killed it at its 64Mi memory limit (OOMKilled, exit code 137), restarted 1 time; raise spec.resources.memoryLimit or make the app use less memory',
  },
  {
    name: 'a crash-looping pod that is Ready for a moment between restarts does not make it Degraded',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 2, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: true, cs: { name: 'app', ready: true, restartCount: 4, state: { running: { startedAt: '2025-01-01T11:59:59Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } } })],
      }),
    state: 'Failed',
    reason: 'CrashLooping',
    message: 'revision 2 cannot start: container "app" keeps crashing: exit code 1 (Error), restarted 4 times',
  },
  {
    name: 'part of the current revision serves while the rest cannot be scheduled → Degraded',
    input: () =>
      input({
        deployment: deployment({ replicas: 2, berthRev: 2, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } }),
        replicaSets: [rs(1, 2)],
        pods: [
          pod(1),
          pod(1, { node: null, ready: false, phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient memory.' }], cs: { name: 'app' } }),
        ],
      }),
    state: 'Degraded',
    reason: 'Unschedulable',
    message: '1 pod(s) of revision 2 cannot start: pods cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory.; 1/2 pods of revision 2 serve traffic',
  },
  {
    name: 'one restart is not a crash loop yet',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 2, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: false, cs: { name: 'app', ready: false, restartCount: 1, state: { running: { startedAt: '2025-01-01T11:59:59Z' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } } })],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '0/1 pods of revision 2 ready',
  },
  {
    name: 'missing Secret → ConfigError',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: false, phase: 'Pending', cs: { name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "db" not found' } } } })],
      }),
    state: 'Failed',
    reason: 'ConfigError',
    message: 'revision 1 cannot start: container "app" cannot be created: secret "db" not found',
  },
  {
    name: 'missing ConfigMap key → ConfigError (CreateContainerError)',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: false, phase: 'Pending', cs: { name: 'app', ready: false, state: { waiting: { reason: 'CreateContainerError', message: "couldn't find key MESSAGES in ConfigMap shop/web-env" } } } })],
      }),
    state: 'Failed',
    reason: 'ConfigError',
    message: /couldn't find key MESSAGES in ConfigMap shop\/web-env/,
  },
  {
    name: 'missing volume source → ConfigError from FailedMount',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-m', ready: false, phase: 'Pending', cs: { name: 'app', ready: false, state: { waiting: { reason: 'ContainerCreating' } } } })],
        events: [event('Pod', 'web-rs1-m', 'FailedMount', 'MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found')],
      }),
    state: 'Failed',
    reason: 'ConfigError',
    message: /cannot mount its volumes: MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found/,
  },
  {
    name: 'Pod Security rejects the pods (FailedCreate) → ForbiddenByPodSecurity quoting the checks',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 0, updatedReplicas: 0 } }),
        replicaSets: [rs(1, 1, { status: { replicas: 0 } })],
        events: [
          event(
            'ReplicaSet',
            'web-rs1',
            'FailedCreate',
            'Error creating: pods "web-rs1-x" is forbidden: violates PodSecurity "restricted:latest": privileged (container "app" must not set securityContext.privileged=true)',
          ),
        ],
      }),
    state: 'Failed',
    reason: 'ForbiddenByPodSecurity',
    message: 'revision 1 cannot start: pods are forbidden by Pod Security "restricted:latest": privileged (container "app" must not set securityContext.privileged=true)',
  },
  {
    name: 'ReplicaFailure condition alone is enough',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 0 } }),
        replicaSets: [
          rs(1, 1, {
            status: {
              replicas: 0,
              conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "web-rs1-y" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)' }],
            },
          }),
        ],
      }),
    state: 'Failed',
    reason: 'ForbiddenByPodSecurity',
    message: /Pod Security "baseline:latest": host namespaces \(hostNetwork=true\)/,
  },
  {
    name: 'quota exceeded (FailedCreate text)',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 0 } }),
        replicaSets: [rs(1, 1, { status: { replicas: 0 } })],
        events: [event('ReplicaSet', 'web-rs1', 'FailedCreate', 'Error creating: pods "x" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=0, limited: cpu=1')],
      }),
    state: 'Failed',
    reason: 'QuotaExceeded',
    message: 'revision 1 cannot start: pods cannot be created: exceeded quota: compute, requested: cpu=2, used: cpu=0, limited: cpu=1',
  },
  {
    name: 'quota exceeded on a new revision over a healthy one → Degraded',
    input: () =>
      input({
        deployment: deployment({ k8sRev: 2, berthRev: 4, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 0, readyReplicas: 2, availableReplicas: 2 } }),
        replicaSets: [rs(1, 2, { berthRev: 3 }), rs(2, 1, { berthRev: 4, status: { replicas: 0 } })],
        pods: [pod(1), pod(1)],
        events: [event('ReplicaSet', 'web-rs2', 'FailedCreate', 'Error creating: pods "x" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=0, limited: cpu=1')],
      }),
    state: 'Degraded',
    reason: 'QuotaExceeded',
    message: /^revision 4 cannot start: pods cannot be created: exceeded quota: compute.*; 2\/2 pods of revision 3 still serve traffic$/,
  },
  {
    name: 'an old FailedCreate no longer matters once the ReplicaSet has its pods',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1 }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1)],
        events: [event('ReplicaSet', 'web-rs1', 'FailedCreate', 'Error creating: pods "x" is forbidden: exceeded quota: compute')],
      }),
    state: 'Available',
    reason: 'Ready',
    message: '1/1 pods of revision 1 ready',
  },
  {
    name: 'Unschedulable quotes the scheduler',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [
          pod(1, {
            node: null,
            ready: false,
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
              },
            ],
            cs: { name: 'app', ready: false },
          }),
        ],
      }),
    state: 'Failed',
    reason: 'Unschedulable',
    message: 'revision 1 cannot start: pods cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.',
  },
  {
    name: 'Unschedulable from a FailedScheduling event while unbound',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-s', node: null, ready: false, phase: 'Pending', conditions: [], cs: { name: 'app' } })],
        events: [event('Pod', 'web-rs1-s', 'FailedScheduling', '0/3 nodes are available: 3 node(s) didn\'t match Pod\'s node affinity/selector.')],
      }),
    state: 'Failed',
    reason: 'Unschedulable',
    message: /node\(s\) didn't match Pod's node affinity\/selector/,
  },
  {
    name: 'readiness probe failing past its grace → ProbeFailing',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-r', probes: true, ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:00Z' } } } })],
        events: [event('Pod', 'web-rs1-r', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500')],
      }),
    state: 'Failed',
    reason: 'ProbeFailing',
    message: 'revision 1 cannot start: container "app" fails its readiness probe: HTTP probe failed with statuscode: 500',
  },
  {
    name: 'readiness failing inside the startup grace is still Progressing',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        // running 20 s; grace is 5 + 10 × 3 = 35 s; one Unhealthy event
        pods: [pod(1, { name: 'web-rs1-g', probes: true, ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:40Z' } } } })],
        events: [event('Pod', 'web-rs1-g', 'Unhealthy', 'Readiness probe failed: connection refused')],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '0/1 pods of revision 1 ready',
  },
  {
    name: 'three Unhealthy events inside the grace are enough',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { name: 'web-rs1-h', probes: true, ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:40Z' } } } })],
        events: [event('Pod', 'web-rs1-h', 'Unhealthy', 'Readiness probe failed: connection refused', { count: 3 })],
      }),
    state: 'Failed',
    reason: 'ProbeFailing',
    message: /fails its readiness probe: connection refused/,
  },
  {
    name: 'startup-probe failures inside the startup budget are not ProbeFailing, however many',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        // running 20 s; startup budget 0 + 1 × 150 = 150 s; five failures while the server boots
        pods: [withStartupProbe(pod(1, { name: 'web-rs1-s1', ready: false, cs: { name: 'app', ready: false, started: false, state: { running: { startedAt: '2025-01-01T11:59:40Z' } } } }))],
        events: [event('Pod', 'web-rs1-s1', 'Unhealthy', 'Startup probe failed: connection refused', { count: 5 })],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '0/1 pods of revision 1 ready',
  },
  {
    name: 'startup-probe failures past the startup budget → ProbeFailing',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        // running 160 s > 150 s budget, still not started
        pods: [withStartupProbe(pod(1, { name: 'web-rs1-s2', ready: false, cs: { name: 'app', ready: false, started: false, state: { running: { startedAt: '2025-01-01T11:57:20Z' } } } }))],
        events: [event('Pod', 'web-rs1-s2', 'Unhealthy', 'Startup probe failed: connection refused', { count: 150 })],
      }),
    state: 'Failed',
    reason: 'ProbeFailing',
    message: 'revision 1 cannot start: container "app" fails its startup probe: connection refused',
  },
  {
    name: 'startup failures do not add to readiness failures: one readiness failure after boot is still Progressing',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [withStartupProbe(pod(1, { name: 'web-rs1-s3', probes: true, ready: false, cs: { name: 'app', ready: false, started: true, state: { running: { startedAt: '2025-01-01T11:59:50Z' } } } }))],
        events: [
          event('Pod', 'web-rs1-s3', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', { lastTimestamp: '2025-01-01T11:59:53Z' }),
          event('Pod', 'web-rs1-s3', 'Unhealthy', 'Startup probe failed: connection refused', { count: 2, lastTimestamp: '2025-01-01T11:59:51Z' }),
        ],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '0/1 pods of revision 1 ready',
  },
  {
    name: 'a slow starter that fails its first readiness probe long after it started is still Progressing',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        // running 90 s (startup passed after ~88 s, inside its 150 s budget); one readiness failure 1 s ago
        pods: [withStartupProbe(pod(1, { name: 'web-rs1-s5', probes: true, ready: false, cs: { name: 'app', ready: false, started: true, state: { running: { startedAt: '2025-01-01T11:58:30Z' } } } }))],
        events: [
          event('Pod', 'web-rs1-s5', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', { firstTimestamp: '2025-01-01T11:59:59Z', lastTimestamp: '2025-01-01T11:59:59Z' }),
          event('Pod', 'web-rs1-s5', 'Unhealthy', 'Startup probe failed: connection refused', { count: 2, firstTimestamp: '2025-01-01T11:58:31Z', lastTimestamp: '2025-01-01T11:59:57Z' }),
        ],
      }),
    state: 'Progressing',
    reason: 'WaitingForReady',
    message: '0/1 pods of revision 1 ready',
  },
  {
    name: 'readiness failures count as before next to startup failures',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [withStartupProbe(pod(1, { name: 'web-rs1-s4', probes: true, ready: false, cs: { name: 'app', ready: false, started: true, state: { running: { startedAt: '2025-01-01T11:59:40Z' } } } }))],
        events: [
          // The older startup event is the newest-but-one: the readiness verdict must not depend on order.
          event('Pod', 'web-rs1-s4', 'Unhealthy', 'Startup probe failed: connection refused', { count: 4, lastTimestamp: '2025-01-01T11:59:59Z' }),
          event('Pod', 'web-rs1-s4', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500', { count: 3, lastTimestamp: '2025-01-01T11:59:50Z' }),
        ],
      }),
    state: 'Failed',
    reason: 'ProbeFailing',
    message: 'revision 1 cannot start: container "app" fails its readiness probe: HTTP probe failed with statuscode: 500',
  },
  {
    name: 'liveness kills make it ProbeFailing rather than CrashLooping',
    input: () =>
      input({
        deployment: deployment({ replicas: 1, berthRev: 1, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1 } }),
        replicaSets: [rs(1, 1)],
        pods: [
          pod(1, {
            name: 'web-rs1-l',
            ready: false,
            cs: { name: 'app', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 137, reason: 'Error' } } },
          }),
        ],
        events: [event('Pod', 'web-rs1-l', 'Unhealthy', 'Liveness probe failed: HTTP probe failed with statuscode: 503')],
      }),
    state: 'Failed',
    reason: 'ProbeFailing',
    message: /restarted because its liveness probe fails: HTTP probe failed with statuscode: 503 \(restarted 3 times\)/,
  },
  {
    name: 'progress deadline exceeded without a more specific cause',
    input: () =>
      input({
        deployment: deployment({
          replicas: 1,
          berthRev: 5,
          status: {
            observedGeneration: 1,
            replicas: 1,
            updatedReplicas: 1,
            conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-rs1" has timed out progressing.' }],
          },
        }),
        replicaSets: [rs(1, 1)],
        pods: [pod(1, { ready: false, cs: { name: 'app', ready: false, state: { running: { startedAt: '2025-01-01T11:59:59Z' } } } })],
      }),
    state: 'Failed',
    reason: 'ProgressDeadlineExceeded',
    message: 'revision 5 did not finish rolling out: no progress within 600s (ReplicaSet "web-rs1" has timed out progressing.)',
  },
];

describe('computeAppStatus', () => {
  it.each(cases)('$name → $state/$reason', (c) => {
    const s = computeAppStatus(c.input());
    expect({ state: s.state, reason: s.reason }).toEqual({ state: c.state, reason: c.reason });
    if (typeof c.message === 'string') expect(s.message).toBe(c.message);
    else expect(s.message).toMatch(c.message);
    expect(s.observedAt).toBe('2025-01-01T12:00:00Z');
  });

  // The status engine caches objects trimmed by statusFields.ts: every field read here must survive it.
  it.each(cases)('$name: the same status from the objects the informers cache', (c) => {
    const whole = c.input();
    const trim = <T>(f: (o: RawObject) => RawObject, o: T): T => f(o as RawObject) as T;
    const trimmed: AppStatusInput = {
      ...whole,
      ...(whole.deployment !== undefined ? { deployment: trim(statusFields.deployment, whole.deployment) } : {}),
      replicaSets: whole.replicaSets.map((r) => trim(statusFields.replicaSet, r)),
      pods: whole.pods.map((p) => trim(statusFields.pod, p)),
    };
    expect(computeAppStatus(trimmed)).toEqual(computeAppStatus(whole));
  });

  it('reports the berth revision, counts and pod summaries (current first)', () => {
    const s = computeAppStatus(
      rolloutOverHealthy([
        pod(2, {
          name: 'web-rs2-zz',
          ready: false,
          phase: 'Pending',
          image: 'nginx:doesnotexist',
          cs: { ...pullFailed('ErrImagePull', notFound), restartCount: 1, lastState: { terminated: { exitCode: 2, reason: 'Error', finishedAt: '2025-01-01T11:58:00.000Z' } } },
        }),
      ]),
    );
    expect(s.revision).toBe(7);
    expect(s.replicas).toEqual({ desired: 2, ready: 2, updated: 1, available: 2, unavailable: 0 });
    expect(s.pods[0]).toEqual({
      name: 'web-rs2-zz',
      phase: 'Pending',
      ready: false,
      restarts: 1,
      node: 'node-1',
      ip: '10.0.0.1',
      current: true,
      waitingReason: 'ErrImagePull',
      waitingMessage: notFound,
      lastTermination: { exitCode: 2, reason: 'Error', finishedAt: '2025-01-01T11:58:00Z' },
    });
    expect(s.pods.slice(1).every((p) => !p.current && p.ready)).toBe(true);
  });

  it('ignores ReplicaSets and pods the Deployment does not own, and terminating pods for progress', () => {
    const foreignRs: ReplicaSetJson = { ...rs(9, 1), metadata: { ...rs(9, 1).metadata, ownerReferences: [{ kind: 'Deployment', name: 'other', uid: 'other-uid' }] } };
    const s = computeAppStatus(
      input({
        deployment: deployment({ berthRev: 2 }),
        replicaSets: [rs(1, 2), foreignRs],
        pods: [pod(1), pod(1), pod(9), pod(1, { terminating: true, ready: false })],
      }),
    );
    expect(s.state).toBe('Available');
    expect(s.pods).toHaveLength(3);
  });

  it('lists Warning events of the Deployment, its ReplicaSets and pods (also gone ones), newest first, at most 20', () => {
    const events: EventJson[] = [
      event('Deployment', 'web', 'SomethingOdd', 'deployment warning', { lastTimestamp: '2025-01-01T11:00:00Z' }),
      event('ReplicaSet', 'web-rs1', 'FailedCreate', 'rs warning', { lastTimestamp: '2025-01-01T11:10:00Z' }),
      event('Pod', 'web-rs1-gone1', 'BackOff', 'gone pod warning', { lastTimestamp: '2025-01-01T11:20:00Z', count: 4 }),
      event('Pod', 'other-abc-123', 'BackOff', 'someone else', { lastTimestamp: '2025-01-01T11:30:00Z' }),
      event('Pod', 'web-rs1-x', 'Pulled', 'normal event', { type: 'Normal' }),
      { ...event('Pod', 'web-rs1-y', 'BackOff', 'other namespace'), involvedObject: { kind: 'Pod', name: 'web-rs1-y', namespace: 'elsewhere' } },
      ...Array.from({ length: 25 }, (_, i) => event('Pod', `web-rs1-many${i}`, 'Unhealthy', `old ${i}`, { lastTimestamp: `2025-01-01T10:${String(i).padStart(2, '0')}:00Z` })),
    ];
    const s = computeAppStatus(input({ deployment: deployment(), replicaSets: [rs(1, 2)], pods: [pod(1), pod(1)], events }));
    expect(s.warnings).toHaveLength(20);
    expect(s.warnings.slice(0, 3)).toEqual([
      { reason: 'BackOff', message: 'gone pod warning', object: 'Pod/web-rs1-gone1', count: 4, lastTimestamp: '2025-01-01T11:20:00Z' },
      { reason: 'FailedCreate', message: 'rs warning', object: 'ReplicaSet/web-rs1', count: 1, lastTimestamp: '2025-01-01T11:10:00Z' },
      { reason: 'SomethingOdd', message: 'deployment warning', object: 'Deployment/web', count: 1, lastTimestamp: '2025-01-01T11:00:00Z' },
    ]);
    expect(s.warnings[3]?.message).toBe('old 24');
    expect(s.warnings.some((w) => /someone else|normal event|other namespace/.test(w.message))).toBe(false);
  });

  it('statusChanged ignores observedAt only', () => {
    const a = computeAppStatus(input({ deployment: deployment(), replicaSets: [rs(1, 2)], pods: [pod(1, { name: 'p1' }), pod(1, { name: 'p2' })] }));
    const b = { ...a, observedAt: '2030-01-01T00:00:00Z' };
    expect(statusChanged(a, b)).toBe(false);
    expect(statusChanged(a, { ...a, message: 'x' })).toBe(true);
    expect(statusChanged(undefined, a)).toBe(true);
    expect(statusChanged(undefined, undefined)).toBe(false);
  });
});
