import type { V1Container, V1EnvVar, V1Probe, V1StatefulSet } from '@kubernetes/client-node';
import { DEFAULTS } from '../appspec/defaults.ts';
import { scaleQuantity } from '../appspec/formats.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ResolvedResource } from './resolvedStack.ts';
import {
  connectionSecretName,
  GENERATION_ANNOTATION,
  headlessServiceName,
  RESOURCE_PORTS,
  RESOURCE_TYPE_LABEL,
  RESOURCE_USERS,
  STACK_LABEL,
  type ServerType,
} from './stackDefaults.ts';

/** A peer allowed into a resource: an app of the stack, by name and namespace. */
export interface ResourceClient {
  readonly app: string;
  readonly namespace: string;
}

export function resourceSelector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': name };
}

export function resourceLabels(stack: string, r: ResolvedResource): Record<string, string> {
  return {
    'app.kubernetes.io/component': r.type,
    ...resourceSelector(r.name),
    'app.kubernetes.io/managed-by': 'berth',
    'app.kubernetes.io/part-of': stack,
    [RESOURCE_TYPE_LABEL]: r.type,
    [STACK_LABEL]: stack,
  };
}

/**
 * The objects of one resource berth runs, dependencies first: ServiceAccount, Services (one for
 * clients, one headless for the StatefulSet's stable names), StatefulSet, PodDisruptionBudget and the
 * NetworkPolicy letting in only the apps that declare the use. Nothing for `secret` and external
 * resources (their Secret is generated or bound at deploy time, never rendered: no value in output).
 * `generation` counts credential rotations of the resource (an S3 server restarts on one). Pure and deterministic.
 */
export function renderResource(stack: string, r: ResolvedResource, clients: readonly ResourceClient[], generation = 1): KubeObject[] {
  if (r.type === 'secret' || r.external !== null) return [];
  const type: ServerType = r.type;
  const labels = resourceLabels(stack, r);
  const meta = (name = r.name) => ({ name, namespace: r.namespace, labels });
  const port = RESOURCE_PORTS[type];
  const servicePorts = [{ name: type, port, targetPort: type, protocol: 'TCP' }];
  const sorted = [...clients].sort((a, b) => (a.namespace + a.app < b.namespace + b.app ? -1 : 1));
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(), automountServiceAccountToken: false },
    { apiVersion: 'v1', kind: 'Service', metadata: meta(), spec: { type: 'ClusterIP', selector: resourceSelector(r.name), ports: servicePorts } },
    { apiVersion: 'v1', kind: 'Service', metadata: meta(headlessServiceName(r.name)), spec: { clusterIP: 'None', selector: resourceSelector(r.name), ports: servicePorts } },
    renderStatefulSet(stack, r, type, generation) as KubeObject,
    // One replica: a drain must not evict the only server unnoticed; the operator moves it deliberately.
    { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(), spec: { minAvailable: 1, selector: { matchLabels: resourceSelector(r.name) } } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(),
      spec: {
        podSelector: { matchLabels: resourceSelector(r.name) },
        policyTypes: ['Ingress', 'Egress'],
        // Only the apps that list this resource in `uses`, only on its port; no egress at all.
        ingress:
          sorted.length > 0
            ? [
                {
                  from: sorted.map((c) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': c.app } } })),
                  ports: [{ protocol: 'TCP', port }],
                },
              ]
            : [],
        egress: [],
      },
    },
  ];
}

function secretEnv(name: string, resource: string, key: string): V1EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: connectionSecretName(resource), key } } };
}

function execProbe(command: string[], periodSeconds: number, failureThreshold: number): V1Probe {
  return { exec: { command }, periodSeconds, timeoutSeconds: 5, successThreshold: 1, failureThreshold };
}

function httpProbe(path: string, port: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return { httpGet: { path, port, scheme: 'HTTP' }, periodSeconds, timeoutSeconds: 5, successThreshold: 1, failureThreshold };
}

