/** Rules about the objects themselves rather than what they run. */
import type { LintRule, RuleFinding } from '../context.ts';

interface Removed {
  readonly removedIn: string;
  readonly use: string;
}

/** apiVersion → kind ("*" for every kind) → removal. From the Kubernetes deprecated API migration guide. */
const REMOVED: Readonly<Record<string, Readonly<Record<string, Removed>>>> = {
  'extensions/v1beta1': {
    Deployment: { removedIn: '1.16', use: 'apps/v1' },
    DaemonSet: { removedIn: '1.16', use: 'apps/v1' },
    ReplicaSet: { removedIn: '1.16', use: 'apps/v1' },
    NetworkPolicy: { removedIn: '1.16', use: 'networking.k8s.io/v1' },
    PodSecurityPolicy: { removedIn: '1.16', use: 'Pod Security admission' },
    Ingress: { removedIn: '1.22', use: 'networking.k8s.io/v1' },
  },
  'apps/v1beta1': { '*': { removedIn: '1.16', use: 'apps/v1' } },
  'apps/v1beta2': { '*': { removedIn: '1.16', use: 'apps/v1' } },
  'networking.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'networking.k8s.io/v1' } },
  'rbac.authorization.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'rbac.authorization.k8s.io/v1' } },
  'apiextensions.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'apiextensions.k8s.io/v1' } },
  'admissionregistration.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'admissionregistration.k8s.io/v1' } },
  'certificates.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'certificates.k8s.io/v1' } },
  'coordination.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'coordination.k8s.io/v1' } },
  'scheduling.k8s.io/v1beta1': { '*': { removedIn: '1.22', use: 'scheduling.k8s.io/v1' } },
  'storage.k8s.io/v1beta1': {
    CSIDriver: { removedIn: '1.22', use: 'storage.k8s.io/v1' },
    CSINode: { removedIn: '1.22', use: 'storage.k8s.io/v1' },
    StorageClass: { removedIn: '1.22', use: 'storage.k8s.io/v1' },
    VolumeAttachment: { removedIn: '1.22', use: 'storage.k8s.io/v1' },
    CSIStorageCapacity: { removedIn: '1.27', use: 'storage.k8s.io/v1' },
  },
  'batch/v1beta1': { CronJob: { removedIn: '1.25', use: 'batch/v1' } },
  'policy/v1beta1': {
    PodDisruptionBudget: { removedIn: '1.25', use: 'policy/v1' },
    PodSecurityPolicy: { removedIn: '1.25', use: 'Pod Security admission' },
  },
  'discovery.k8s.io/v1beta1': { EndpointSlice: { removedIn: '1.25', use: 'discovery.k8s.io/v1' } },
  'events.k8s.io/v1beta1': { Event: { removedIn: '1.25', use: 'events.k8s.io/v1' } },
  'node.k8s.io/v1beta1': { RuntimeClass: { removedIn: '1.25', use: 'node.k8s.io/v1' } },
  'autoscaling/v2beta1': { HorizontalPodAutoscaler: { removedIn: '1.25', use: 'autoscaling/v2' } },
  'autoscaling/v2beta2': { HorizontalPodAutoscaler: { removedIn: '1.26', use: 'autoscaling/v2' } },
  'flowcontrol.apiserver.k8s.io/v1beta1': { '*': { removedIn: '1.26', use: 'flowcontrol.apiserver.k8s.io/v1' } },
  'flowcontrol.apiserver.k8s.io/v1beta2': { '*': { removedIn: '1.29', use: 'flowcontrol.apiserver.k8s.io/v1' } },
  'flowcontrol.apiserver.k8s.io/v1beta3': { '*': { removedIn: '1.32', use: 'flowcontrol.apiserver.k8s.io/v1' } },
};

