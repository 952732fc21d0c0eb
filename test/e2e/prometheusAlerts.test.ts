/**
 * A real Prometheus (Debian package `prometheus`) discovers the sandbox's hello pods, scrapes their
 * /metrics, evaluates the rules berth renders for the app, and fires the error-ratio alerts once hello
 * answers 500s (its runtime fault endpoint).
 *
 * Discovery goes through the sandbox's HTTP SD endpoint, which serves the targets and
 * `__meta_kubernetes_*` labels of Prometheus' `kubernetes_sd_configs` role "pod": Debian builds
 * Prometheus without the Kubernetes discovery, so that config would not even load here. The
 * relabelling below is the one a `kubernetes_sd_configs` job would use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateApp } from '../../src/appspec/validateApp.ts';
import type { ResolvedApp } from '../../src/appspec/resolvedApp.ts';
import { renderApp } from '../../src/manifests/renderApp.ts';
import { grafanaDashboard } from '../../src/manifests/renderDashboard.ts';
import { BURN_RATE_ALERT_NAME, ERROR_RATIO_ALERT_NAME, prometheusRuleGroups } from '../../src/manifests/renderPrometheusRule.ts';
import { PROMETHEUS_SD_PATH } from '../../src/sandbox/apiserver/prometheusSd.ts';
import { RES } from '../../src/sandbox/client/resources.ts';
import { startSandbox, type Sandbox } from '../../src/sandbox/startSandbox.ts';
import type { KObject, ResourceKey } from '../../src/sandbox/types.ts';
import { haveExecutable } from '../../src/testing/requiredUnderCi.ts';
import { until } from './testing/e2eKit.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const SUITE = 'Prometheus evaluating berth rules against the sandbox';
const canRun = haveExecutable(SUITE, PROMETHEUS, 'install the Debian package prometheus');
const NS = `prom-${randomBytes(3).toString('hex')}`;

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

let sb: Sandbox | undefined;
let prometheus: ChildProcess | undefined;
let promUrl = '';
let dir = '';
let app: ResolvedApp;
let promLog = '';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function promApi<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

const alertsNamed = async (name: string): Promise<PromAlert[]> => (await promApi<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts.filter((a) => a.labels['alertname'] === name);

const KINDS: Record<string, ResourceKey> = {
  Namespace: RES.namespaces,
  ServiceAccount: RES.serviceaccounts,
  ConfigMap: RES.configmaps,
  Service: RES.services,
  Deployment: RES.deployments,
};

async function readyPodIPs(n: number): Promise<string[]> {
  return until(
    async () => {
      const pods = (await sb!.client.list(RES.pods, { namespace: NS })).items;
      const ready = pods.filter((p) => {
        const st = p['status'] as { podIP?: string; conditions?: { type: string; status: string }[] } | undefined;
        return st?.podIP && st.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      });
      return ready.length === n ? ready.map((p) => (p['status'] as { podIP: string }).podIP) : undefined;
    },
    30_000,
    `${n} ready hello pods`,
  );
}

describe.skipIf(!canRun)('Prometheus discovers the sandbox pods, scrapes hello and fires berth’s error-ratio alerts', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-prom-'));
    const r = validateApp({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'App',
      metadata: { name: 'hello', namespace: NS },
      // A short window keeps the test fast; the rules are the ones every app gets.
      spec: { image: 'berth.local/hello:1.0.0', replicas: 2, env: { DRAIN_MS: '100' }, health: { errorRatio: 0.1, window: '5s' }, monitoring: { prometheusRule: true } },
    });
    expect(r.problems).toEqual([]);
    app = r.apps[0]!;
    sb = await startSandbox({ port: 0, nodes: 1, timeScale: 0.2, ingress: false, kubeconfigPath: join(dir, 'kubeconfig'), imagesFile: join(dir, 'images.yaml') });
    for (const o of renderApp(app, { includeNamespace: true })) {
      const res = KINDS[o.kind];
      if (res) await sb.client.create(res, o as unknown as KObject);
    }
    await readyPodIPs(2);

    writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: prometheusRuleGroups(app) }, { lineWidth: 0 }));
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [join(dir, 'rules.yaml')],
      scrape_configs: [
        {
          job_name: 'berth-apps',
          http_sd_configs: [{ url: `${sb.url}${PROMETHEUS_SD_PATH}?namespace=${NS}`, refresh_interval: '1s' }],
          // What the Prometheus Operator does for a ServiceMonitor: namespace, service (berth names the
          // Service after the app) and pod as target labels; only the named port is scraped.
          relabel_configs: [
            { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], regex: '.+', action: 'keep' },
            { source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: 'http', action: 'keep' },
            { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
            { source_labels: ['__meta_kubernetes_pod_label_app_kubernetes_io_name'], target_label: 'service' },
            { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
    await until(async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok, 20_000, `Prometheus ready (${promLog})`);
  }, 60_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('discovers both hello pods and scrapes them with the namespace/service labels the rules select', async () => {
    const targets = await until(
      async () => {
        const t = (await promApi<{ activeTargets: { labels: Record<string, string>; health: string; scrapeUrl: string }[] }>('/api/v1/targets')).activeTargets;
        return t.length === 2 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      20_000,
      'two healthy scrape targets',
    );
    for (const t of targets) {
      expect(t.labels).toMatchObject({ namespace: NS, service: 'hello' });
      expect(t.scrapeUrl).toMatch(/^http:\/\/127\.10\.\d+\.\d+:8080\/metrics$/);
    }
    const groups = (await promApi<{ groups: { name: string; rules: { health: string }[] }[] }>('/api/v1/rules')).groups;
    expect(groups.map((g) => g.name).sort()).toEqual(prometheusRuleGroups(app).map((g) => g.name).sort());
    // The SLI is recorded from the live series (0 while nothing fails).
    const sli = await until(
      async () => (await promApi<{ result: { value: [number, string] }[] }>(`/api/v1/query?query=${encodeURIComponent('slo:sli_error:ratio_rate5m')}`)).result[0],
      20_000,
      'the 5m SLI recorded',
    );
    expect(Number(sli.value[1])).toBe(0);
    expect(await alertsNamed(ERROR_RATIO_ALERT_NAME)).toEqual([]);
    expect(await alertsNamed(BURN_RATE_ALERT_NAME)).toEqual([]);
  }, 60_000);

  it("every dashboard query runs on the real Prometheus; hello's request, error and latency panels have data", async () => {
    const panels = grafanaDashboard(app).panels;
    const results = new Map<string, number>();
    for (const p of panels) {
      for (const t of p.targets) {
        // Grafana substitutes $__rate_interval with at least four scrape intervals.
        const query = t.expr.replaceAll('$__rate_interval', '4s');
        const data = await promApi<{ resultType: string; result: unknown[] }>(`/api/v1/query?query=${encodeURIComponent(query)}`);
        expect(data.resultType, query).toBe('vector');
        results.set(`${p.title}/${t.legendFormat}`, data.result.length);
      }
    }
    // Replicas, CPU and memory come from kube-state-metrics and cAdvisor, which the sandbox lacks.
    expect(results.get('Request rate by status class/{{code_class}}')).toBeGreaterThan(0);
    expect(results.get('Error ratio (5xx)/error ratio')).toBe(1);
    expect(results.get('Latency p50 / p95 / p99/p99')).toBe(1);
  }, 30_000);

  it('fires the per-minute error-ratio alert and pages on the burn rate after hello starts failing', async () => {
    const ips = await readyPodIPs(2);
    for (const ip of ips) expect((await fetch(`http://${ip}:8080/fault?rate=1`, { method: 'POST' })).status).toBe(200);
    let stop = false;
    // Traffic on /, all of it failing now: about 20 requests a second against a scrape a second.
    const traffic = (async () => {
      while (!stop) {
        await Promise.all(ips.map((ip) => fetch(`http://${ip}:8080/`).then((r) => r.arrayBuffer()).catch(() => undefined)));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const page = await until(async () => (await alertsNamed(BURN_RATE_ALERT_NAME)).find((a) => a.labels['severity'] === 'page' && a.state === 'firing'), 30_000, 'the burn-rate page firing');
      expect(page.labels).toMatchObject({ namespace: NS, app: 'hello', sloth_slo: 'availability' });
      const ratio = await until(async () => (await alertsNamed(ERROR_RATIO_ALERT_NAME)).find((a) => a.state === 'firing'), 30_000, 'the error-ratio alert firing');
      expect(ratio.labels).toMatchObject({ alertname: ERROR_RATIO_ALERT_NAME, severity: 'page', namespace: NS, app: 'hello' });
    } finally {
      stop = true;
      await traffic;
    }
  }, 90_000);
});
