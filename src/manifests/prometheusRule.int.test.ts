/**
 * The rendered rules against the real promtool (Debian package `prometheus`): `check rules` on every
 * PrometheusRule's groups, and `test rules` with synthetic series for the promises the SLO alerts make.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResolvedApp } from '../appspec/resolvedApp.ts';
import { validAppDocument } from '../appspec/testing/appArbitraries.ts';
import { validateApp } from '../appspec/validateApp.ts';
import { haveExecutable } from '../testing/requiredUnderCi.ts';
import { renderApp } from './renderApp.ts';
import { BURN_RATE_ALERT_NAME, ERROR_RATIO_ALERT_NAME, prometheusRuleGroups, type AlertingRule, type RuleGroup } from './renderPrometheusRule.ts';

const PROMTOOL = '/usr/bin/promtool';
const SUITE = 'promtool check/test rules';
const canRun = haveExecutable(SUITE, PROMTOOL, 'install the Debian package prometheus, which ships promtool');
const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'berth-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function app(spec: Record<string, unknown> = {}, name = 'hello'): ResolvedApp {
  const r = validateApp({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace: 'shop' }, spec: { image: 'berth.local/hello:1.0.0', monitoring: { prometheusRule: true }, ...spec } });
  expect(r.problems).toEqual([]);
  return r.apps[0]!;
}

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(PROMTOOL, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

function writeRules(file: string, groups: readonly RuleGroup[]): string {
  const path = join(dir, file);
  writeFileSync(path, stringify({ groups }, { lineWidth: 0 }));
  return path;
}

/** A counter sampled every minute: the running sum of `perMinute(i)` for minutes 0..minutes. */
function counter(minutes: number, perMinute: (minute: number) => number): string {
  const values: number[] = [];
  let total = 0;
  for (let i = 0; i <= minutes; i++) {
    if (i > 0) total += perMinute(i);
    values.push(total);
  }
  return values.join(' ');
}

const LABELS = 'namespace="shop",service="hello",pod="hello-1",job="hello"';

function series(minutes: number, ok: (m: number) => number, failed: (m: number) => number): { series: string; values: string }[] {
  return [
    { series: `http_requests_total{${LABELS},code="200"}`, values: counter(minutes, ok) },
    { series: `http_requests_total{${LABELS},code="500"}`, values: counter(minutes, failed) },
  ];
}

/** What promtool reports for a firing alert: its labels (alertname aside) and annotations. */
function expected(rule: AlertingRule, exprLabels: Record<string, string>): { exp_labels: Record<string, string>; exp_annotations: Record<string, string> } {
  return { exp_labels: { ...exprLabels, ...rule.labels }, exp_annotations: { ...rule.annotations } };
}

