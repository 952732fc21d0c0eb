/**
 * Wire types of the load generator: what `berth load` prints with `-o json`, what the in-cluster Job
 * writes as JSON lines, and what the server stores as a load run (the dashboard charts it).
 */

/** Why a request produced no HTTP response. */
export type LoadErrorKind = 'timeout' | 'refused' | 'reset' | 'dns' | 'tls' | 'other';
export const LOAD_ERROR_KINDS: readonly LoadErrorKind[] = ['timeout', 'refused', 'reset', 'dns', 'tls', 'other'];

/** Latency quantiles in milliseconds, measured from each request's intended send time (ADR 0014). */
export interface LatencyQuantiles {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
}

/** One second of a run, on the run's time axis (second 0 starts when the first request is due). */
export interface LoadSecond {
  /** Seconds since the run started. */
  readonly t: number;
  /** Requests the schedule asked for in this second. */
  readonly asked: number;
  /** Requests put on the wire in this second. */
  readonly sent: number;
  /** Responses (any status) and transport errors that completed in this second. */
  readonly completed: number;
  /** Completions that count as failed: transport errors and HTTP status ≥ 400. */
  readonly errors: number;
  /** Requests sent more than the late threshold after their intended time. */
  readonly late: number;
  /** Requests never sent: the concurrency cap was reached and the wait queue was full. */
  readonly dropped: number;
  /** p99 (ms) of the requests completed in this second; null when none completed. */
  readonly p99Ms: number | null;
  readonly p50Ms: number | null;
}

/** The target app's replicas at one moment (from the berth server's status stream). */
export interface ReplicaPoint {
  readonly t: number;
  /** Pods ready. */
  readonly ready: number;
  /** What the Deployment asks for. */
  readonly desired: number;
  /** What the HPA last computed, when the app autoscales. */
  readonly hpaDesired: number | null;
  /** Average CPU utilization in percent of the request, from the HPA. */
  readonly cpuUtilization: number | null;
}

/** One replica change the HPA made (its SuccessfulRescale / FailedRescale events). */
export interface ScalingEvent {
  /** ISO-8601. */
  readonly at: string;
  /** Seconds since the run started (negative: before it). */
  readonly t: number;
  readonly from: number | null;
  readonly to: number | null;
  readonly reason: string;
  readonly message: string;
}

export interface LoadSummary {
  readonly target: string;
  readonly method: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Requests the schedule asked for. */
  readonly asked: number;
  readonly sent: number;
  readonly completed: number;
  readonly errors: number;
  readonly late: number;
  readonly dropped: number;
  /** Requests per second the schedule asked for, over the run. */
  readonly askedRate: number;
  /** Completed requests per second. */
  readonly achievedRate: number;
  /** completed errors / completed (0 when nothing completed). */
  readonly errorRatio: number;
  readonly latency: LatencyQuantiles;
  /** HTTP status → count. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errorsByKind: Readonly<Partial<Record<LoadErrorKind, number>>>;
  /** Threads that generated the load. */
  readonly workers: number;
}

/** A run as the server stores it (bounded: see MAX_SERIES_POINTS). */
export interface LoadRunInput {
  readonly summary: LoadSummary;
  readonly series: readonly LoadSecond[];
  readonly replicas: readonly ReplicaPoint[];
  readonly scalingEvents: readonly ScalingEvent[];
  /** The thresholds given and whether each held. */
  readonly thresholds: readonly ThresholdResult[];
  readonly inCluster: boolean;
}

export interface LoadRun extends LoadRunInput {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
}

/** The list form: no series. */
export interface LoadRunListItem {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly recordedAt: string;
  readonly recordedBy: string;
  readonly summary: LoadSummary;
  readonly passed: boolean;
}

export interface ThresholdResult {
  /** As written: "p99>500ms". */
  readonly expression: string;
  readonly actual: number;
  /** True when the run breached it. */
  readonly failed: boolean;
}

/** Series longer than this are halved (adjacent seconds merged) before they are stored or sent. */
export const MAX_SERIES_POINTS = 1800;
export const MAX_SCALING_EVENTS = 200;

/** What the server streams (NDJSON) while it runs `berth load --in-cluster` (POST …/loadjobs). */
export type LoadJobEvent =
  /** The Job exists and was let go. */
  | { readonly type: 'job'; readonly job: string; readonly image: string }
  /** The generator's container started. */
  | { readonly type: 'running'; readonly pod: string }
  | { readonly type: 'second'; readonly second: LoadSecond };

export type LoadJobStreamEvent =
  | LoadJobEvent
  /** The end: the run (recorded when asked, then with its id); the Job is deleted. */
  | { readonly type: 'result'; readonly run: LoadRunInput; readonly id?: string; readonly notRecorded?: string }
  /** The end when the run failed (a coded error, as API errors carry them); the Job is deleted. */
  | { readonly type: 'error'; readonly error: { readonly code: string; readonly message: string; readonly hint: string } };
