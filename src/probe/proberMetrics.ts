/**
 * The prober's series on berth's own /metrics. Per-app labels are what make them useful (which app is
 * failing), and what could make them explode: 5,000 apps × 5 results + 5,000 × 8 histogram series is
 * ~65,000 series. So per-app series are kept for at most `maxApps` apps (first come); the others are
 * counted under namespace="_other", app="_other", and a deleted app's series are removed.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProbeResult } from './httpProber.ts';
import type { SchedulerStats } from './probeScheduler.ts';

export const OVERFLOW_LABEL = '_other';

export interface ProberMetrics {
  observe(namespace: string, name: string, result: ProbeResult): void;
  forget(namespace: string, name: string): void;
  /** Read at scrape time. */
  observeScheduler(stats: () => SchedulerStats): void;
}

export function createProberMetrics(registry: Registry, opts: { readonly maxApps: number }): ProberMetrics {
  const labelled = new Set<string>();
  let stats: (() => SchedulerStats) | undefined;
  const probes = new Counter({
    name: 'berth_probes_total',
    help: 'Synthetic probes by app and result (ok, timeout, connect, status5xx, unexpectedStatus); apps beyond the label budget are counted under "_other".',
    labelNames: ['namespace', 'app', 'result'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'berth_probe_duration_seconds',
    help: 'Synthetic probe latency by app (apps beyond the label budget under "_other").',
    labelNames: ['namespace', 'app'] as const,
    buckets: [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'berth_probe_apps',
    help: 'Apps the prober is probing.',
    registers: [registry],
    collect() {
      if (stats) this.set(stats().jobs);
    },
  });
  new Gauge({
    name: 'berth_probe_schedule_drift_p99_seconds',
    help: '99th percentile of how late probes started against their schedule (recent probes).',
    registers: [registry],
    collect() {
      if (stats) this.set(stats().driftP99Ms / 1000);
    },
  });
  new Gauge({
    name: 'berth_probe_skipped_beats',
    help: 'Probes not started because the app\'s previous probe was still running (target slower than its interval); total since start.',
    registers: [registry],
    collect() {
      if (stats) this.set(stats().skipped);
    },
  });
  const labelsOf = (namespace: string, name: string): { namespace: string; app: string } => {
    const key = `${namespace}/${name}`;
    if (labelled.has(key)) return { namespace, app: name };
    if (labelled.size < opts.maxApps) {
      labelled.add(key);
      return { namespace, app: name };
    }
    return { namespace: OVERFLOW_LABEL, app: OVERFLOW_LABEL };
  };
  return {
    observe(namespace, name, result) {
      const labels = labelsOf(namespace, name);
      probes.inc({ ...labels, result: result.ok ? 'ok' : (result.error ?? 'unexpectedStatus') });
      duration.observe(labels, result.latencyMs / 1000);
    },
    forget(namespace, name) {
      if (!labelled.delete(`${namespace}/${name}`)) return;
      for (const result of ['ok', 'timeout', 'connect', 'status5xx', 'unexpectedStatus']) probes.remove({ namespace, app: name, result });
      duration.remove({ namespace, app: name });
    },
    observeScheduler(s) {
      stats = s;
    },
  };
}
