import { BerthError } from '../errors.ts';
import { APP_KINDS } from '../cluster/clusterClient.ts';

/**
 * The Kubernetes API rights the berth server needs, derived from what its code calls (src/cluster
 * through src/deploy and the log routes, src/status's informers). One table feeds the install's Roles,
 * `berth rbac check` and docs/security.md, so the three cannot disagree. Re-check it whenever a
 * ClusterClient method or a status informer changes. Names are pinned (resourceNames) wherever they
 * are known at install time: the managed namespaces and the leader Lease. list and watch are otherwise
 * authorised per resource and namespace, never by label selector; the one exception is a list or
 * watch with the field selector metadata.name=X, which kube-apiserver authorises as a request for X
 * (the leader Lease's watch relies on it).
 */

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'patch' | 'update' | 'delete';

/** Server replicas of an install when none are asked for: two, so a PodDisruptionBudget keeps one serving during node drains. */
export const DEFAULT_SERVER_REPLICAS = 2;
/** The Lease the replicas elect their leader on (config leaderElection.leaseName's default). */
export const LEADER_LEASE_NAME = 'berth-leader';

export interface RequiredRight {
  /** API group; '' is the core group. */
  readonly group: string;
  /** Plural resource, or resource/subresource (pods/log). */
  readonly resource: string;
  readonly verbs: readonly Verb[];
  /**
   * 'namespace': granted by a Role in each managed namespace. 'cluster': by a ClusterRole (namespaces
   * only). 'install': by a Role in berth's own namespace (the leader Lease only).
   */
  readonly scope: 'namespace' | 'cluster' | 'install';
  /** Only these objects (RBAC resourceNames); absent: any name. */
  readonly resourceNames?: readonly string[];
  /** Which berth code path needs it; printed by `berth rbac check` and in docs/security.md. */
  readonly why: string;
}

/** A non-resource URL berth calls; the default `system:discovery` ClusterRole grants these to every authenticated user. */
export interface RequiredUrl {
  readonly path: string;
  readonly why: string;
}

export interface RightsOptions {
  readonly managedNamespaces: readonly string[];
  readonly allowNamespaceCreate?: boolean;
  /** Server replicas (default DEFAULT_SERVER_REPLICAS); more than one elect a leader on a Lease in berth's own namespace. */
  readonly replicas?: number;
}

/** Whether an install of this many replicas elects a leader (and so needs the Lease rights). */
export function electsLeader(replicas: number | undefined): boolean {
  return (replicas ?? DEFAULT_SERVER_REPLICAS) > 1;
}

/** Plural REST resource of each kind berth renders for an app (APP_KINDS). */
const RESOURCE_OF: Readonly<Record<string, string>> = {
  ServiceAccount: 'serviceaccounts',
  ConfigMap: 'configmaps',
  Service: 'services',
  Deployment: 'deployments',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  PodDisruptionBudget: 'poddisruptionbudgets',
  NetworkPolicy: 'networkpolicies',
  Ingress: 'ingresses',
  ServiceMonitor: 'servicemonitors',
  PrometheusRule: 'prometheusrules',
  CronJob: 'cronjobs',
};

export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

export function resourceOfKind(kind: string): string {
  const r = RESOURCE_OF[kind];
  // A kind added to APP_KINDS without a resource here would silently lack RBAC; fail loudly instead.
  if (r === undefined) throw new BerthError('BERTH_INTERNAL', `no RBAC resource is known for kind ${kind}; add it to RESOURCE_OF in src/install/requiredRights.ts`);
  return r;
}

/**
 * The app kinds, as group → resources. get: drift and diff read live objects (ClusterClient.get);
 * list: prune and delete find berth's objects by label (listAppObjects); create + patch: server-side
 * apply is a PATCH, and the API server authorises an apply that creates the object as `create` too;
 * delete: prune and `berth delete`. No update (berth never PUTs), no deletecollection, no watch here.
 */
function appKindRights(): RequiredRight[] {
  const byGroup = new Map<string, string[]>();
  for (const k of APP_KINDS) {
    const g = groupOf(k.apiVersion);
    byGroup.set(g, [...(byGroup.get(g) ?? []), resourceOfKind(k.kind)]);
  }
  return [...byGroup].flatMap(([group, resources]) =>
    resources.map(
      (resource): RequiredRight => ({
        group,
        resource,
        verbs: ['get', 'list', 'create', 'patch', 'delete'],
        scope: 'namespace',
        why: 'render + server-side apply (create, patch), drift check (get), prune and delete (list, delete) of app objects',
      }),
    ),
  );
}

/**
 * What the stack engine (src/stacks) calls beyond the app kinds: its resources' servers are
 * StatefulSets, their credentials Secrets it reads before every write (get) and applies (create,
 * patch), and `berth delete --stack` removes both; `--purge` deletes the data volumes; a rotation runs
 * a Job (and needs `pods` list and `pods/log`, which the status engine and `berth logs` have already). No list or
 * watch anywhere: berth never enumerates Secrets, and it reads a StatefulSet's readiness by name.
 * The Secret names (`<resource>-connection`, and an external resource's Secret) come from stack
 * documents, so they cannot be pinned at install time; the rights stay inside the managed namespaces.
 */
