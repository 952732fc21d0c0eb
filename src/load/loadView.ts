/**
 * What `berth load` prints: one line per second on the run's time axis (load, latency, errors, and the
 * app's replicas and CPU next to them), then the summary and the scaling events. Pure text.
 */
import type { AppStatus } from '../status/types.ts';
import type { LoadSecond, LoadSummary, ScalingEvent, ThresholdResult } from './types.ts';

const pad = (s: string, n: number): string => s.padStart(n);
const ms = (v: number | null): string => (v === null ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)}s` : `${v.toFixed(v < 10 ? 2 : 0)}ms`);
const pct = (v: number): string => `${(v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 1)}%`;

export const LIVE_HEADER = `${pad('t', 5)} ${pad('asked/s', 8)} ${pad('done/s', 8)} ${pad('p99', 8)} ${pad('errors', 7)} ${pad('late', 5)} ${pad('drop', 5)} ${pad('replicas', 12)} ${pad('cpu', 6)}`;

/** One live line; `app` is the target app's latest status (absent for a plain URL). */
export function formatSecond(s: LoadSecond, app?: AppStatus): string {
  const errorRatio = s.completed > 0 ? s.errors / s.completed : 0;
  const hpa = app?.autoscaling;
  const replicas = app ? `${app.replicas.ready}/${app.replicas.desired}${hpa?.desiredReplicas !== undefined && hpa?.desiredReplicas !== null && hpa.desiredReplicas !== app.replicas.desired ? `→${hpa.desiredReplicas}` : ''}` : '-';
  const cpu = hpa?.cpuUtilization !== undefined && hpa.cpuUtilization !== null ? `${hpa.cpuUtilization}%` : '-';
  return `${pad(`${s.t}s`, 5)} ${pad(String(s.asked), 8)} ${pad(String(s.completed), 8)} ${pad(ms(s.p99Ms), 8)} ${pad(pct(errorRatio), 7)} ${pad(String(s.late), 5)} ${pad(String(s.dropped), 5)} ${pad(replicas, 12)} ${pad(cpu, 6)}`;
}

export function formatSummary(summary: LoadSummary, events: readonly ScalingEvent[], thresholds: readonly ThresholdResult[]): string {
  const l = summary.latency;
  const lines = [
    '',
    `${summary.method} ${summary.target} for ${(summary.durationMs / 1000).toFixed(1)}s (${summary.workers} worker${summary.workers === 1 ? '' : 's'})`,
    `  requests   asked ${summary.asked}, sent ${summary.sent}, completed ${summary.completed}, late ${summary.late}, dropped ${summary.dropped}`,
    `  throughput asked ${summary.askedRate}/s, achieved ${summary.achievedRate}/s`,
    `  latency    p50 ${ms(l.p50Ms)}  p90 ${ms(l.p90Ms)}  p95 ${ms(l.p95Ms)}  p99 ${ms(l.p99Ms)}  p99.9 ${ms(l.p999Ms)}  max ${ms(l.maxMs)}  (from each request's intended send time)`,
    `  statuses   ${Object.entries(summary.statuses).map(([k, v]) => `${k}×${v}`).join('  ') || '-'}`,
    `  errors     ${pct(summary.errorRatio)}${Object.keys(summary.errorsByKind).length ? `  (${Object.entries(summary.errorsByKind).map(([k, v]) => `${k}×${v}`).join('  ')})` : ''}`,
  ];
  if (events.length > 0) {
    lines.push('', 'Scaling events:');
    for (const e of events) lines.push(`  ${pad(`${e.t.toFixed(1)}s`, 7)}  ${e.from ?? '?'} → ${e.to ?? '?'}  ${e.reason}: ${e.message}`);
  }
  if (thresholds.length > 0) {
    lines.push('', 'Thresholds:');
    for (const t of thresholds) lines.push(`  ${t.failed ? 'FAILED' : 'ok    '}  ${t.expression}  (actual ${Number(t.actual.toFixed(4))})`);
  }
  return `${lines.join('\n')}\n`;
}
