import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import type { KubeObject } from './kubeObject.ts';
import { errorRatioExpr, monitoringLabels, promDuration, promNumber } from './monitoringQueries.ts';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** Windows of the SLI recording rules: every window the burn-rate alerts below read. */
export const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
export type SliWindow = (typeof SLI_WINDOWS)[number];

/** Days of the SLO period the error budget is spent over (Sloth's default). */
export const SLO_PERIOD_DAYS = 30;

export interface BurnRateAlert {
  readonly severity: 'page' | 'ticket';
  readonly long: SliWindow;
  readonly short: SliWindow;
  /** Multiple of the error budget's steady spend rate; 14.4 spends 2 % of a 30-day budget in an hour. */
  readonly factor: number;
}

/**
 * The SRE workbook's multi-window multi-burn-rate table, as Sloth generates it: a severity fires when
 * both windows of either of its pairs burn faster than the factor. The short window makes the alert
 * clear a few minutes after recovery instead of after the long window.
 */
export const BURN_RATE_ALERTS: readonly BurnRateAlert[] = [
  { severity: 'page', long: '1h', short: '5m', factor: 14.4 },
  { severity: 'page', long: '6h', short: '30m', factor: 6 },
  { severity: 'ticket', long: '1d', short: '2h', factor: 3 },
  { severity: 'ticket', long: '3d', short: '6h', factor: 1 },
];

export const BURN_RATE_ALERT_NAME = 'BerthAppErrorBudgetBurn';
export const ERROR_RATIO_ALERT_NAME = 'BerthAppHighErrorRatio';
/** The SLO name in the sloth_slo label: berth's one objective per app is availability. */
export const SLO_NAME = 'availability';

/** Sloth's identifying labels, so Sloth's Grafana dashboards read berth's rules unchanged. */
export function sloLabels(app: ResolvedApp): Record<string, string> {
  const { name, namespace } = app.metadata;
  return { sloth_id: `${namespace}-${name}-${SLO_NAME}`, sloth_service: name, sloth_slo: SLO_NAME };
}

function selector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
}

/**
 * The rule groups of one app, pure and deterministic: Sloth-style SLI and meta recording rules, the
 * page and ticket burn-rate alerts from `health.objective`, and the per-minute error-ratio alert from
 * `health.errorRatio` held for `health.window`.
 */
export function prometheusRuleGroups(app: ResolvedApp): RuleGroup[] {
  const { name, namespace } = app.metadata;
  const { objective, errorRatio, window } = app.spec.health;
  const slo = sloLabels(app);
  const sel = selector(slo);
  const budget = promNumber(1 - objective / 100);
  const prefix = `berth-${namespace}-${name}`;

  const sli: RecordingRule[] = SLI_WINDOWS.map((w) => ({
    record: `slo:sli_error:ratio_rate${w}`,
    expr: errorRatioExpr(app, w),
    labels: { ...slo, sloth_window: w },
  }));
  // The period ratio averages the 5m ratio instead of a 30-day rate over raw series: cheap, and
  // Sloth's own choice.
  const period = `${SLO_PERIOD_DAYS}d`;
  sli.push({
    record: `slo:sli_error:ratio_rate${period}`,
    expr: `sum_over_time(slo:sli_error:ratio_rate5m{${sel}}[${period}]) / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{${sel}}[${period}])`,
    labels: { ...slo, sloth_window: period },
  });

  const meta: RecordingRule[] = [
    { record: 'slo:objective:ratio', expr: `vector(${promNumber(objective / 100)})`, labels: slo },
    { record: 'slo:error_budget:ratio', expr: `vector(${budget})`, labels: slo },
    { record: 'slo:time_period:days', expr: `vector(${SLO_PERIOD_DAYS})`, labels: slo },
    {
      record: 'slo:current_burn_rate:ratio',
      expr: `slo:sli_error:ratio_rate5m{${sel}} / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio{${sel}}`,
      labels: slo,
    },
    {
      record: 'slo:period_burn_rate:ratio',
      expr: `slo:sli_error:ratio_rate${period}{${sel}} / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio{${sel}}`,
      labels: slo,
    },
    { record: 'slo:period_error_budget_remaining:ratio', expr: `1 - slo:period_burn_rate:ratio{${sel}}`, labels: slo },
  ];

  const burning = (w: SliWindow, factor: number): string =>
    `max(slo:sli_error:ratio_rate${w}{${sel}} > (${factor} * ${budget})) without (sloth_window)`;
  const burnAlerts: AlertingRule[] = (['page', 'ticket'] as const).map((severity) => {
    const pairs = BURN_RATE_ALERTS.filter((a) => a.severity === severity);
    return {
      alert: BURN_RATE_ALERT_NAME,
      expr: pairs.map((p) => `(${burning(p.short, p.factor)} and ${burning(p.long, p.factor)})`).join(' or '),
      labels: { severity, sloth_severity: severity, namespace, app: name },
      annotations: {
        summary: `${namespace}/${name} is burning its ${objective}% availability error budget too fast`,
        description: `${namespace}/${name}: 5xx ratio above ${pairs
          .map((p) => `${p.factor}× the budget over ${p.long} and ${p.short}`)
          .join(', or ')} (budget ${budget} of requests over ${SLO_PERIOD_DAYS} days).`,
      },
    };
  });

  const ratioAlert: AlertingRule = {
    alert: ERROR_RATIO_ALERT_NAME,
    expr: `${errorRatioExpr(app, '1m')} > ${promNumber(errorRatio)}`,
    for: promDuration(window),
    labels: { severity: 'page', namespace, app: name },
    annotations: {
      summary: `${namespace}/${name}: more than ${promNumber(errorRatio * 100)}% of requests fail`,
      description: `The per-minute 5xx ratio of ${namespace}/${name} has stayed above ${promNumber(errorRatio)} for ${window}.`,
    },
  };

  return [
    { name: `${prefix}-sli-recordings`, rules: sli },
    { name: `${prefix}-meta-recordings`, rules: meta },
    { name: `${prefix}-alerts`, rules: [...burnAlerts, ratioAlert] },
  ];
}

/** The Prometheus Operator PrometheusRule carrying prometheusRuleGroups(app). */
export function renderPrometheusRule(app: ResolvedApp): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: app.metadata.name, namespace: app.metadata.namespace, labels: monitoringLabels(app) },
    spec: { groups: prometheusRuleGroups(app) },
  };
}

/** Every PromQL expression of the app's rules, for validation. */
export function ruleExpressions(groups: readonly RuleGroup[]): string[] {
  return groups.flatMap((g) => g.rules.map((r) => r.expr));
}
