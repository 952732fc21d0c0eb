import type { Readable } from 'node:stream';
import type { Problem } from '../errors.ts';
import type { ObjectMeta } from '../kube/objectMeta.ts';
import type { KubeObject } from '../manifests/kubeObject.ts';
import type { ObjectRef } from '../store/types.ts';

/** Kinds berth renders for an app, in renderer order: what prune, delete and drift look at. */
export const APP_KINDS: ReadonlyArray<{ readonly apiVersion: string; readonly kind: string }> = [
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' },
  // health.cronjob's prober (src/manifests/renderProbeCronJob.ts).
  { apiVersion: 'batch/v1', kind: 'CronJob' },
];

/** Labels that mark an object as berth's for one app (see src/manifests/labels.ts). */
export function appSelector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/managed-by': 'berth' };
}

/** Labels of the app's pods: the Deployment's selector (selectorLabels in src/manifests/labels.ts). */
export function podSelector(name: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': name };
}

export interface ClusterApplyResult {
  /** The server's answer per applied object (for a dry run: what the object would become). */
  readonly objects: readonly KubeObject[];
  /** Objects of kinds the cluster does not serve (monitoring CRDs missing); never an error. */
  readonly skipped: readonly ObjectRef[];
  /** One BERTH_CLUSTER_KIND_UNSUPPORTED warning per skipped object. */
  readonly warnings: readonly Problem[];
}

/** One container's state as the kubelet reports it (`status.containerStatuses[].state`). */
export interface ContainerStateInfo {
  readonly name: string;
  /** ContainerCreating, ErrImagePull, ImagePullBackOff, CreateContainerConfigError, ... */
  readonly waiting?: { readonly reason: string; readonly message: string };
  readonly running?: boolean;
  /** Completed, Error, OOMKilled, ... */
  readonly terminated?: { readonly reason: string; readonly exitCode: number; readonly message: string };
}

export interface PodInfo {
  readonly name: string;
  readonly containers: readonly string[];
  readonly creationTimestamp: string | null;
  /** Pending, Running, Succeeded, Failed (absent from doubles that do not model it). */
  readonly phase?: string;
  readonly containerStates?: readonly ContainerStateInfo[];
}

export interface LogRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly follow?: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  readonly previous?: boolean;
  readonly timestamps?: boolean;
}

export interface DeleteOptions {
  readonly propagationPolicy: 'Foreground' | 'Background';
}

/**
 * Everything berth's deploy engine and API need from a Kubernetes cluster, and nothing more. The real
 * implementation (kubeClusterClient.ts) uses @kubernetes/client-node; every failure is a BerthError
 * (BERTH_CLUSTER_UNREACHABLE / _FORBIDDEN / _REJECTED).
 */
export interface ClusterClient {
  /** Throws BERTH_CLUSTER_UNREACHABLE when the API server does not answer (used by /readyz). */
  ping(): Promise<void>;
  namespaceExists(name: string): Promise<boolean>;
  /**
   * Creates the namespace labelled Pod Security `restricted` (enforce, warn, audit) when missing. An
   * existing namespace is never relabelled: its owner chose its policy. Resolves true when it was created.
   */
  ensureNamespace(name: string): Promise<boolean>;
  /** Server-side apply (fieldManager "berth", force) in the given order; unserved kinds are skipped. */
  apply(objects: readonly KubeObject[]): Promise<ClusterApplyResult>;
  /** As apply with dryRun=All: nothing persists, but admission and validation answer as for real. */
  dryRunApply(objects: readonly KubeObject[]): Promise<ClusterApplyResult>;
  /** The live object, as plain JSON; undefined when it (or its kind) does not exist. */
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  /** Every object of the kinds in APP_KINDS carrying the app's labels, in APP_KINDS order. */
  listAppObjects(namespace: string, name: string): Promise<KubeObject[]>;
  /** Deletes each object (already-gone ones are not in the result). */
  delete(refs: readonly ObjectRef[], opts: DeleteOptions): Promise<ObjectRef[]>;
  /** Resolves once no pod matching the labels exists in the namespace; BERTH_ROLLOUT_TIMEOUT after timeoutMs. */
  waitForPodsGone(namespace: string, selector: Readonly<Record<string, string>>, opts: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<void>;
  listPods(namespace: string, selector: Readonly<Record<string, string>>): Promise<PodInfo[]>;
  /** A stream of the container's log bytes; ends when the log ends (or, with follow, when the container stops or `signal` aborts). */
  streamLogs(req: LogRequest, signal: AbortSignal): Promise<Readable>;
}

export function refOf(obj: { readonly apiVersion: string; readonly kind: string; readonly metadata: Pick<ObjectMeta, 'name' | 'namespace'> }): ObjectRef {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name,
  };
}

export function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function selectorString(selector: Readonly<Record<string, string>>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
