import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validAppDocument } from '../appspec/testing/appArbitraries.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { renderApp } from './renderApp.ts';
import {
  BURN_RATE_ALERT_NAME,
  BURN_RATE_ALERTS,
  ERROR_RATIO_ALERT_NAME,
  SLI_WINDOWS,
  prometheusRuleGroups,
  renderPrometheusRule,
  ruleExpressions,
  type AlertingRule,
  type RecordingRule,
  type RuleGroup,
} from './renderPrometheusRule.ts';
import { promqlNodeNames, promqlSyntaxErrors } from './testing/promql.ts';
import { toYaml } from './toYaml.ts';

function app(spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): ResolvedApp {
  const r = validateApp({
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'App',
    metadata: { name: 'hello', namespace: 'shop', ...metadata },
    spec: { image: 'berth.local/hello:1.0.0', monitoring: { prometheusRule: true, serviceMonitor: true }, ...spec },
  });
  expect(r.problems).toEqual([]);
  return r.apps[0]!;
}

const recording = (groups: readonly RuleGroup[], record: string): RecordingRule[] =>
  groups.flatMap((g) => g.rules).filter((r): r is RecordingRule => 'record' in r && r.record === record);
const alerts = (groups: readonly RuleGroup[], name: string): AlertingRule[] =>
  groups.flatMap((g) => g.rules).filter((r): r is AlertingRule => 'alert' in r && r.alert === name);

const SLO = { sloth_id: 'shop-hello-availability', sloth_service: 'hello', sloth_slo: 'availability' };
const SEL = 'sloth_id="shop-hello-availability", sloth_service="hello", sloth_slo="availability"';

