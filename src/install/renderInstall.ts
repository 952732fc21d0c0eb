import { BerthError, problem, type Problem } from '../errors.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import { appLabels } from '../manifests/labels.ts';
import { renderApp } from '../manifests/renderApp.ts';
import type { AppSpec } from '../appspec/appSchema.ts';
import { API_VERSION, KIND } from '../appspec/defaults.ts';
import { DNS1123_LABEL } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { DEFAULT_SERVER_REPLICAS, electsLeader, requiredRights, toPolicyRules, type RequiredRight } from './requiredRights.ts';

type EgressInput = Exclude<NonNullable<NonNullable<AppSpec['spec']['network']>['egress']>, 'open'>;

/** berth's own image. The image's entrypoint is the `berth` CLI (bin/berth.js); it runs `berth server`. */
export const DEFAULT_BERTH_IMAGE = 'ghcr.io/berth-dev/berth:0.1.0';
export const DEFAULT_INSTALL_NAMESPACE = 'berth-system';
/** The name of berth's Deployment, Service, ServiceAccount, ... in its own namespace. */
export const BERTH_APP_NAME = 'berth';
/** Role and RoleBinding in each managed namespace. */
export const MANAGER_ROLE_NAME = 'berth-manager';
/** Role and RoleBinding in berth's own namespace: the leader Lease of several replicas. */
export const LEADER_ELECTION_ROLE_NAME = 'berth-leader-election';
/**
 * The fixed name of the ClusterRole and ClusterRoleBinding of earlier installs. Two installs in one
 * cluster overwrote each other's under it; the install now names them per install namespace
 * (namespacesClusterRoleName) and an upgrade removes this one when it is this install's.
 */
export const LEGACY_NAMESPACES_CLUSTER_ROLE_NAME = 'berth-namespaces';
/**
 * The cluster-wide read ClusterRole (and its binding) of earlier installs, whose status engine watched
 * every namespace. No longer rendered; `obsolete` in the plan names it so an upgrade can remove it.
 */
export const STATUS_CLUSTER_ROLE_NAME = 'berth-status-reader';
/**
 * The ClusterRole and ClusterRoleBinding of the install in `installNamespace`. Cluster-scoped objects
 * have no namespace to keep two installs apart, so the name carries it. A namespace name is at most 63
 * characters, so the result (at most 80) is always within the 253 allowed for RBAC object names.
 */
export function namespacesClusterRoleName(installNamespace: string): string {
  return `${LEGACY_NAMESPACES_CLUSTER_ROLE_NAME}-${installNamespace}`;
}

/** An RBAC subject: who a binding grants to. */
export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/**
 * A ClusterRoleBinding and its ClusterRole that an earlier install created and this one no longer
 * renders. Cluster-scoped names may be shared by several installs, so it is removed only when the
 * binding grants to exactly `subject` (this install's ServiceAccount); see obsoleteGrants.ts.
 */
export interface ObsoleteGrant {
  readonly clusterRoleBinding: string;
  readonly clusterRole: string;
  readonly subject: Subject;
}

export const DEFAULT_DATABASE_SECRET = { secret: 'berth-database', key: 'url' } as const;
/**
 * The Secret the operator creates with `berth token generate`; berth registers its token as the first
 * admin (BERTH_BOOTSTRAP_TOKEN). Optional, so the pods start without it.
 */
export const BOOTSTRAP_SECRET = { secret: 'berth-bootstrap', key: 'token' } as const;
/** The port berth listens on inside the pod (the Service serves it on 80). */
export const BERTH_CONTAINER_PORT = 8080;

export interface InstallOptions {
  /** Where berth itself runs (default berth-system). */
  readonly namespace?: string;
  /** Namespaces berth may deploy into; each gets a Role and RoleBinding. At least one. */
  readonly managedNamespaces: readonly string[];
  readonly image?: string;
  /** Grant `create` on namespaces (cluster-wide; RBAC cannot scope create by name). Default false. */
  readonly allowNamespaceCreate?: boolean;
  /**
   * Server replicas (default 2, so a PodDisruptionBudget keeps one serving during node drains). More
   * than one elect a leader on the Lease berth-leader in berth's own namespace: only the leader
   * reconciles, probes and notifies; every replica serves the API.
   */
  readonly replicas?: number;
  /**
   * Where the store lives. Default: PostgreSQL, its URL (with password) read from Secret
   * berth-database key url, so the credential never sits in a ConfigMap or in berth's manifests.
   * 'ephemeral-sqlite': SQLite in the pod's /tmp, for evaluation only; state is lost with the pod,
   * so it runs one replica (two pods would each have their own database): asking for more is refused.
   */
  readonly database?: { readonly secret: string; readonly key: string } | 'ephemeral-sqlite';
  /**
   * Egress besides DNS. Default: TCP 443 and 6443 (Kubernetes API server, OIDC JWKS) and 5432
   * (PostgreSQL) to any address; narrow the CIDR to the API server and database in an overlay.
   */
  readonly egress?: EgressInput;
}

