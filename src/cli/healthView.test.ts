import { describe, expect, it } from 'vitest';
import type { AppHealth } from '../api/types.ts';
import { formatHealthLine, formatHealthTable, formatHealthView, percent, sparkline } from './healthView.ts';

const PLAIN = { color: false };
const NOW = Date.parse('2030-01-02T03:30:20.000Z');

function health(over: Partial<AppHealth> = {}): AppHealth {
  return {
    enabled: true,
    target: { kind: 'service', url: 'http://10.96.0.7:80/healthz' },
    lastProbe: { at: '2030-01-02T03:30:16.000Z', ok: true, status: 200, latencyMs: 3.24 },
    lastHour: { total: 720, failed: 18, errorRatio: 0.025, p50Ms: 4.2, p95Ms: 9.5, p99Ms: 240 },
    sparkline: [...Array<null>(55).fill(null), 0, 0, 0.25, 1, 0.01],
    firingAlerts: [],
    ...over,
  };
}

describe('health view', () => {
  it('draws one character per minute; any failure shows, a minute without probes is a dot', () => {
    expect(sparkline([null, 0, 0.01, 0.25, 0.5, 1])).toBe('·▁▂▃▅█');
    expect(sparkline(health().sparkline)).toHaveLength(60);
  });

  it('formats ratios readably', () => {
    expect([percent(null), percent(0), percent(0.0005), percent(0.025), percent(0.5)]).toEqual(['-', '0%', '0.05%', '2.5%', '50%']);
  });

  it('berth health: target, last probe, ratio, quantiles, sparkline, alerts', () => {
    const text = formatHealthView('shop', 'web', health(), PLAIN, NOW);
    expect(text.split('\n')).toEqual([
      'shop/web',
      'target       service http://10.96.0.7:80/healthz',
      'last probe   ok 200 in 3.2 ms, 4s ago',
      'error ratio  2.5% last hour (18 of 720 probes failed)',
      'latency      p50 4.2 ms  p95 9.5 ms  p99 240 ms',
      `last hour    ${'·'.repeat(55)}▁▁▃█▂  (errors per minute, oldest first)`,
      'alerts       none firing',
      '',
    ]);
    const firing = formatHealthView(
      'shop',
      'web',
      health({
        lastProbe: { at: '2030-01-02T03:30:18.000Z', ok: false, error: 'timeout', latencyMs: 2000 },
        firingAlerts: [{ id: '1', namespace: 'shop', name: 'web', rule: 'ErrorBudgetBurnFast', severity: 'page', state: 'firing', since: '2030-01-02T03:28:20.000Z', value: 14.4, summary: '2.5% errors' }],
      }),
      PLAIN,
      NOW,
    );
    expect(firing).toContain('last probe   FAILED timeout in 2000 ms, 2s ago');
    expect(firing).toContain('alerts       PAGE ErrorBudgetBurnFast since 2m: 2.5% errors');
  });

  it('berth status: one health line; disabled and not-yet-probed say so', () => {
    expect(formatHealthLine(health(), PLAIN, NOW)).toBe('health:   2.5% errors last hour (18/720), p95 9.5 ms, last probe ok 200 in 3.2 ms, 4s ago\n');
    expect(formatHealthLine(health({ enabled: false }), PLAIN, NOW)).toBe('health:   probing off (spec.health.enabled: false)\n');
    expect(formatHealthLine(health({ lastHour: { total: 0, failed: 0, errorRatio: null, p50Ms: null, p95Ms: null, p99Ms: null } }), PLAIN, NOW)).toContain('no probes in the last hour yet');
  });
});

describe('health overview table', () => {
  it('puts firing alerts first, then the worst ratio; an unreadable app shows its code and the rest still show', () => {
    const firing = { id: '1', namespace: 'shop', name: 'api', rule: 'ErrorBudgetBurn', severity: 'page' as const, state: 'firing' as const, since: '2030-01-02T03:00:00.000Z', value: 14, summary: 's' };
    const text = formatHealthTable(
      [
        { namespace: 'shop', name: 'web', health: health() },
        { namespace: 'shop', name: 'api', health: health({ lastHour: { total: 720, failed: 0, errorRatio: 0, p50Ms: 1, p95Ms: 2, p99Ms: 3 }, firingAlerts: [firing] }) },
        { namespace: 'ops', name: 'cron', health: health({ enabled: false }) },
        { namespace: 'ops', name: 'gone', error: 'BERTH_APP_NOT_FOUND' },
      ],
      PLAIN,
      NOW,
    );
    const rows = text.trimEnd().split('\n').slice(1).map((l) => l.replace(/\s+/g, ' '));
    expect(rows).toEqual([
      `shop api 0% 720 2.0 ms ok 200 4s ago 1 firing ${'·'.repeat(25)}▁▁▃█▂`,
      `shop web 2.5% 720 9.5 ms ok 200 4s ago none ${'·'.repeat(25)}▁▁▃█▂`,
      'ops cron - - - probing off - -',
      'ops gone - - - BERTH_APP_NOT_FOUND - -',
    ]);
    expect(formatHealthTable([], PLAIN, NOW)).toBe('No apps.\n');
  });
});
