import { useState } from 'preact/hooks';
import { TimeChart } from '../charts.tsx';
import { Empty, ErrorBox, Loading, useAsync } from '../components.tsx';
import { ago, pct, plural } from '../format.ts';
import { health } from '../health.ts';

/** Error ratio and latency per minute (1 h) or hour (24 h), and the alerts timeline. */
export function HealthTab({ ns, name }: { ns: string; name: string }) {
  const [since, setSince] = useState<'1h' | '24h'>('1h');
  const data = useAsync(async (signal) => {
    const [summary, series, alerts] = await Promise.all([health.summary(ns, name, signal), health.series(ns, name, since, signal), health.alerts(ns, name, signal)]);
    // The chosen window, ending now: a few minutes of probes are drawn where they are in the hour.
    const now = Date.now() / 1000;
    return { summary, series, alerts, range: [now - (since === '1h' ? 3600 : 86_400), now] as const };
  }, [ns, name, since]);
  if (data.error !== undefined) return <ErrorBox error={data.error} />;
  if (data.data === undefined) return <Loading what="health" />;
  const { summary, series, alerts, range } = data.data;
  if (summary.kind === 'absent' || series.kind === 'absent') return <Empty><span data-testid="no-health">No health data: this berth server does not probe apps (it has no health routes).</span></Empty>;
  if (!summary.data.enabled) return <Empty>Health probing is off for this app (spec.health.enabled).</Empty>;
  const pts = series.data.points;
  const x = pts.map((p) => Date.parse(p.start) / 1000);
  const s = summary.data;
  return (
    <>
      <div class="filters" role="group" aria-label="Time range">
        <button type="button" aria-pressed={since === '1h'} onClick={() => setSince('1h')}>1 h</button>
        <button type="button" aria-pressed={since === '24h'} onClick={() => setSince('24h')}>24 h</button>
        <span class="muted">Probing {s.target.url} · last probe {s.lastProbe ? `${s.lastProbe.ok ? 'ok' : `failed (${s.lastProbe.error ?? s.lastProbe.status ?? ''})`} ${ago(s.lastProbe.at)}` : 'none yet'} · <span data-testid="last-hour" data-ratio={String(s.lastHour.errorRatio ?? 0)}>last hour {pct(s.lastHour.errorRatio)} errors of {s.lastHour.total}</span>{' '}· <span data-testid="failed-minutes">{plural(pts.filter((p) => p.failed > 0).length, 'minute')} with failures</span></span>
      </div>
      {pts.length === 0 ? (
        <Empty>No probes in this range yet.</Empty>
      ) : (
        <>
          <TimeChart title="Error ratio" unit="%" x={x} xRange={range} series={[{ label: 'errors', values: pts.map((p) => (p.errorRatio === null ? null : p.errorRatio * 100)), color: '#b91c1c' }]} />
          <TimeChart
            title="Latency"
            unit="ms"
            x={x}
            xRange={range}
            series={[
              { label: 'p50', values: pts.map((p) => p.p50Ms), color: '#15803d' },
              { label: 'p95', values: pts.map((p) => p.p95Ms), color: '#a16207' },
              { label: 'p99', values: pts.map((p) => p.p99Ms), color: '#b91c1c' },
            ]}
          />
        </>
      )}
      <h2>Alerts <small>(state changes, newest first)</small></h2>
      {alerts.kind === 'absent' ? (
        <Empty>No alert data on this server.</Empty>
      ) : alerts.data.items.length === 0 && (alerts.data.history ?? []).length === 0 ? (
        <Empty>No alerts.</Empty>
      ) : (
        <ul class="events">
          {alerts.data.items.map((a) => <li key={a.id}><span class={`badge ${a.state === 'firing' ? 'bad' : a.state === 'pending' ? 'warn' : 'ok'}`}>{a.state}</span> <strong>{a.rule}</strong> ({a.severity}) since {ago(a.since)}<p>{a.summary}</p></li>)}
          {(alerts.data.history ?? []).map((h) => <li key={`${h.alertId}${h.at}${h.to}`}><small>{new Date(h.at).toLocaleString()}</small> <strong>{h.rule}</strong> {h.from} → {h.to} (value {Number(h.value.toFixed(4))})</li>)}
        </ul>
      )}
    </>
  );
}
