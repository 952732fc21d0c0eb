import type { ResourceKey } from '../types.ts';

/** What discovery, routing and storage know about one REST resource. */
export interface ResourceDef {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Subresources served, e.g. "status", "scale", "log". */
  readonly subresources?: readonly string[];
  /** Virtual resources (reviews) answer create only and are never stored. */
  readonly createOnly?: boolean;
  /** Read-only computed resources (metrics) are listed only when a source exists. */
  readonly readOnly?: boolean;
  /** Served by converting to and from this version of the same group, which is stored. */
  readonly storageVersion?: string;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

function def(
  gv: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<Omit<ResourceDef, 'group' | 'version' | 'resource' | 'kind' | 'namespaced'>> = {},
): ResourceDef {
  const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
  return { group, version, resource, kind, namespaced, singular: extra.singular ?? kind.toLowerCase(), ...extra };
}

export const RESOURCE_DEFS: readonly ResourceDef[] = [
  def('v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  def('v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'log', 'binding', 'eviction'] }),
  def('v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  def('v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  def('v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  def('v1', 'secrets', 'Secret', true),
  def('v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  def('v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  def('v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  def('v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true, { shortNames: ['pvc'], subresources: ['status'] }),
  def('v1', 'persistentvolumes', 'PersistentVolume', false, { shortNames: ['pv'], subresources: ['status'] }),
  def('v1', 'resourcequotas', 'ResourceQuota', true, { shortNames: ['quota'], subresources: ['status'] }),
  def('v1', 'limitranges', 'LimitRange', true, { shortNames: ['limits'] }),
  def('apps/v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  def('apps/v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  def('apps/v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  def('apps/v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  def('apps/v1', 'controllerrevisions', 'ControllerRevision', true),
  def('autoscaling/v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, { shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
  // `kubectl autoscale` still writes autoscaling/v1.
  def('autoscaling/v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, { shortNames: ['hpa'], categories: ['all'], subresources: ['status'], storageVersion: 'v2' }),
  def('policy/v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true, { shortNames: ['pdb'], subresources: ['status'] }),
  def('networking.k8s.io/v1', 'ingresses', 'Ingress', true, { shortNames: ['ing'], subresources: ['status'] }),
  def('networking.k8s.io/v1', 'networkpolicies', 'NetworkPolicy', true, { shortNames: ['netpol'] }),
  def('networking.k8s.io/v1', 'ingressclasses', 'IngressClass', false),
  def('storage.k8s.io/v1', 'storageclasses', 'StorageClass', false, { shortNames: ['sc'] }),
  def('batch/v1', 'jobs', 'Job', true, { categories: ['all'], subresources: ['status'] }),
  def('batch/v1', 'cronjobs', 'CronJob', true, { shortNames: ['cj'], categories: ['all'], subresources: ['status'] }),
  def('coordination.k8s.io/v1', 'leases', 'Lease', true),
  def('events.k8s.io/v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  def('rbac.authorization.k8s.io/v1', 'roles', 'Role', true),
  def('rbac.authorization.k8s.io/v1', 'rolebindings', 'RoleBinding', true),
  def('rbac.authorization.k8s.io/v1', 'clusterroles', 'ClusterRole', false),
  def('rbac.authorization.k8s.io/v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  def('authorization.k8s.io/v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { createOnly: true }),
  def('authorization.k8s.io/v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { createOnly: true }),
  def('metrics.k8s.io/v1beta1', 'pods', 'PodMetrics', true, { readOnly: true }),
  def('metrics.k8s.io/v1beta1', 'nodes', 'NodeMetrics', false, { readOnly: true }),
];

export const METRICS_GROUP = 'metrics.k8s.io';

export function verbsOf(d: ResourceDef): string[] {
  if (d.createOnly) return ['create'];
  if (d.readOnly) return ['get', 'list'];
  return [...ALL_VERBS];
}

export function resourceId(r: ResourceKey): string {
  return `${r.group}/${r.version}/${r.resource}`;
}

/** Storage is per group/resource so every version shares one store, as in etcd. */
export function storageId(r: { group: string; resource: string }): string {
  return `${r.group}/${r.resource}`;
}

/** "deployments.apps" / "pods": the group-resource string used in error messages. */
export function groupResource(r: { group: string; resource: string }): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** "Deployment.apps" / "Pod": the group-kind string used in Invalid messages. */
export function groupKind(d: ResourceDef): string {
  return d.group ? `${d.kind}.${d.group}` : d.kind;
}

export function apiVersionOf(d: { group: string; version: string }): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

export class ResourceRegistry {
  private readonly byId = new Map<string, ResourceDef>();
  readonly defs: readonly ResourceDef[];

  constructor(opts: { metrics: boolean }) {
    this.defs = RESOURCE_DEFS.filter((d) => opts.metrics || d.group !== METRICS_GROUP);
    for (const d of this.defs) this.byId.set(resourceId(d), d);
  }

  find(group: string, version: string, resource: string): ResourceDef | undefined {
    return this.byId.get(`${group}/${version}/${resource}`);
  }

  byKind(apiVersion: string, kind: string): ResourceDef | undefined {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return this.defs.find((d) => d.group === group && d.version === version && d.kind === kind);
  }

  /** Groups in discovery order with their served versions, the preferred (stored) one first. */
  groups(): { group: string; versions: string[] }[] {
    const seen = new Map<string, string[]>();
    for (const d of this.defs) {
      if (!d.group) continue;
      const vs = seen.get(d.group) ?? [];
      if (!vs.includes(d.version)) vs.push(d.version);
      seen.set(d.group, vs);
    }
    return [...seen].map(([group, versions]) => ({ group, versions }));
  }
}
