/**
 * What berth tells a user about an app's rollout. Computed from shared informers (one watch per kind),
 * never by polling. `state` is the one word a UI colours; `reason` is typed so CI scripts and tests can
 * match on it; `message` is plain words a person can act on.
 */

export type RolloutState = 'Pending' | 'Progressing' | 'Available' | 'Degraded' | 'Failed';

export type RolloutReason =
  // healthy / in-flight
  | 'Deploying'
  | 'RollingUpdate'
  | 'ScalingReplicaSet'
  | 'WaitingForReady'
  | 'Ready'
  | 'ScaledToZero'
  // failures (Failed when certain, Degraded when an older revision still serves)
  | 'ImagePullFailed'
  | 'CrashLooping'
  | 'OOMKilled'
  | 'ConfigError'
  | 'ForbiddenByPodSecurity'
  | 'QuotaExceeded'
  | 'Unschedulable'
  | 'ProbeFailing'
  | 'ProgressDeadlineExceeded'
  // objects missing or changed outside berth
  | 'NotFound'
  | 'Drifted';

export interface ReplicaCounts {
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
  readonly available: number;
  readonly unavailable: number;
}

export interface PodSummary {
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly restarts: number;
  readonly node: string | null;
  readonly ip: string | null;
  /** True when the pod belongs to the newest ReplicaSet of the Deployment. */
  readonly current: boolean;
  /** e.g. ImagePullBackOff, CrashLoopBackOff, CreateContainerConfigError. */
  readonly waitingReason: string | null;
  readonly waitingMessage: string | null;
  readonly lastTermination: { readonly exitCode: number; readonly reason: string | null; readonly finishedAt: string | null } | null;
}

export interface WarningEvent {
  readonly reason: string;
  readonly message: string;
  /** "Pod/hello-7d9c-abcde" */
  readonly object: string;
  readonly count: number;
  readonly lastTimestamp: string | null;
}

/** One replica change the HPA made or failed to make (its SuccessfulRescale / FailedRescale events). */
export interface ScalingEventSummary {
  /** When it happened (the event's last timestamp). */
  readonly at: string;
  readonly reason: string;
  /** "New size: 3; reason: cpu resource utilization (percentage of request) above target" */
  readonly message: string;
  readonly newSize: number | null;
}

/** What the app's HorizontalPodAutoscaler wants and measured. */
export interface AutoscalingStatus {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly currentReplicas: number | null;
  /** The replica count the HPA last computed. */
  readonly desiredReplicas: number | null;
  /** Average CPU use of the pods, in percent of their request; null until metrics arrive. */
  readonly cpuUtilization: number | null;
  readonly targetCpuUtilization: number | null;
  readonly lastScaleTime: string | null;
  /** Newest first, at most 20. */
  readonly events: readonly ScalingEventSummary[];
}

export interface AppStatus {
  readonly namespace: string;
  readonly name: string;
  /** berth revision from the Deployment's `berth.dev/revision` annotation; null when unknown. */
  readonly revision: number | null;
  readonly state: RolloutState;
  readonly reason: RolloutReason;
  readonly message: string;
  readonly replicas: ReplicaCounts;
  readonly pods: readonly PodSummary[];
  /** Recent Warning events for the app's Deployment, ReplicaSets and Pods, newest first (at most 20). */
  readonly warnings: readonly WarningEvent[];
  /** The app's HorizontalPodAutoscaler, when it autoscales. */
  readonly autoscaling?: AutoscalingStatus;
  /** When this status was computed. */
  readonly observedAt: string;
}

export interface StatusEvent {
  /** Monotonic, starting at the process's start time, usable as SSE `id` and `Last-Event-ID`. */
  readonly id: number;
  readonly type: 'status' | 'deleted';
  readonly namespace: string;
  readonly name: string;
  /** Present for `status`. */
  readonly status?: AppStatus;
}

export interface StatusFilter {
  readonly namespace?: string;
  readonly name?: string;
  /** Only events for these namespaces (authorization uses this); undefined = all. */
  readonly namespaces?: ReadonlySet<string>;
}

/** The status engine: shared informers in, per-app status and a change stream out. */
export interface StatusEngine {
  /** Starts the informers; resolves once every initial list has been received. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once every informer has listed at least once (used by /readyz). */
  synced(): boolean;
  get(namespace: string, name: string): AppStatus | undefined;
  list(filter?: StatusFilter): AppStatus[];
  /**
   * Calls `listener` for every change matching `filter`. With `afterId`, first replays buffered events
   * newer than it (SSE Last-Event-ID resume). Returns the unsubscribe function.
   */
  subscribe(filter: StatusFilter, listener: (event: StatusEvent) => void, opts?: { readonly afterId?: number }): () => void;
  /** Resolves with the first status (current or future) for which `done` is true; rejects on timeout or abort. */
  waitFor(namespace: string, name: string, done: (status: AppStatus) => boolean, opts: { readonly timeoutMs: number; readonly signal?: AbortSignal }): Promise<AppStatus>;
  /** For /metrics and the benchmark: watch connections held does not grow with subscribers. */
  stats(): { readonly watchConnections: number; readonly reconnects: number; readonly subscribers: number };
}