export interface InstallPlan {
  readonly objects: KubeObject[];
  /** Spec warnings for berth's own App (e.g. an unpinned image tag). */
  readonly warnings: Problem[];
  /** The rights the rendered RBAC grants (the input of `berth rbac check`). */
  readonly rights: RequiredRight[];
  /**
   * Cluster-scoped grants earlier berth installs created that this one no longer renders: applying the
   * plan over an old install leaves them (and their rights) behind until they are deleted.
   */
  readonly obsolete: readonly ObsoleteGrant[];
}

const DEFAULT_EGRESS: EgressInput = [{ cidr: '0.0.0.0/0', ports: [443, 5432, 6443], protocol: 'TCP' }];

function invalid(problems: Problem[]): BerthError {
  return new BerthError('BERTH_CONFIG_INVALID', `${problems.length} install option problem${problems.length === 1 ? '' : 's'}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { problems });
}

/** Replicas share their state through the store: several pods on per-pod SQLite files would each see other data. */
function checkReplicas(opts: InstallOptions): void {
  if (opts.database !== 'ephemeral-sqlite' || opts.replicas === undefined || opts.replicas <= 1) return;
  const hint = 'Drop --ephemeral-sqlite and point berth at PostgreSQL (--database-secret NAME:KEY), or install one replica (--replicas 1).';
  throw new BerthError('BERTH_HA_SQLITE_REPLICAS', `replicas is ${opts.replicas}, but an ephemeral SQLite store cannot be shared between replicas`, {
    hint,
    problems: [problem('BERTH_HA_SQLITE_REPLICAS', '/replicas', `${opts.replicas} replicas need PostgreSQL; the ephemeral SQLite store is one pod's own`, { value: opts.replicas, hint })],
  });
}

function checkOptions(namespace: string, managed: readonly string[]): void {
  const problems: Problem[] = [];
  const name = new RegExp(DNS1123_LABEL.source);
  if (!name.test(namespace) || namespace.length > 63) problems.push(problem('BERTH_CONFIG_INVALID', '/namespace', `"${namespace}" is not a valid namespace name`, { value: namespace }));
  if (managed.length === 0) problems.push(problem('BERTH_CONFIG_INVALID', '/managedNamespaces', 'at least one managed namespace is needed', { hint: 'Pass --managed-namespaces, e.g. --managed-namespaces default.' }));
  managed.forEach((ns, i) => {
    if (!name.test(ns) || ns.length > 63) problems.push(problem('BERTH_CONFIG_INVALID', `/managedNamespaces/${i}`, `"${ns}" is not a valid namespace name`, { value: ns }));
    // An app deployed next to berth could take over berth's own objects (an App named "berth" would
    // force-apply over berth's Deployment), so berth never manages its own namespace.
    if (ns === namespace) problems.push(problem('BERTH_CONFIG_INVALID', `/managedNamespaces/${i}`, `berth must not manage its own namespace "${namespace}"`, { value: ns, hint: 'Install berth into a namespace of its own.' }));
  });
  if (problems.length > 0) throw invalid(problems);
}

