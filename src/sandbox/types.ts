/**
 * Contracts inside the sandbox cluster. The API server (src/sandbox/apiserver) owns storage, REST,
 * watch, patch/apply, validation and admission; controllers and the simulated kubelet
 * (src/sandbox/controllers, src/sandbox/kubelet) act on the cluster only through `ClusterClient`,
 * which runs the same validation and admission as an HTTP request, exactly as kube-controller-manager
 * and kubelet go through kube-apiserver.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

/** Any Kubernetes object as JSON. Kind-specific code narrows `spec`/`status` itself. */
export interface KObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Identifies a REST resource: group "" is core. `resource` is the lower-case plural ("deployments"). */
export interface ResourceKey {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: KObject;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Start after this resourceVersion; omitted means "from now" (no initial ADDED replay). */
  resourceVersion?: string;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  /** Only for apply patches. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

/** The Kubernetes `Status` object every error is answered with. */
export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason: string; message: string; field?: string }[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** Thrown by the API server internals and by `ClusterClient`; carries the Status to answer with. */
export class ApiError extends Error {
  readonly status: StatusObject;
  constructor(status: StatusObject) {
    super(status.message);
    this.name = 'ApiError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason;
  }
}

/**
 * In-process access to the cluster for controllers and the kubelet. Every write goes through the
 * same defaulting, validation, admission (Pod Security, NamespaceLifecycle) and watch fan-out as an
 * HTTP request; failures throw `ApiError`.
 */
export interface ClusterClient {
  get(res: ResourceKey, namespace: string | undefined, name: string): Promise<KObject | undefined>;
  list(res: ResourceKey, opts?: ListOptions): Promise<{ items: KObject[]; resourceVersion: string }>;
  create(res: ResourceKey, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /** Replaces the object; 409 Conflict when metadata.resourceVersion is stale. */
  update(res: ResourceKey, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  /** Replaces only `.status` (the status subresource); spec changes in `obj` are ignored. */
  updateStatus(res: ResourceKey, obj: KObject, opts?: WriteOptions): Promise<KObject>;
  patch(
    res: ResourceKey,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    opts?: WriteOptions & { subresource?: 'status' | 'scale' },
  ): Promise<KObject>;
  delete(res: ResourceKey, namespace: string | undefined, name: string, opts?: DeleteOptions): Promise<KObject | undefined>;
  /** POSTs to a subresource that takes a body, e.g. pods/binding (scheduler) or pods/eviction. */
  createSubresource(
    res: ResourceKey,
    namespace: string,
    name: string,
    subresource: 'binding' | 'eviction',
    body: KObject,
  ): Promise<KObject | StatusObject>;
  /**
   * Subscribes to changes. With `resourceVersion`, replays history after it (ApiError 410 when it is
   * compacted); returns an unsubscribe function. Events are delivered in resourceVersion order.
   */
  watch(res: ResourceKey, opts: WatchOptions, onEvent: (ev: WatchEvent) => void): () => void;
}

/** Per-pod resource usage, supplied by the process runtime's /proc sampling; the HPA controller reads it. */
export interface PodMetricsSource {
  /** CPU in millicores and memory in bytes per container, or undefined when not yet known. */
  podUsage(namespace: string, name: string): { containers: { name: string; cpuMillis: number; memoryBytes: number }[] } | undefined;
}

/** A running controller or kubelet loop. */
export interface Controller {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps?: boolean;
  previous?: boolean;
  limitBytes?: number;
}

export interface LogLine {
  /** RFC 3339 with nanoseconds, as kubelet's `timestamps=true` prints it. */
  time: string;
  line: string;
}

/**
 * Where `pods/{name}/log` reads from: the simulated kubelet (synthetic start-up lines) for simulated
 * images, real process output for images the process runtime runs. Throws ApiError (400 BadRequest) for an unknown or not-yet-started
 * container, with kube-apiserver's message text. Ends when `signal` aborts (follow) or at the end.
 */
export interface PodLogSource {
  read(namespace: string, pod: string, opts: PodLogOptions, signal: AbortSignal): AsyncIterable<LogLine>;
}
