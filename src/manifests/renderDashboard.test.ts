import { describe, expect, it } from 'vitest';
import { ConfigMap } from 'kubernetes-models/v1';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { renderApp } from './renderApp.ts';
import { DASHBOARD_SCHEMA_VERSION, dashboardUid, grafanaDashboard, renderDashboard, type GrafanaDashboard } from './renderDashboard.ts';
import { promqlSyntaxErrors, substituteGrafanaVariables } from './testing/promql.ts';

function app(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): ResolvedApp {
  const r = validateApp({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'App',
    metadata: { name: 'hello', namespace: 'shop', ...metadata },
    spec: { image: 'berth.local/hello:1.0.0', monitoring: { dashboard: true }, ...spec },
  });
  expect(r.problems).toEqual([]);
  return r.apps[0]!;
}

function dashboardOf(a: ResolvedApp): GrafanaDashboard {
  const cm = renderDashboard(a) as unknown as { data: Record<string, string> };
  const files = Object.values(cm.data);
  expect(files).toHaveLength(1);
  return JSON.parse(files[0]!) as GrafanaDashboard;
}

describe('renderDashboard', () => {
  it("is a ConfigMap labelled for Grafana's sidecar, with one JSON file named after the app", () => {
    const cm = renderDashboard(app());
    expect(() => new ConfigMap(cm as never).validate()).not.toThrow();
    expect(cm.metadata).toMatchObject({ name: 'hello-dashboard', namespace: 'shop' });
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1', 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/managed-by': 'berth' });
    expect(Object.keys(cm.metadata.labels ?? {})).toEqual(Object.keys(cm.metadata.labels ?? {}).sort());
    expect(Object.keys((cm as unknown as { data: object }).data)).toEqual(['shop-hello.json']);
    expect(dashboardOf(app())).toEqual(grafanaDashboard(app()));
  });

  it('is rendered only with monitoring.dashboard, after the PrometheusRule', () => {
    expect(renderApp(app({ monitoring: {} })).some((o) => o.metadata.name === 'hello-dashboard')).toBe(false);
    const kinds = renderApp(app({ monitoring: { dashboard: true, prometheusRule: true } })).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(kinds.slice(-2)).toEqual(['PrometheusRule/hello', 'ConfigMap/hello-dashboard']);
  });

  it('is a classic dashboard: schemaVersion ≥ 39, a uid of at most 40 characters, no numeric id', () => {
    const d = dashboardOf(app());
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.schemaVersion).toBe(DASHBOARD_SCHEMA_VERSION);
    expect(d.id).toBeNull();
    expect(d.uid.length).toBeLessThanOrEqual(40);
    expect(d.uid).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(d.uid).toBe(dashboardUid(app()));
    expect(dashboardUid(app({}, { namespace: 'other' }))).not.toBe(d.uid);
    expect(d.title).toBe('shop / hello');
    expect(d.tags).toEqual(['berth', 'shop']);
  });

  it('has a Prometheus datasource variable, and every panel and query reads it', () => {
    const d = dashboardOf(app());
    expect(d.templating.list).toEqual([expect.objectContaining({ type: 'datasource', name: 'datasource', query: 'prometheus' })]);
    for (const p of d.panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      for (const t of p.targets) expect(t.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('shows request rate by status class, error ratio, latency p50/p95/p99, replicas, CPU and memory', () => {
    const d = dashboardOf(app({ health: { errorRatio: 0.02, objective: 99.5 } }));
    expect(d.panels.map((p) => p.title)).toEqual(['Request rate by status class', 'Error ratio (5xx)', 'Latency p50 / p95 / p99', 'Replicas', 'CPU', 'Memory']);
    const byTitle = (t: string) => d.panels.find((p) => p.title.startsWith(t))!;
    expect(byTitle('Request rate').targets[0]!.expr).toContain('label_replace(rate(http_requests_total{namespace="shop",service="hello"}[$__rate_interval]), "code_class", "${1}xx", "code"');
    expect(byTitle('Request rate').targets[0]!.legendFormat).toBe('{{code_class}}');
    expect(byTitle('Error ratio').fieldConfig.defaults).toMatchObject({ unit: 'percentunit', thresholds: { steps: [{ value: null }, { value: 0.005 }, { value: 0.02 }] } });
    // Ascending whatever the order of objective and alert threshold.
    const steps = (a: ResolvedApp) => (dashboardOf(a).panels[1]!.fieldConfig.defaults as { thresholds: { steps: unknown[] } }).thresholds.steps;
    expect(steps(app({ health: { errorRatio: 0.001, objective: 99 } }))).toEqual([
      { color: 'green', value: null },
      { color: 'red', value: 0.001 },
      { color: 'orange', value: 0.01 },
    ]);
    expect(byTitle('Latency').targets.map((t) => t.legendFormat)).toEqual(['p50', 'p95', 'p99']);
    expect(byTitle('Latency').targets[2]!.expr).toBe('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="shop",service="hello"}[$__rate_interval])))');
    expect(byTitle('Replicas').targets.map((t) => t.expr)).toEqual([
      'sum(kube_deployment_spec_replicas{namespace="shop",deployment="hello"})',
      'sum(kube_deployment_status_replicas_available{namespace="shop",deployment="hello"})',
    ]);
    expect(byTitle('CPU').targets[0]!.expr).toBe('sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop",pod=~"hello-[a-z0-9]+-[a-z0-9]+",container="app"}[$__rate_interval]))');
    expect(byTitle('Memory').fieldConfig.defaults).toMatchObject({ unit: 'bytes' });
  });

  it('every query parses as PromQL once Grafana has substituted its variables', () => {
    for (const p of dashboardOf(app()).panels) {
      for (const t of p.targets) expect(promqlSyntaxErrors(substituteGrafanaVariables(t.expr)), t.expr).toEqual([]);
    }
  });

  it('lays panels out on the 24-column grid without overlaps, with unique ids and refIds', () => {
    const { panels } = dashboardOf(app());
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
      expect(new Set(p.targets.map((t) => t.refId)).size).toBe(p.targets.length);
      expect(p.targets.length).toBeGreaterThan(0);
    }
    const cells = new Set<string>();
    for (const { gridPos: g } of panels) {
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('fits the longest app name: the ConfigMap name stays within 63 characters', () => {
    const long = 'a'.repeat(53);
    expect(renderDashboard(app({}, { name: long })).metadata.name).toHaveLength(63);
  });

  it('snapshot', async () => {
    await expect(`${JSON.stringify(grafanaDashboard(app()), null, 2)}\n`).toMatchFileSnapshot('__snapshots__/dashboard.json');
  });
});
