import { createHash } from 'node:crypto';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { CONTAINER_NAME, REQUESTS_METRIC } from '../appspec/defaults.ts';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { appLabels } from './labels.ts';
import { errorRatioExpr, latencyQuantileExpr, promNumber, requestSelector } from './monitoringQueries.ts';

/** The label Grafana's dashboard sidecar (kube-prometheus-stack's default) looks for on ConfigMaps. */
export const GRAFANA_DASHBOARD_LABEL = 'grafana_dashboard';
/** Grafana 10.3+/11 writes this schema version; older versions migrate lower ones on load. */
export const DASHBOARD_SCHEMA_VERSION = 39;
/** The datasource template variable every panel and query reads, so one dashboard fits any Prometheus. */
export const DATASOURCE_VARIABLE = 'datasource';
/** Grafana's range for rate(): at least four scrape intervals, whatever the zoom. */
export const RATE_INTERVAL = '$__rate_interval';

const DATASOURCE = { type: 'prometheus', uid: `\${${DATASOURCE_VARIABLE}}` } as const;

export interface DashboardTarget {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat: string;
  readonly datasource: typeof DATASOURCE;
}

export interface DashboardPanel {
  readonly id: number;
  readonly type: 'timeseries';
  readonly title: string;
  readonly description: string;
  readonly datasource: typeof DATASOURCE;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly fieldConfig: { readonly defaults: Record<string, unknown>; readonly overrides: readonly unknown[] };
  readonly options: Record<string, unknown>;
  readonly targets: readonly DashboardTarget[];
}

/** The subset of Grafana's classic dashboard model berth writes. */
export interface GrafanaDashboard {
  readonly id: null;
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly graphTooltip: number;
  readonly time: { readonly from: string; readonly to: string };
  readonly refresh: string;
  readonly timezone: string;
  readonly annotations: { readonly list: readonly unknown[] };
  readonly templating: { readonly list: readonly Record<string, unknown>[] };
  readonly panels: readonly DashboardPanel[];
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly { readonly expr: string; readonly legend: string }[];
  /** Lines drawn on the panel; Grafana wants its steps in ascending order. */
  readonly thresholds?: readonly { readonly value: number; readonly color: string }[];
  readonly min?: number;
}

/** Grafana dashboard uids are at most 40 characters; a hash keeps them unique per namespace/name. */
export function dashboardUid(app: ResolvedApp): string {
  return `berth-${createHash('sha256').update(`${app.metadata.namespace}/${app.metadata.name}`).digest('hex').slice(0, 24)}`;
}

/**
 * The app's dashboard: request rate by status class, error ratio against the alert threshold and the
 * error budget, latency quantiles, replicas, CPU and memory. Replicas need kube-state-metrics and
 * CPU/memory the kubelet's cAdvisor metrics, both part of kube-prometheus-stack.
 */