function stackRights(): RequiredRight[] {
  return [
    { group: '', resource: 'secrets', verbs: ['get', 'create', 'patch', 'delete'], scope: 'namespace', why: 'stacks: read, write and delete the generated connection Secrets of resources (never listed); read the Secret an external resource names' },
    { group: 'apps', resource: 'statefulsets', verbs: ['get', 'create', 'patch', 'delete'], scope: 'namespace', why: 'stacks: apply and delete the PostgreSQL, Redis and S3 servers; wait until each has a ready replica (get)' },
    { group: '', resource: 'persistentvolumeclaims', verbs: ['delete'], scope: 'namespace', why: 'stacks: `berth delete --stack NAME --purge` deletes the servers\' data volumes (kept otherwise)' },
    { group: 'batch', resource: 'jobs', verbs: ['get', 'create', 'patch', 'delete'], scope: 'namespace', why: 'one-shot Jobs by name: `berth stack rotate` sets a PostgreSQL or Redis server\'s new password (docs/adr/0024) and `berth load --in-cluster` runs the hardened load generator (docs/adr/0025); create/patch them, read why one failed (get), delete them when done' },
  ];
}

/** Every right berth needs, in a stable order. */
export function requiredRights(opts: RightsOptions): RequiredRight[] {
  const names = [...new Set(opts.managedNamespaces)].sort();
  // An empty resourceNames list means "every name" to RBAC: never let it be rendered.
  if (names.length === 0) throw new BerthError('BERTH_CONFIG_INVALID', 'berth needs at least one managed namespace.', { hint: 'Pass --managed-namespaces, e.g. --managed-namespaces default.' });
  return [
    ...appKindRights(),
    { group: '', resource: 'pods/log', verbs: ['get'], scope: 'namespace', why: '`berth logs` / GET /v1/.../logs stream container logs; `berth load --in-cluster` follows its Job\'s generator' },
    // The load Job (src/load/loadJob.ts): applied suspended, then resumed once its NetworkPolicies (app
    // kind rights above) exist; read for its Failed condition; deleted when the run ends. Its pod is
    // found with the pods list right below. No list or watch of Jobs. Its jobs rule is the rotation
    // Job's, in stackRights().
    ...stackRights(),
    // The server runs with managedNamespaces (BERTH_MANAGED_NAMESPACES, set by the install), so the status
    // engine opens one informer per kind per managed namespace (/api/v1/namespaces/<ns>/pods, ...): its
    // list/watch rights are Role rules, and berth reads nothing outside the namespaces it manages.
    {
      group: '',
      resource: 'pods',
      verbs: ['list', 'watch'],
      scope: 'namespace',
      why: 'status engine: per-namespace pod informer (phases, restarts, reasons); `berth logs` and `berth delete` find the app\'s pods (listPods, waitForPodsGone)',
    },
    ...(['deployments', 'replicasets'] as const).map(
      (resource): RequiredRight => ({ group: 'apps', resource, verbs: ['list', 'watch'], scope: 'namespace', why: 'status engine: per-namespace informer (rollout state)' }),
    ),
    { group: '', resource: 'events', verbs: ['list', 'watch'], scope: 'namespace', why: 'status engine: per-namespace informers of Warning events, which explain failures, and of the HPAs\' events (when and why replicas changed)' },
    { group: 'autoscaling', resource: 'horizontalpodautoscalers', verbs: ['list', 'watch'], scope: 'namespace', why: 'status engine: per-namespace HPA informer (desired replicas and CPU, shown by `berth load`)' },
    // The server refuses every namespace it does not manage before it calls the cluster, so even
    // ensureNamespace reads only managed names; a name that does not exist yet is authorised by name all the same.
    { group: '', resource: 'namespaces', verbs: ['get'], scope: 'cluster', resourceNames: names, why: 'deploy checks the target namespace exists (ensureNamespace); only the managed namespaces' },
    // RBAC cannot limit create by name (the name is in the body, not the URL), so this one is any name.
    ...(opts.allowNamespaceCreate
      ? [{ group: '', resource: 'namespaces', verbs: ['create'], scope: 'cluster', why: 'deploy creates a missing target namespace (Pod Security restricted); opt-in' } satisfies RequiredRight]
      : []),
    // Several replicas elect one leader on a Lease in berth's own namespace (src/cluster/leaderElector.ts):
    // it reads, watches and renews only that Lease, so get, list, watch and update are pinned to its
    // name (followers list and watch it with the field selector metadata.name=berth-leader, which
    // kube-apiserver authorises against resourceNames like a get). RBAC cannot limit create by name
    // (the name is in the body, not the URL): create covers any Lease in berth's own namespace, where
    // nothing but berth runs. No patch or delete.
    ...(electsLeader(opts.replicas)
      ? [
          { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'list', 'watch', 'update'], scope: 'install', resourceNames: [LEADER_LEASE_NAME], why: 'leader election: read, watch (followers see each renewal) and renew (compare-and-swap) the leader Lease' } satisfies RequiredRight,
          { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'install', why: 'leader election: the first replica creates the leader Lease (RBAC cannot limit create by name)' } satisfies RequiredRight,
        ]
      : []),
  ];
}

export const REQUIRED_URLS: readonly RequiredUrl[] = [
  { path: '/version', why: '/readyz pings the API server' },
  { path: '/apis', why: 'discovery: is a kind (ServiceMonitor) served before applying it' },
  { path: '/api', why: 'discovery of the core group' },
];

/** One RBAC PolicyRule, as it appears in Roles and ClusterRoles. */
export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/** Folds rights with the same group, verbs and names into one rule each; order follows the input. */
export function toPolicyRules(rights: readonly RequiredRight[]): PolicyRule[] {
  const rules = new Map<string, { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }>();
  for (const r of rights) {
    const key = JSON.stringify([r.group, r.verbs, r.resourceNames ?? null]);
    const rule = rules.get(key);
    if (rule) {
      if (!rule.resources.includes(r.resource)) rule.resources.push(r.resource);
      continue;
    }
    rules.set(key, {
      apiGroups: [r.group],
      resources: [r.resource],
      verbs: [...r.verbs],
      ...(r.resourceNames !== undefined ? { resourceNames: [...r.resourceNames] } : {}),
    });
  }
  return [...rules.values()];
}
