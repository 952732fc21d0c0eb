import { describe, expect, it } from 'vitest';
import type { AlertSummary } from '../../api/types.ts';
import { formatAlertsTable } from './alerts.ts';

const base: AlertSummary = { id: 'shop/api/slo-page', namespace: 'shop', name: 'api', rule: 'slo-page', severity: 'page', state: 'resolved', since: '2030-01-02T00:00:00.000Z', value: 1000, summary: 'burning' };

describe('berth alerts table', () => {
  it('shows firing before pending before resolved, ratios as percent and burn rates as multiples', () => {
    const text = formatAlertsTable(
      [base, { ...base, id: 'shop/api/error-ratio', rule: 'error-ratio', state: 'pending', value: 0.5 }, { ...base, id: 'shop/web/slo-page', name: 'web', state: 'firing', value: 14.6 }],
      { color: false, width: 200 } as never,
      Date.parse('2030-01-02T00:05:00.000Z'),
    );
    const rows = text.trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(/\s+/).slice(0, 5).join(' '))).toEqual(['shop web slo-page page firing', 'shop api error-ratio page pending', 'shop api slo-page page resolved']);
    expect(rows[0]).toContain('14.6×');
    expect(rows[1]).toContain('50.0%');
    expect(rows[2]).toContain('1000×');
    expect(formatAlertsTable([], { color: false } as never)).toBe('No alerts.\n');
  });
});