export function grafanaDashboard(app: ResolvedApp): GrafanaDashboard {
  const { name, namespace } = app.metadata;
  const { errorRatio, objective } = app.spec.health;
  const ns = `namespace="${namespace}"`;
  // Pods of the Deployment: <name>-<ReplicaSet hash>-<suffix>. Anchored by PromQL, so "hello" never
  // matches the pods of "hello-x" (which have one more dash-separated part).
  const pods = `${ns},pod=~"${name}-[a-z0-9]+-[a-z0-9]+",container="${CONTAINER_NAME}"`;
  const deployment = `${ns},deployment="${name}"`;
  const specs: PanelSpec[] = [
    {
      title: 'Request rate by status class',
      description: `Requests per second answered by ${name}, by status class (${REQUESTS_METRIC}).`,
      unit: 'reqps',
      min: 0,
      targets: [
        {
          expr: `sum by (code_class) (label_replace(rate(${REQUESTS_METRIC}{${requestSelector(app)}}[${RATE_INTERVAL}]), "code_class", "\${1}xx", "code", "([0-9])[0-9][0-9]"))`,
          legend: '{{code_class}}',
        },
      ],
    },
    {
      title: 'Error ratio (5xx)',
      description: `Share of requests answered with a 5xx. The lines: the alert threshold (${promNumber(errorRatio * 100)}% per minute) and the error budget of the ${objective}% objective.`,
      unit: 'percentunit',
      min: 0,
      thresholds: [
        { value: promNumberValue(1 - objective / 100), color: 'orange' },
        { value: errorRatio, color: 'red' },
      ],
      targets: [{ expr: errorRatioExpr(app, RATE_INTERVAL), legend: 'error ratio' }],
    },
    {
      title: 'Latency p50 / p95 / p99',
      description: 'Response time quantiles from the request duration histogram.',
      unit: 's',
      min: 0,
      targets: [0.5, 0.95, 0.99].map((q) => ({ expr: latencyQuantileExpr(app, q, RATE_INTERVAL), legend: `p${Math.round(q * 100)}` })),
    },
    {
      title: 'Replicas',
      description: 'Desired and available replicas of the Deployment (kube-state-metrics).',
      unit: 'short',
      min: 0,
      targets: [
        { expr: `sum(kube_deployment_spec_replicas{${deployment}})`, legend: 'desired' },
        { expr: `sum(kube_deployment_status_replicas_available{${deployment}})`, legend: 'available' },
      ],
    },
    {
      title: 'CPU',
      description: 'CPU used per pod, in cores, and the per-pod request.',
      unit: 'short',
      min: 0,
      targets: [
        { expr: `sum by (pod) (rate(container_cpu_usage_seconds_total{${pods}}[${RATE_INTERVAL}]))`, legend: '{{pod}}' },
        { expr: `max(kube_pod_container_resource_requests{${pods},resource="cpu"})`, legend: 'request' },
      ],
    },
    {
      title: 'Memory',
      description: 'Working set per pod (what the OOM killer compares with the limit), and the per-pod limit.',
      unit: 'bytes',
      min: 0,
      targets: [
        { expr: `sum by (pod) (container_memory_working_set_bytes{${pods}})`, legend: '{{pod}}' },
        { expr: `max(kube_pod_container_resource_limits{${pods},resource="memory"})`, legend: 'limit' },
      ],
    },
  ];

  return {
    id: null,
    uid: dashboardUid(app),
    title: `${namespace} / ${name}`,
    description: `berth app ${namespace}/${name}`,
    tags: ['berth', namespace],
    schemaVersion: DASHBOARD_SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: {
      list: [
        {
          type: 'datasource',
          name: DATASOURCE_VARIABLE,
          label: 'Data source',
          query: 'prometheus',
          current: {},
          hide: 0,
          refresh: 1,
          regex: '',
          options: [],
        },
      ],
    },
    panels: specs.map((s, i) => panel(s, i)),
  };
}

function promNumberValue(n: number): number {
  return Number(promNumber(n));
}

function panel(spec: PanelSpec, index: number): DashboardPanel {
  const lines = [...(spec.thresholds ?? [])].sort((a, b) => a.value - b.value);
  const steps = [{ color: 'green', value: null }, ...lines.map(({ color, value }) => ({ color, value }))];
  return {
    id: index + 1,
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    // Two columns of 12 (Grafana's grid is 24 wide), 8 rows high.
    gridPos: { x: (index % 2) * 12, y: Math.floor(index / 2) * 8, w: 12, h: 8 },
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never', thresholdsStyle: { mode: spec.thresholds ? 'line' : 'off' } },
        thresholds: { mode: 'absolute', steps },
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
    targets: spec.targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), expr: t.expr, legendFormat: t.legend, datasource: DATASOURCE })),
  };
}

/** The ConfigMap Grafana's sidecar imports: one JSON file named after the app. */
export function renderDashboard(app: ResolvedApp): KubeObject {
  const cm: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: dashboardConfigMapName(app),
      namespace: app.metadata.namespace,
      labels: Object.fromEntries(Object.entries({ ...appLabels(app), [GRAFANA_DASHBOARD_LABEL]: '1' }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    },
    data: { [`${app.metadata.namespace}-${app.metadata.name}.json`]: `${JSON.stringify(grafanaDashboard(app), null, 2)}\n` },
  };
  return cm as KubeObject;
}

export function dashboardConfigMapName(app: ResolvedApp): string {
  return `${app.metadata.name}-dashboard`;
}
