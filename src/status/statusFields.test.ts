import { describe, expect, it } from 'vitest';
import type { RawObject } from '../cluster/informer.ts';
import { computeAppStatus } from './computeAppStatus.ts';
import type { DeploymentJson, PodJson, ReplicaSetJson } from './kubeShapes.ts';
import { statusFields } from './statusFields.ts';

const managedFields = [{ manager: 'berth', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }];
const container = {
  name: 'app',
  image: 'berth.local/hello:1.0.0',
  env: [{ name: 'PORT', value: '8080' }],
  ports: [{ containerPort: 8080, protocol: 'TCP' }],
  resources: { limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '100m' } },
  startupProbe: { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 150, timeoutSeconds: 1 },
  readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 5, failureThreshold: 3 },
  securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
};
const template = {
  metadata: { labels: { 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/managed-by': 'berth' }, annotations: { 'berth.dev/config-hash': 'x'.repeat(64) } },
  spec: { containers: [container], volumes: [{ name: 'tmp', emptyDir: {} }], securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, automountServiceAccountToken: false },
};
const labels = { 'app.kubernetes.io/instance': 'web', 'app.kubernetes.io/managed-by': 'berth' };

/** Objects as an API server returns them: with templates, managedFields and annotations status never reads. */
const deploymentWhole = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'd-uid',
    resourceVersion: '41',
    generation: 2,
    creationTimestamp: '2025-01-01T11:00:00Z',
    labels,
    annotations: { 'deployment.kubernetes.io/revision': '2', 'berth.dev/revision': '7', 'berth.dev/spec': JSON.stringify(template) },
    managedFields,
  },
  spec: { replicas: 1, progressDeadlineSeconds: 600, selector: { matchLabels: labels }, strategy: { type: 'RollingUpdate' }, template },
  status: {
    observedGeneration: 2,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastTransitionTime: '2025-01-01T11:01:00Z' }],
  },
};
const replicaSetWhole = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: 'web-abc',
    namespace: 'shop',
    uid: 'rs-uid',
    resourceVersion: '40',
    labels: { ...labels, 'pod-template-hash': 'abc' },
    annotations: { 'deployment.kubernetes.io/revision': '2', 'berth.dev/revision': '7', 'deployment.kubernetes.io/desired-replicas': '1' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd-uid', controller: true, blockOwnerDeletion: true }],
    managedFields,
  },
  spec: { replicas: 1, selector: { matchLabels: labels }, template },
  status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, fullyLabeledReplicas: 1, observedGeneration: 1 },
};
const podWhole = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-abc-x1',
    namespace: 'shop',
    uid: 'p-uid',
    resourceVersion: '39',
    labels: { ...labels, 'pod-template-hash': 'abc' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true }],
    managedFields,
  },
  spec: { ...template.spec, nodeName: 'node-1', tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }] },
  status: {
    phase: 'Running',
    podIP: '10.0.0.7',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      {
        name: 'app',
        image: 'berth.local/hello:1.0.0',
        ready: true,
        started: true,
        restartCount: 1,
        state: { running: { startedAt: '2025-01-01T11:00:30Z' } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: '2025-01-01T11:00:00Z', finishedAt: '2025-01-01T11:00:20Z' } },
        imageID: 'sha256:abc',
        containerID: 'containerd://abc',
      },
    ],
  },
};

const deployment = deploymentWhole as DeploymentJson;
const replicaSet = replicaSetWhole as ReplicaSetJson;
const pod = podWhole as PodJson;

describe('statusFields', () => {
  const d = statusFields.deployment(deployment as RawObject) as DeploymentJson;
  const rs = statusFields.replicaSet(replicaSet as RawObject) as ReplicaSetJson;
  const p = statusFields.pod(pod as RawObject) as PodJson;

  it('drops what status never reads: templates, managedFields, other annotations, volumes, env', () => {
    expect(d.spec).toEqual({ replicas: 1, progressDeadlineSeconds: 600 });
    expect(d.metadata?.managedFields).toBeUndefined();
    expect(d.metadata?.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2', 'berth.dev/revision': '7' });
    expect(rs.spec).toEqual({ replicas: 1 });
    expect(p.spec).toEqual({
      nodeName: 'node-1',
      containers: [
        {
          name: 'app',
          image: 'berth.local/hello:1.0.0',
          resources: { limits: { memory: '128Mi' } },
          startupProbe: { initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 150 },
          readinessProbe: { periodSeconds: 5, failureThreshold: 3 },
        },
      ],
    });
    expect(p.status?.containerStatuses?.[0]).not.toHaveProperty('imageID');
    expect(JSON.stringify(p).length).toBeLessThan(JSON.stringify(pod).length * 0.6);
  });

  it('keeps identity, ownership and what the informer needs (resourceVersion, labels)', () => {
    expect(p.metadata).toEqual({
      name: 'web-abc-x1',
      namespace: 'shop',
      uid: 'p-uid',
      resourceVersion: '39',
      labels: { ...labels, 'pod-template-hash': 'abc' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid' }],
    });
    expect(d.metadata?.generation).toBe(2);
  });

  it('computes the same status from trimmed objects as from whole ones', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    const whole = computeAppStatus({ namespace: 'shop', name: 'web', deployment, replicaSets: [replicaSet], pods: [pod], events: [], now });
    // The OOM-killed container is explained with its memory limit: probes, limits and last states survive.
    expect(whole).toMatchObject({ state: 'Failed', reason: 'OOMKilled' });
    expect(whole.message).toContain('128Mi');
    expect(computeAppStatus({ namespace: 'shop', name: 'web', deployment: d, replicaSets: [rs], pods: [p], events: [], now })).toEqual(whole);
  });

  it('only trims its own kind: a watch ERROR Status only loses managedFields', () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', metadata: { managedFields } };
    expect(statusFields.pod(status)).toEqual({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 410, reason: 'Expired', metadata: {} });
  });
});
