import { HTTP_PORT_NAME, METRICS_PORT_NAME, REQUESTS_METRIC } from '../appspec/defaults.ts';
import { parseDuration } from '../appspec/formats.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { appLabels, selectorLabels } from './labels.ts';
import { hasMetricsPort } from './renderDeployment.ts';

/** Prometheus Operator ServiceMonitor scraping the app's Service. */
export function renderServiceMonitor(app: ResolvedApp): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: appLabels(app) },
    spec: {
      selector: { matchLabels: selectorLabels(app) },
      endpoints: [{ port: hasMetricsPort(app) ? METRICS_PORT_NAME : HTTP_PORT_NAME, path: app.spec.monitoring.path, interval: '30s' }],
    },
  };
}

/**
 * PrometheusRule alerting when the per-minute ratio of 5xx responses stays above health.errorRatio
 * for health.window.
 */
export function renderPrometheusRule(app: ResolvedApp): KubeObject {
  const { name, namespace } = app.metadata;
  const { errorRatio, window } = app.spec.health;
  const sel = `namespace="${namespace}",service="${name}"`;
  const expr =
    `sum(rate(${REQUESTS_METRIC}{${sel},code=~"5.."}[1m])) / sum(rate(${REQUESTS_METRIC}{${sel}}[1m])) > ${errorRatio}`;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name, namespace, labels: appLabels(app) },
    spec: {
      groups: [
        {
          name: `${name}.rules`,
          rules: [
            {
              alert: 'BerthAppHighErrorRatio',
              expr,
              for: promDuration(window),
              labels: { severity: 'warning', app: name },
              annotations: {
                summary: `${name}: more than ${errorRatio * 100}% of requests fail`,
                description: `The 5xx ratio of ${namespace}/${name} has been above ${errorRatio} per minute for ${window}.`,
              },
            },
          ],
        },
      ],
    },
  };
}

/** Prometheus durations have no fractions or "us"; express the window in whole seconds unless it is a whole unit. */
function promDuration(d: string): string {
  if (/^\d+(ms|s|m|h)$/.test(d)) return d;
  const ms = parseDuration(d) ?? 0;
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}