/** Container settings by type: the official images' conventions (env names, data paths, probes). */
function serverContainer(r: ResolvedResource, type: ServerType): Pick<V1Container, 'args' | 'env' | 'readinessProbe' | 'livenessProbe' | 'startupProbe' | 'volumeMounts'> {
  switch (type) {
    case 'postgres': {
      const ready = ['pg_isready', '-h', 'localhost', '-U', r.username, '-d', r.database];
      return {
        env: [
          { name: 'POSTGRES_USER', value: r.username },
          { name: 'POSTGRES_DB', value: r.database },
          secretEnv('POSTGRES_PASSWORD', r.name, 'password'),
          // A subdirectory: the volume's root may hold lost+found, which initdb refuses.
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        startupProbe: execProbe(ready, 2, 60),
        readinessProbe: execProbe(ready, 5, 3),
        livenessProbe: execProbe(ready, 10, 6),
        volumeMounts: [
          { name: 'data', mountPath: '/var/lib/postgresql/data' },
          { name: 'run', mountPath: '/var/run/postgresql' },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      };
    }
    case 'redis': {
      // redis-cli reads REDISCLI_AUTH, so the probe authenticates without the password in its argv.
      const ping = ['redis-cli', 'ping'];
      return {
        args: ['--requirepass', '$(REDIS_PASSWORD)', '--appendonly', 'yes', '--dir', '/data'],
        env: [secretEnv('REDIS_PASSWORD', r.name, 'password'), secretEnv('REDISCLI_AUTH', r.name, 'password')],
        startupProbe: execProbe(ping, 2, 30),
        readinessProbe: execProbe(ping, 5, 3),
        livenessProbe: execProbe(ping, 10, 6),
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      };
    }
    case 's3':
      return {
        args: ['server', '/data'],
        env: [
          secretEnv('MINIO_ROOT_USER', r.name, 'accessKeyId'),
          secretEnv('MINIO_ROOT_PASSWORD', r.name, 'secretAccessKey'),
          { name: 'MINIO_REGION', value: r.region },
          // Buckets created at start by the sandbox's S3 server (a MinIO needs `mc mb` once instead).
          { name: 'S3_BUCKETS', value: r.bucket },
        ],
        startupProbe: httpProbe('/minio/health/live', 's3', 2, 30),
        readinessProbe: httpProbe('/minio/health/ready', 's3', 5, 3),
        livenessProbe: httpProbe('/minio/health/live', 's3', 10, 6),
        volumeMounts: [
          { name: 'data', mountPath: '/data' },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      };
  }
}

function renderStatefulSet(stack: string, r: ResolvedResource, type: ServerType, generation: number): V1StatefulSet {
  const labels = resourceLabels(stack, r);
  const user = RESOURCE_USERS[type];
  const server = serverContainer(r, type);
  const container: V1Container = {
    name: type,
    image: r.image ?? '',
    ...(server.args ? { args: server.args } : {}),
    ports: [{ name: type, containerPort: RESOURCE_PORTS[type], protocol: 'TCP' }],
    ...(server.env ? { env: server.env } : {}),
    resources: {
      requests: { cpu: r.cpu, memory: r.memory },
      limits: { cpu: scaleQuantity(r.cpu, DEFAULTS.cpuLimitFactor) ?? r.cpu, memory: scaleQuantity(r.memory, DEFAULTS.memoryLimitFactor) ?? r.memory },
    },
    ...(server.startupProbe ? { startupProbe: server.startupProbe } : {}),
    ...(server.readinessProbe ? { readinessProbe: server.readinessProbe } : {}),
    ...(server.livenessProbe ? { livenessProbe: server.livenessProbe } : {}),
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
    ...(server.volumeMounts ? { volumeMounts: server.volumeMounts } : {}),
  };
  const scratch = [{ name: 'tmp', emptyDir: { sizeLimit: DEFAULTS.tmpSizeLimit } }, ...(type === 'postgres' ? [{ name: 'run', emptyDir: { sizeLimit: '1Mi' } }] : [])];
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: r.name, namespace: r.namespace, labels },
    spec: {
      serviceName: headlessServiceName(r.name),
      replicas: 1,
      revisionHistoryLimit: DEFAULTS.revisionHistoryLimit,
      selector: { matchLabels: resourceSelector(r.name) },
      updateStrategy: { type: 'RollingUpdate' },
      // Data outlives the StatefulSet: deleting a stack keeps the claim unless purged explicitly.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        // A rotation restarts an S3 server so it reads the new credentials (the count, never a value);
        // PostgreSQL and Redis take theirs in place before the Secret changes (credentialRotation.ts).
        metadata: { labels, ...(generation > 1 && type === 's3' ? { annotations: { [GENERATION_ANNOTATION]: String(generation) } } : {}) },
        spec: {
          serviceAccountName: r.name,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: DEFAULTS.terminationGracePeriodSeconds,
          securityContext: { runAsNonRoot: true, runAsUser: user, runAsGroup: user, fsGroup: user, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
          volumes: scratch,
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(r.storageClassName !== null ? { storageClassName: r.storageClassName } : {}),
            resources: { requests: { storage: r.storage } },
          },
        },
      ],
    },
  };
}
