/** How `berth health` and `berth status` show an app's probe results (pure; tested field by field). */
import type { AppHealth } from '../api/types.ts';
import { age, formatTable, paint, type Terminal } from './output.ts';

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One character per minute: ▁ no errors, up to █ all probes failed; any failure shows at least ▂ so
 * a single failed probe is never invisible; · a minute without probes.
 */
export function sparkline(ratios: readonly (number | null)[]): string {
  return ratios
    .map((r) => {
      if (r === null) return '·';
      if (r <= 0) return BARS[0];
      return BARS[Math.min(BARS.length - 1, Math.max(1, Math.ceil(r * (BARS.length - 1))))];
    })
    .join('');
}

export function percent(ratio: number | null): string {
  if (ratio === null) return '-';
  const p = ratio * 100;
  return `${p === 0 || p >= 10 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)}%`;
}

export function ms(v: number | null): string {
  if (v === null) return '-';
  return v >= 100 ? `${Math.round(v)} ms` : `${v.toFixed(1)} ms`;
}

function lastProbeText(h: AppHealth, now: number): string {
  const p = h.lastProbe;
  if (p === null) return 'none yet';
  const what = p.status !== undefined ? `${p.status}` : (p.error ?? 'failed');
  return `${p.ok ? 'ok' : 'FAILED'} ${what}${p.error !== undefined && p.status !== undefined ? ` (${p.error})` : ''} in ${ms(p.latencyMs)}, ${age(p.at, now)} ago`;
}

/** The one line `berth status` prints next to the rollout state. */
export function formatHealthLine(h: AppHealth, term: Pick<Terminal, 'color'>, now: number = Date.now()): string {
  if (!h.enabled) return `health:   probing off (spec.health.enabled: false)\n`;
  const w = h.lastHour;
  if (w.total === 0) return `health:   no probes in the last hour yet (target ${h.target.url})\n`;
  const bad = (w.errorRatio ?? 0) > 0;
  const firing = h.firingAlerts.filter((a) => a.state === 'firing');
  return (
    `health:   ${paint(term, bad ? 'red' : 'green', `${percent(w.errorRatio)} errors`)} last hour (${w.failed}/${w.total}), p95 ${ms(w.p95Ms)}, ` +
    `last probe ${lastProbeText(h, now)}${firing.length > 0 ? `, ${paint(term, 'red', `${firing.length} alert${firing.length === 1 ? '' : 's'} firing`)}` : ''}\n`
  );
}

/** The block `berth health NAME` prints. */
export function formatHealthView(namespace: string, name: string, h: AppHealth, term: Pick<Terminal, 'color'>, now: number = Date.now()): string {
  const w = h.lastHour;
  const lines = [
    `${paint(term, 'bold', `${namespace}/${name}`)}  ${h.enabled ? '' : paint(term, 'yellow', 'probing off (spec.health.enabled: false)')}`.trimEnd(),
    `target       ${h.target.kind} ${h.target.url}`,
    `last probe   ${lastProbeText(h, now)}`,
    `error ratio  ${paint(term, (w.errorRatio ?? 0) > 0 ? 'red' : 'green', percent(w.errorRatio))} last hour (${w.failed} of ${w.total} probes failed)`,
    `latency      p50 ${ms(w.p50Ms)}  p95 ${ms(w.p95Ms)}  p99 ${ms(w.p99Ms)}`,
    `last hour    ${sparkline(h.sparkline)}  (errors per minute, oldest first)`,
  ];
  const firing = h.firingAlerts.filter((a) => a.state === 'firing');
  if (firing.length === 0) lines.push('alerts       none firing');
  else for (const [i, a] of firing.entries()) lines.push(`${i === 0 ? 'alerts       ' : '             '}${paint(term, 'red', `${a.severity.toUpperCase()} ${a.rule}`)} since ${age(a.since, now)}: ${a.summary}`);
  return `${lines.join('\n')}\n`;
}

/** One app's row of `berth health` without a name: its health, or why it could not be read. */
export interface HealthRow {
  readonly namespace: string;
  readonly name: string;
  readonly health?: AppHealth;
  /** A coded error (e.g. BERTH_HEALTH_…) when this app's health could not be read. */
  readonly error?: string;
}

/** Minutes of the sparkline the overview shows: the last half hour fits a terminal beside the other columns. */
const OVERVIEW_MINUTES = 30;

/**
 * `berth health` without a name: one line an app, worst first (firing alerts, then error ratio), as a
 * status page does, so the app that needs a look is on top.
 */
export function formatHealthTable(rows: readonly HealthRow[], term: Pick<Terminal, 'color'>, now: number = Date.now()): string {
  if (rows.length === 0) return 'No apps.\n';
  const firing = (r: HealthRow): number => r.health?.firingAlerts.filter((a) => a.state === 'firing').length ?? 0;
  const ratio = (r: HealthRow): number => (r.health?.enabled ? (r.health.lastHour.errorRatio ?? -1) : -1);
  const sorted = [...rows].sort((a, b) => firing(b) - firing(a) || ratio(b) - ratio(a) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  return formatTable(
    ['NAMESPACE', 'NAME', 'ERRORS (1H)', 'PROBES', 'P95', 'LAST PROBE', 'ALERTS', `LAST ${OVERVIEW_MINUTES} MIN`],
    sorted.map((r) => {
      const h = r.health;
      if (!h) return [r.namespace, r.name, '-', '-', '-', paint(term, 'yellow', r.error ?? 'unknown'), '-', '-'];
      if (!h.enabled) return [r.namespace, r.name, '-', '-', '-', 'probing off', '-', '-'];
      const w = h.lastHour;
      const p = h.lastProbe;
      const last = p === null ? 'none yet' : `${p.ok ? 'ok' : paint(term, 'red', 'FAILED')} ${p.status ?? p.error ?? ''} ${age(p.at, now)} ago`.replace(/\s+/g, ' ');
      const n = firing(r);
      return [
        r.namespace,
        r.name,
        w.total === 0 ? '-' : paint(term, (w.errorRatio ?? 0) > 0 ? 'red' : 'green', percent(w.errorRatio)),
        String(w.total),
        ms(w.p95Ms),
        last,
        n === 0 ? 'none' : paint(term, 'red', `${n} firing`),
        sparkline(h.sparkline.slice(-OVERVIEW_MINUTES)),
      ];
    }),
  );
}