describe.skipIf(!canRun)('rendered PrometheusRules and the real promtool', () => {
  const cases: Array<[string, ResolvedApp]> = [
    ['defaults', app()],
    ['99.95 % objective, fractional window', app({ health: { objective: 99.95, window: '1.5h', errorRatio: 0.001 } })],
    ['50 % objective', app({ health: { objective: 50, errorRatio: 1 } }, 'a-very-long-app-name-with-many-dashes-0123456789-abcd')],
  ];

  it.each(cases)('promtool check rules accepts %s', async (_name, a) => {
    const rule = renderApp(a).find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: RuleGroup[] } };
    const path = writeRules(`check-${a.metadata.name}-${a.spec.health.objective}.yaml`, rule.spec.groups);
    const r = await promtool('check', 'rules', path);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('promtool check rules accepts the rules of 40 generated valid apps', async () => {
    const docs = fc.sample(validAppDocument, { numRuns: 40, seed: 11 });
    const files = docs.map((doc, i) => {
      const spec = doc['spec'] as Record<string, unknown>;
      const r = validateApp({ ...doc, spec: { ...spec, monitoring: { ...(spec['monitoring'] as object | undefined), prometheusRule: true } } });
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      return writeRules(`generated-${i}.yaml`, prometheusRuleGroups(r.apps[0]!));
    });
    const r = await promtool('check', 'rules', ...files);
    expect(r.code, r.out).toBe(0);
    expect(r.out.match(/SUCCESS/g)).toHaveLength(files.length);
  });

  it('promtool check rules rejects a broken rule, so the check above can fail', async () => {
    const path = writeRules('broken.yaml', [{ name: 'x', rules: [{ record: 'x', expr: 'sum(rate(x[5m]) /', labels: {} }] }]);
    expect((await promtool('check', 'rules', path)).code).not.toBe(0);
  });

  it('a total outage pages within 2 minutes, the per-minute ratio alert fires after its window, and both clear after recovery', async () => {
    const a = app();
    const groups = prometheusRuleGroups(a);
    const rules = groups.flatMap((g) => g.rules).filter((r): r is AlertingRule => 'alert' in r);
    const page = rules.find((r) => r.alert === BURN_RATE_ALERT_NAME && r.labels.severity === 'page')!;
    const ticket = rules.find((r) => r.alert === BURN_RATE_ALERT_NAME && r.labels.severity === 'ticket')!;
    const ratio = rules.find((r) => r.alert === ERROR_RATIO_ALERT_NAME)!;
    const slo = { sloth_id: 'shop-hello-availability', sloth_service: 'hello', sloth_slo: 'availability' };
    // 600 requests a minute; every one fails from minute 61 to minute 90, then all succeed again.
    const down = (m: number): boolean => m > 60 && m <= 90;
    const test = {
      rule_files: [writeRules('outage-rules.yaml', groups)],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series(
            180,
            (m) => (down(m) ? 0 : 600),
            (m) => (down(m) ? 600 : 0),
          ),
          alert_rule_test: [
            { eval_time: '60m', alertname: BURN_RATE_ALERT_NAME, exp_alerts: [] },
            // Two minutes into the outage: paged (and a ticket opened, the slower burn being true as well).
            { eval_time: '62m', alertname: BURN_RATE_ALERT_NAME, exp_alerts: [expected(page, slo), expected(ticket, slo)] },
            // Pending for the 5m window: not yet firing 3 minutes in.
            { eval_time: '63m', alertname: ERROR_RATIO_ALERT_NAME, exp_alerts: [] },
            { eval_time: '68m', alertname: ERROR_RATIO_ALERT_NAME, exp_alerts: [expected(ratio, {})] },
            { eval_time: '93m', alertname: ERROR_RATIO_ALERT_NAME, exp_alerts: [] },
            // The 6h/30m pair holds the page until the 30m window has (almost) no errors left; the
            // ticket's 2h/1d pair keeps the ticket open longer still.
            { eval_time: '122m', alertname: BURN_RATE_ALERT_NAME, exp_alerts: [expected(ticket, slo)] },
          ],
        },
      ],
    };
    const path = join(dir, 'outage.test.yaml');
    writeFileSync(path, stringify(test, { lineWidth: 0 }));
    const r = await promtool('test', 'rules', path);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('a steady 0.05 % error ratio never pages and never opens a ticket at 99.9 %', async () => {
    const groups = prometheusRuleGroups(app());
    // 10,000 requests a minute, 5 of them failing, for a day.
    const minutes = 24 * 60;
    const times = ['5m', '30m', '1h', '2h', '6h', '12h', '1d'];
    const test = {
      rule_files: [writeRules('steady-rules.yaml', groups)],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: series(
            minutes,
            () => 9995,
            () => 5,
          ),
          alert_rule_test: times.map((t) => ({ eval_time: t, alertname: BURN_RATE_ALERT_NAME, exp_alerts: [] })),
          promql_expr_test: [
            {
              // Rounded: the ratio is 0.0005 up to floating point.
              expr: 'round(slo:sli_error:ratio_rate1h * 100000)',
              eval_time: '1d',
              exp_samples: [{ labels: '{sloth_id="shop-hello-availability",sloth_service="hello",sloth_slo="availability",sloth_window="1h"}', value: 50 }],
            },
          ],
        },
      ],
    };
    const path = join(dir, 'steady.test.yaml');
    writeFileSync(path, stringify(test, { lineWidth: 0 }));
    const r = await promtool('test', 'rules', path);
    expect(r.out).toContain('SUCCESS');
    expect(r.code, r.out).toBe(0);
  });

  it('promtool test rules fails when an expectation is wrong, so the tests above can fail', async () => {
    const groups = prometheusRuleGroups(app());
    const test = {
      rule_files: [writeRules('wrong-rules.yaml', groups)],
      evaluation_interval: '1m',
      tests: [{ interval: '1m', input_series: series(30, () => 600, () => 0), alert_rule_test: [{ eval_time: '30m', alertname: BURN_RATE_ALERT_NAME, exp_alerts: [{ exp_labels: { severity: 'page' } }] }] }],
    };
    const path = join(dir, 'wrong.test.yaml');
    writeFileSync(path, stringify(test, { lineWidth: 0 }));
    expect((await promtool('test', 'rules', path)).code).not.toBe(0);
  });
});
