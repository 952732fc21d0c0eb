import { HTTP_PORT_NAME, METRICS_PORT_NAME } from '../appspec/defaults.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { selectorLabels } from './labels.ts';
import { monitoringLabels } from './monitoringQueries.ts';
import { hasMetricsPort } from './renderDeployment.ts';

/**
 * Prometheus Operator ServiceMonitor scraping the app's Service. It carries `monitoring.labels`: a
 * Prometheus only reads the ServiceMonitors its serviceMonitorSelector matches.
 */
export function renderServiceMonitor(app: ResolvedApp): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: monitoringLabels(app) },
    spec: {
      selector: { matchLabels: selectorLabels(app) },
      endpoints: [{ port: hasMetricsPort(app) ? METRICS_PORT_NAME : HTTP_PORT_NAME, path: app.spec.monitoring.path, interval: '30s' }],
    },
  };
}