describe('prometheusRuleGroups', () => {
  it('names three groups per app: SLI recordings, meta recordings, alerts', () => {
    expect(prometheusRuleGroups(app()).map((g) => g.name)).toEqual(['berth-shop-hello-sli-recordings', 'berth-shop-hello-meta-recordings', 'berth-shop-hello-alerts']);
  });

  it('records the 5xx ratio over every burn-rate window with Sloth labels, and the 30-day ratio from the 5m one', () => {
    const groups = prometheusRuleGroups(app());
    for (const w of SLI_WINDOWS) {
      expect(recording(groups, `slo:sli_error:ratio_rate${w}`)).toEqual([
        {
          record: `slo:sli_error:ratio_rate${w}`,
          expr: `(sum(rate(http_requests_total{namespace="shop",service="hello",code=~"5.."}[${w}]))) / (sum(rate(http_requests_total{namespace="shop",service="hello"}[${w}])))`,
          labels: { ...SLO, sloth_window: w },
        },
      ]);
    }
    expect(SLI_WINDOWS).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d']);
    const period = recording(groups, 'slo:sli_error:ratio_rate30d')[0]!;
    expect(period.labels).toEqual({ ...SLO, sloth_window: '30d' });
    expect(period.expr).toBe(`sum_over_time(slo:sli_error:ratio_rate5m{${SEL}}[30d]) / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{${SEL}}[30d])`);
  });

  it('records the objective, the error budget and the burn rates', () => {
    const groups = prometheusRuleGroups(app({ health: { objective: 99.95 } }));
    expect(recording(groups, 'slo:objective:ratio')[0]).toEqual({ record: 'slo:objective:ratio', expr: 'vector(0.9995)', labels: SLO });
    // 1 - 0.9995 is 0.0004999999999999449 in floating point; the rule says what the user meant.
    expect(recording(groups, 'slo:error_budget:ratio')[0]!.expr).toBe('vector(0.0005)');
    expect(recording(groups, 'slo:time_period:days')[0]!.expr).toBe('vector(30)');
    expect(recording(groups, 'slo:current_burn_rate:ratio')[0]!.expr).toContain('slo:sli_error:ratio_rate5m{');
    expect(recording(groups, 'slo:period_error_budget_remaining:ratio')[0]!.expr).toBe(`1 - slo:period_burn_rate:ratio{${SEL}}`);
  });

  it('pages on 1h/5m at 14.4× and 6h/30m at 6×, tickets on 1d/2h at 3× and 3d/6h at 1× (the SRE workbook table)', () => {
    expect(BURN_RATE_ALERTS.map((a) => [a.severity, a.long, a.short, a.factor])).toEqual([
      ['page', '1h', '5m', 14.4],
      ['page', '6h', '30m', 6],
      ['ticket', '1d', '2h', 3],
      ['ticket', '3d', '6h', 1],
    ]);
    const [page, ticket] = alerts(prometheusRuleGroups(app()), BURN_RATE_ALERT_NAME);
    const burn = (w: string, f: number): string => `max(slo:sli_error:ratio_rate${w}{${SEL}} > (${f} * 0.001)) without (sloth_window)`;
    expect(page).toEqual({
      alert: BURN_RATE_ALERT_NAME,
      expr: `(${burn('5m', 14.4)} and ${burn('1h', 14.4)}) or (${burn('30m', 6)} and ${burn('6h', 6)})`,
      labels: { severity: 'page', sloth_severity: 'page', namespace: 'shop', app: 'hello' },
      annotations: {
        summary: 'shop/hello is burning its 99.9% availability error budget too fast',
        description: 'shop/hello: 5xx ratio above 14.4× the budget over 1h and 5m, or 6× the budget over 6h and 30m (budget 0.001 of requests over 30 days).',
      },
    });
    expect(page).not.toHaveProperty('for');
    expect(ticket!.labels.severity).toBe('ticket');
    expect(ticket!.expr).toBe(`(${burn('2h', 3)} and ${burn('1d', 3)}) or (${burn('6h', 1)} and ${burn('3d', 1)})`);
  });

  it("keeps the seed's per-minute error-ratio alert: errorRatio held for window", () => {
    const [rule] = alerts(prometheusRuleGroups(app({ health: { errorRatio: 0.02, window: '10m' } })), ERROR_RATIO_ALERT_NAME);
    expect(rule).toEqual({
      alert: ERROR_RATIO_ALERT_NAME,
      expr: '(sum(rate(http_requests_total{namespace="shop",service="hello",code=~"5.."}[1m]))) / (sum(rate(http_requests_total{namespace="shop",service="hello"}[1m]))) > 0.02',
      for: '10m',
      labels: { severity: 'page', namespace: 'shop', app: 'hello' },
      annotations: {
        summary: 'shop/hello: more than 2% of requests fail',
        description: 'The per-minute 5xx ratio of shop/hello has stayed above 0.02 for 10m.',
      },
    });
    // Prometheus durations have no fractions: 1.5h is written in seconds.
    expect(alerts(prometheusRuleGroups(app({ health: { window: '1.5h' } })), ERROR_RATIO_ALERT_NAME)[0]!.for).toBe('5400s');
    expect(alerts(prometheusRuleGroups(app({ health: { errorRatio: 0.001 } })), ERROR_RATIO_ALERT_NAME)[0]!.annotations.summary).toContain('more than 0.1% of');
  });

  it('every expression parses as PromQL, and the alert expressions are comparisons', () => {
    const groups = prometheusRuleGroups(app());
    for (const expr of ruleExpressions(groups)) expect(promqlSyntaxErrors(expr), expr).toEqual([]);
    for (const rule of alerts(groups, BURN_RATE_ALERT_NAME)) expect(promqlNodeNames(rule.expr)).toContain('Or');
    expect(promqlNodeNames(alerts(groups, ERROR_RATIO_ALERT_NAME)[0]!.expr)).toContain('Gtr');
  });

  it('the syntax check can fail: a broken expression has errors', () => {
    expect(promqlSyntaxErrors('sum(rate(x[5m])) /')).not.toEqual([]);
    expect(promqlSyntaxErrors('sum(rate(x{a="b"[5m]))')).not.toEqual([]);
    expect(promqlSyntaxErrors('max(x > (14.4 * 0.001)) without (sloth_window)')).toEqual([]);
  });

  it('every generated valid app renders rules that parse', () => {
    fc.assert(
      fc.property(validAppDocument, (doc) => {
        const spec = doc['spec'] as Record<string, unknown>;
        const r = validateApp({ ...doc, spec: { ...spec, monitoring: { ...(spec['monitoring'] as object | undefined), prometheusRule: true } } });
        const resolved = r.apps[0];
        if (!resolved) throw new Error(JSON.stringify(r.problems));
        for (const expr of ruleExpressions(prometheusRuleGroups(resolved))) expect(promqlSyntaxErrors(expr), expr).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});

describe('renderPrometheusRule', () => {
  it('carries the selector labels of monitoring.labels next to the app labels; the other objects do not', () => {
    const a = app({ monitoring: { prometheusRule: true, serviceMonitor: true, labels: { release: 'kube-prometheus-stack' } } });
    const objects = renderApp(a);
    for (const kind of ['PrometheusRule', 'ServiceMonitor']) {
      expect(objects.find((o) => o.kind === kind)!.metadata.labels).toEqual({
        'app.kubernetes.io/instance': 'hello',
        'app.kubernetes.io/managed-by': 'berth',
        'app.kubernetes.io/name': 'hello',
        'app.kubernetes.io/part-of': 'hello',
        'app.kubernetes.io/version': '1.0.0',
        release: 'kube-prometheus-stack',
      });
    }
    for (const o of objects.filter((x) => x.apiVersion !== 'monitoring.coreos.com/v1')) expect(o.metadata.labels).not.toHaveProperty('release');
  });

  it('is a monitoring.coreos.com/v1 PrometheusRule named after the app, whose groups are prometheusRuleGroups', () => {
    const a = app();
    const rule = renderPrometheusRule(a);
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'hello', namespace: 'shop' } });
    expect(rule['spec']).toEqual({ groups: prometheusRuleGroups(a) });
  });

  it('snapshot', async () => {
    await expect(toYaml([renderPrometheusRule(app({ monitoring: { prometheusRule: true, labels: { release: 'kube-prometheus-stack' } } }))])).toMatchFileSnapshot('__snapshots__/prometheusRule.yaml');
  });
});
