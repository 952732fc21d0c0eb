import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createProberMetrics, OVERFLOW_LABEL } from './proberMetrics.ts';

describe('prober metrics', () => {
  it('labels at most maxApps apps; the rest are summed under _other, and a deleted app\'s series go', async () => {
    const registry = new Registry();
    const m = createProberMetrics(registry, { maxApps: 2 });
    m.observe('shop', 'a', { ok: true, status: 200, latencyMs: 4 });
    m.observe('shop', 'b', { ok: false, error: 'timeout', latencyMs: 2000 });
    m.observe('shop', 'c', { ok: false, status: 503, error: 'status5xx', latencyMs: 3 });
    m.observe('shop', 'd', { ok: true, status: 200, latencyMs: 3 });
    const text = await registry.metrics();
    expect(text).toContain('berth_probes_total{namespace="shop",app="a",result="ok"} 1');
    expect(text).toContain('berth_probes_total{namespace="shop",app="b",result="timeout"} 1');
    expect(text).toContain(`berth_probes_total{namespace="${OVERFLOW_LABEL}",app="${OVERFLOW_LABEL}",result="status5xx"} 1`);
    expect(text).toContain(`berth_probes_total{namespace="${OVERFLOW_LABEL}",app="${OVERFLOW_LABEL}",result="ok"} 1`);
    expect(text).not.toContain('app="c"');
    m.forget('shop', 'a');
    const after = await registry.metrics();
    expect(after).not.toContain('app="a"');
    // The freed label slot goes to the next app seen.
    m.observe('shop', 'e', { ok: true, status: 200, latencyMs: 3 });
    expect(await registry.metrics()).toContain('berth_probes_total{namespace="shop",app="e",result="ok"} 1');
  });

  it('5,000 apps stay within the label budget', async () => {
    const registry = new Registry();
    const m = createProberMetrics(registry, { maxApps: 500 });
    for (let i = 0; i < 5_000; i++) m.observe('ns', `app-${i}`, { ok: true, status: 200, latencyMs: 5 });
    const series = (await registry.getSingleMetric('berth_probes_total')?.get())?.values.length ?? 0;
    expect(series).toBe(501);
  });
});
