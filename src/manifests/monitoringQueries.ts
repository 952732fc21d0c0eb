import { DURATION_METRIC, REQUESTS_METRIC } from '../appspec/defaults.ts';
import { parseDuration } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { appLabels } from './labels.ts';

/**
 * The PromQL building blocks the PrometheusRule and the Grafana dashboard share, so both read the
 * same series the same way.
 *
 * Series are selected by the `namespace` and `service` target labels, the ones the Prometheus
 * Operator attaches to everything a ServiceMonitor scrapes (the Service is named after the app).
 */
export function requestSelector(app: ResolvedApp, extra = ''): string {
  const base = `namespace="${app.metadata.namespace}",service="${app.metadata.name}"`;
  return extra === '' ? base : `${base},${extra}`;
}

/** Server errors: what the availability objective counts as failed requests. */
export const ERROR_CODES = 'code=~"5.."';

/** Share of requests answered with a 5xx over `window` (a PromQL range such as `5m` or `$__rate_interval`). */
export function errorRatioExpr(app: ResolvedApp, window: string): string {
  const errors = `sum(rate(${REQUESTS_METRIC}{${requestSelector(app, ERROR_CODES)}}[${window}]))`;
  const total = `sum(rate(${REQUESTS_METRIC}{${requestSelector(app)}}[${window}]))`;
  return `(${errors}) / (${total})`;
}

/** Latency quantile from the conventional request-duration histogram. */
export function latencyQuantileExpr(app: ResolvedApp, quantile: number, window: string): string {
  return `histogram_quantile(${quantile}, sum by (le) (rate(${DURATION_METRIC}_bucket{${requestSelector(app)}}[${window}])))`;
}

/** Labels of the monitoring objects: the app's labels plus the selector labels of `monitoring.labels`. */
export function monitoringLabels(app: ResolvedApp): Record<string, string> {
  const labels = { ...appLabels(app), ...app.spec.monitoring.labels };
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Prometheus durations have no fractions or "us"; express the window in whole seconds unless it is a whole unit. */
export function promDuration(d: string): string {
  if (/^\d+(ms|s|m|h)$/.test(d)) return d;
  const ms = parseDuration(d) ?? 0;
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

/**
 * A number as PromQL and YAML print it without binary noise: 1 - 0.999 is 0.0010000000000000009 in
 * floating point, which would make every threshold unreadable.
 */
export function promNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}