/** berth's own App spec: berth is deployed through its own renderer, so it gets every hardened default. */
function berthAppDocument(opts: InstallOptions, namespace: string, managed: readonly string[]): Record<string, unknown> {
  const database = opts.database ?? DEFAULT_DATABASE_SECRET;
  const ephemeral = database === 'ephemeral-sqlite';
  const replicas = serverReplicas(opts);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name: BERTH_APP_NAME, namespace },
    spec: {
      image: opts.image ?? DEFAULT_BERTH_IMAGE,
      args: ['server'],
      replicas,
      port: BERTH_CONTAINER_PORT,
      env: {
        // 0.0.0.0 inside the pod: the Service and the kubelet's probes reach it over the pod network;
        // the NetworkPolicy, not the bind address, limits who may connect.
        BERTH_HOST: '0.0.0.0',
        BERTH_PORT: String(BERTH_CONTAINER_PORT),
        BERTH_LOG_LEVEL: 'info',
        // The server deploys and watches only here: its RBAC (Roles per managed namespace) covers nothing else.
        BERTH_MANAGED_NAMESPACES: managed.join(','),
        ...(ephemeral ? { BERTH_DATABASE_URL: 'sqlite:/tmp/berth.db' } : {}),
        // Several replicas elect their leader on a Lease here; each names itself by its pod (POD_NAME, below).
        ...(electsLeader(replicas) ? { BERTH_LEADER_ELECTION_NAMESPACE: namespace } : {}),
      },
      ...(ephemeral ? {} : { secretEnv: { BERTH_DATABASE_URL: { secret: database.secret, key: database.key } } }),
      // Informer caches of the managed namespaces' berth Deployments, ReplicaSets, Pods and Warning events live in memory.
      resources: { cpu: '100m', memory: '256Mi' },
      ...(ephemeral ? { tmp: { sizeLimit: '256Mi' } } : {}),
      network: { allowFrom: [{ ingress: true }], egress: opts.egress ?? DEFAULT_EGRESS },
    },
  };
}

/** The server Deployment's replicas: as asked, default 2; an ephemeral SQLite store runs exactly one. */
function serverReplicas(opts: InstallOptions): number {
  return opts.database === 'ephemeral-sqlite' ? 1 : (opts.replicas ?? DEFAULT_SERVER_REPLICAS);
}

function resolveBerthApp(opts: InstallOptions, namespace: string, managed: readonly string[]): { app: ResolvedApp; warnings: Problem[] } {
  const v = validateApp(berthAppDocument(opts, namespace, managed));
  const app = v.apps[0];
  if (v.problems.length > 0 || app === undefined) throw invalid(v.problems);
  return { app, warnings: v.warnings };
}

/**
 * What berth's own pods need beyond an app's hardened defaults; the App spec has no field for either
 * (apps should not have them), so they are set here, on berth's Deployment only:
 * - its ServiceAccount token: berth calls the Kubernetes API. Switched on at the pod, not at the
 *   ServiceAccount, so no other pod naming the ServiceAccount gets it. The token is the kubelet's
 *   bound, expiring, audience-scoped projection.
 * - BERTH_BOOTSTRAP_TOKEN from the Secret berth-bootstrap, `optional: true` so the pods also start
 *   without it. The kubelet injects it: berth needs no right to read Secrets through the API.
 * - with several replicas, POD_NAME from the downward API: each replica's identity in the leader
 *   Lease, so `kubectl get lease berth-leader` names the leading pod.
 */
function withBerthPodNeeds(obj: KubeObject, leaderElection: boolean): KubeObject {
  if (obj.kind !== 'Deployment') return obj;
  const spec = obj['spec'] as { template: { spec: { containers: Array<Record<string, unknown>> } & Record<string, unknown> } } & Record<string, unknown>;
  const bootstrapEnv = { name: 'BERTH_BOOTSTRAP_TOKEN', valueFrom: { secretKeyRef: { name: BOOTSTRAP_SECRET.secret, key: BOOTSTRAP_SECRET.key, optional: true } } };
  const podNameEnv = { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } };
  const extra = leaderElection ? [bootstrapEnv, podNameEnv] : [bootstrapEnv];
  const containers = spec.template.spec.containers.map((c) => ({ ...c, env: [...((c['env'] as unknown[] | undefined) ?? []), ...extra] }));
  return { ...obj, spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, automountServiceAccountToken: true, containers } } } };
}

/** The ServiceAccount every binding of the install in `namespace` grants to. */
export function berthSubject(namespace: string): Subject {
  return { kind: 'ServiceAccount', name: BERTH_APP_NAME, namespace };
}

