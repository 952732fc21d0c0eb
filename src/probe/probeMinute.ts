/**
 * What the prober records: one bucket per app per minute (and, rolled up, per hour). The alert rules
 * (src/alerts), the health API and the dashboard read these buckets, never individual samples, so a
 * probe costs one counter increment and alert evaluation costs O(minutes in the window).
 */

/** Why a probe failed. `status5xx` and `unexpectedStatus` got a response; the others did not. */
export type ProbeErrorKind = 'timeout' | 'connect' | 'status5xx' | 'unexpectedStatus';

export const PROBE_ERROR_KINDS: readonly ProbeErrorKind[] = ['timeout', 'connect', 'status5xx', 'unexpectedStatus'];

/** Upper bounds (ms) of the latency histogram's buckets; the last bucket is everything above. */
export const PROBE_LATENCY_BOUNDS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface ProbeBucket {
  readonly namespace: string;
  readonly name: string;
  /** Start of the bucket, epoch ms, aligned to the minute (or hour for rolled-up buckets). */
  readonly start: number;
  /** Probes that finished in this bucket. */
  readonly total: number;
  /** Probes that failed (any kind); `failed / total` is the bucket's error ratio. */
  readonly failed: number;
  /** Responses by status class; probes without a response are in `errors` only. */
  readonly byClass: Readonly<{ '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number }>;
  readonly errors: Readonly<Record<ProbeErrorKind, number>>;
  /** Counts per PROBE_LATENCY_BOUNDS_MS bucket plus one overflow bucket (length bounds + 1). */
  readonly latency: readonly number[];
  /** Where the probes went: 'service' (in-cluster ClusterIP), 'ingress', or 'url' (spec.health.url). */
  readonly target: 'service' | 'ingress' | 'url';
}

/** The read side alert rules and the API need: buckets of one app in [from, to), oldest first. */
export interface ProbeBucketReader {
  minutes(namespace: string, name: string, from: number, to: number): Promise<readonly ProbeBucket[]>;
  hours(namespace: string, name: string, from: number, to: number): Promise<readonly ProbeBucket[]>;
}
