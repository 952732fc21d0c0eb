/**
 * Wire types of the health API (GET /v1/namespaces/:ns/apps/:name/health and .../health/series); the
 * API and the CLI re-export and read exactly these.
 */
import type { ProbeBucket, ProbeErrorKind } from './probeMinute.ts';

/** One alert of the app, as the alert domain reports it (its list API returns the same shape). */
export interface AlertSummary {
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly rule: string;
  readonly severity: 'page' | 'ticket';
  readonly state: 'pending' | 'firing' | 'resolved';
  readonly since: string;
  readonly value: number;
  readonly summary: string;
}

export interface LastProbe {
  /** ISO-8601 time the probe finished. */
  readonly at: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly error?: ProbeErrorKind;
  readonly latencyMs: number;
}

export interface HealthWindow {
  readonly total: number;
  readonly failed: number;
  /** failed / total; null without probes. */
  readonly errorRatio: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface AppHealth {
  /** spec.health.enabled. */
  readonly enabled: boolean;
  /** Where the probes go (or would go): the Service's ClusterIP, the Ingress host, or spec.health.url. */
  readonly target: { readonly kind: ProbeBucket['target']; readonly url: string };
  readonly lastProbe: LastProbe | null;
  /** The last 60 minutes, the current one included. */
  readonly lastHour: HealthWindow;
  /** 60 per-minute error ratios, oldest first (the last is the current minute); null: no probes that minute. */
  readonly sparkline: readonly (number | null)[];
  readonly firingAlerts: readonly AlertSummary[];
}

export type SeriesStep = '1m' | '1h';

export interface HealthPoint extends HealthWindow {
  /** ISO-8601 start of the minute or hour. */
  readonly start: string;
  readonly byClass: ProbeBucket['byClass'];
  readonly errors: ProbeBucket['errors'];
}

export interface HealthSeries {
  readonly step: SeriesStep;
  /** Oldest first; only minutes or hours with probes. */
  readonly points: readonly HealthPoint[];
}