/** Built-in kinds and the apiVersions current clusters serve them at; other kinds (CRDs) are not checked. */
const SERVED: Readonly<Record<string, readonly string[]>> = {
  Pod: ['v1'],
  Service: ['v1'],
  ConfigMap: ['v1'],
  Secret: ['v1'],
  ServiceAccount: ['v1'],
  Namespace: ['v1'],
  PersistentVolumeClaim: ['v1'],
  PersistentVolume: ['v1'],
  ReplicationController: ['v1'],
  LimitRange: ['v1'],
  ResourceQuota: ['v1'],
  Endpoints: ['v1'],
  Deployment: ['apps/v1'],
  StatefulSet: ['apps/v1'],
  DaemonSet: ['apps/v1'],
  ReplicaSet: ['apps/v1'],
  Job: ['batch/v1'],
  CronJob: ['batch/v1'],
  PodDisruptionBudget: ['policy/v1'],
  HorizontalPodAutoscaler: ['autoscaling/v2', 'autoscaling/v1'],
  NetworkPolicy: ['networking.k8s.io/v1'],
  Ingress: ['networking.k8s.io/v1'],
  IngressClass: ['networking.k8s.io/v1'],
  Role: ['rbac.authorization.k8s.io/v1'],
  RoleBinding: ['rbac.authorization.k8s.io/v1'],
  ClusterRole: ['rbac.authorization.k8s.io/v1'],
  ClusterRoleBinding: ['rbac.authorization.k8s.io/v1'],
  PriorityClass: ['scheduling.k8s.io/v1'],
  StorageClass: ['storage.k8s.io/v1'],
};

function removedFor(apiVersion: string, kind: string): Removed | undefined {
  const byKind = REMOVED[apiVersion];
  return byKind?.[kind] ?? byKind?.['*'];
}

export const apiRules: readonly LintRule[] = [
  {
    id: 'berth/removed-api',
    severity: 'error',
    title: 'apiVersion no longer served',
    why: 'Kubernetes removed this apiVersion; current clusters reject the object with "no matches for kind".',
    fix: 'Change apiVersion to the replacement named in the message and adapt the fields that changed (e.g. Ingress backends, required Deployment selectors).',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.entries) {
        const removed = removedFor(e.object.apiVersion, e.ref.kind);
        if (removed) {
          yield { entry: e, path: 'apiVersion', message: `${e.object.apiVersion} ${e.ref.kind} was removed in Kubernetes ${removed.removedIn}; use ${removed.use}.` };
        }
      }
    },
  },
  {
    id: 'berth/wrong-api-version',
    severity: 'error',
    title: 'apiVersion does not serve this kind',
    why: 'Each built-in kind lives in one API group: a Deployment in "v1" or a PodDisruptionBudget in "apps/v1" is answered with "no matches for kind", so nothing is applied. (Removed beta versions are reported by berth/removed-api.)',
    fix: 'Use the apiVersion named in the message.',
    *check(ctx): Iterable<RuleFinding> {
      for (const e of ctx.entries) {
        const served = SERVED[e.ref.kind];
        if (!served || served.includes(e.object.apiVersion) || removedFor(e.object.apiVersion, e.ref.kind)) continue;
        yield { entry: e, path: 'apiVersion', message: `${e.ref.kind} is served at ${served.join(' or ')}, not ${e.object.apiVersion}; the API server answers "no matches for kind".` };
      }
    },
  },
  {
    id: 'berth/duplicate-object',
    severity: 'error',
    title: 'Same object defined twice',
    why: 'Two documents with the same kind, namespace and name overwrite each other on apply; which one wins depends on order.',
    fix: 'Remove or rename one of the documents.',
    *check(ctx): Iterable<RuleFinding> {
      const seen = new Map<string, number>();
      for (const e of ctx.entries) {
        const group = e.object.apiVersion.includes('/') ? e.object.apiVersion.split('/')[0] : '';
        const key = `${group}/${e.ref.kind}/${e.ref.namespace}/${e.ref.name}`;
        const first = seen.get(key);
        if (first === undefined) seen.set(key, e.index);
        else yield { entry: e, path: 'metadata.name', message: `${e.ref.kind} "${e.ref.name}" is already defined by object ${first + 1} of the input.` };
      }
    },
  },
];