/**
 * Renders berth's own installation: its Namespace, ServiceAccount, RBAC, ConfigMap, Service,
 * Deployment, PodDisruptionBudget and NetworkPolicy, dependencies first. Pure and deterministic.
 *
 * RBAC (see requiredRights.ts for the why of every verb):
 * - a Role + RoleBinding "berth-manager" in each managed namespace: the app kinds berth renders
 *   (get, list, create, patch, delete), pods/log (get), and list + watch of pods, deployments,
 *   replicasets and events for the status engine, which berth's Deployment runs per managed namespace
 *   (BERTH_MANAGED_NAMESPACES). No Secrets at all: berth only references Secrets by name in secretEnv
 *   and the kubelet reports a missing one as an event (CreateContainerConfigError) that the status
 *   engine already explains. No pods/exec, no update, no wildcards, no rights on RBAC objects.
 * - ClusterRole and ClusterRoleBinding "berth-namespaces-<install namespace>": get on exactly the
 *   managed namespaces (deploy checks the target exists); with allowNamespaceCreate, also create on
 *   namespaces (RBAC cannot limit create by name). Nothing else is cluster-wide.
 * - with more than one replica, a Role + RoleBinding "berth-leader-election" in berth's own
 *   namespace: get, list, watch and update on the Lease berth-leader, and create on leases (RBAC cannot limit
 *   create by name). The Deployment then runs with BERTH_LEADER_ELECTION_NAMESPACE and POD_NAME, and
 *   the app renderer adds its PodDisruptionBudget and topology spread (2 or more replicas).
 */
export function planInstall(opts: InstallOptions): InstallPlan {
  const namespace = opts.namespace ?? DEFAULT_INSTALL_NAMESPACE;
  // Checked as given, so a problem's index points at what the caller wrote.
  checkOptions(namespace, opts.managedNamespaces);
  checkReplicas(opts);
  const managed = [...new Set(opts.managedNamespaces)].sort();
  const { app, warnings } = resolveBerthApp(opts, namespace, managed);
  const labels = appLabels(app);
  const replicas = serverReplicas(opts);
  const rights = requiredRights({ managedNamespaces: managed, allowNamespaceCreate: opts.allowNamespaceCreate ?? false, replicas });
  const namespaced = rights.filter((r) => r.scope === 'namespace');
  const clusterRights = rights.filter((r) => r.scope === 'cluster');
  const ownRights = rights.filter((r) => r.scope === 'install');

  const clusterRole = (name: string, list: readonly RequiredRight[]): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels },
    rules: toPolicyRules(list),
  });
  const binding = (kind: 'ClusterRoleBinding' | 'RoleBinding', name: string, roleKind: 'ClusterRole' | 'Role', ns?: string): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name, ...(ns !== undefined ? { namespace: ns } : {}), labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name },
    subjects: [berthSubject(namespace)],
  });
  const clusterName = namespacesClusterRoleName(namespace);
  const rbac: KubeObject[] = [
    clusterRole(clusterName, clusterRights),
    binding('ClusterRoleBinding', clusterName, 'ClusterRole'),
    ...managed.flatMap((ns): KubeObject[] => [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: MANAGER_ROLE_NAME, namespace: ns, labels }, rules: toPolicyRules(namespaced) },
      binding('RoleBinding', MANAGER_ROLE_NAME, 'Role', ns),
    ]),
    ...(ownRights.length > 0
      ? [
          { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: LEADER_ELECTION_ROLE_NAME, namespace, labels }, rules: toPolicyRules(ownRights) } satisfies KubeObject,
          binding('RoleBinding', LEADER_ELECTION_ROLE_NAME, 'Role', namespace),
        ]
      : []),
  ];

  // The Namespace carries Pod Security "restricted" (enforce, warn, audit) like every berth namespace.
  const own = renderApp(app, { includeNamespace: true }).map((o) => withBerthPodNeeds(o, electsLeader(replicas)));
  const sa = own.findIndex((o) => o.kind === 'ServiceAccount');
  // Rights exist before the pods that use them start.
  const objects = [...own.slice(0, sa + 1), ...rbac, ...own.slice(sa + 1)];
  const obsolete: ObsoleteGrant[] = [STATUS_CLUSTER_ROLE_NAME, LEGACY_NAMESPACES_CLUSTER_ROLE_NAME].map((name) => ({
    clusterRoleBinding: name,
    clusterRole: name,
    subject: berthSubject(namespace),
  }));
  return { objects, warnings, rights, obsolete };
}

/** The objects of planInstall: what `berth install --print` prints and deploy/kustomize holds. */
export function renderInstall(opts: InstallOptions): KubeObject[] {
  return planInstall(opts).objects;
}
