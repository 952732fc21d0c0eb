/**
 * The scaling chart (its own chunk): replicas, the autoscaler's desired replicas and CPU against its
 * target, live from the status stream while the page is open; and a recorded load run
 * (GET .../loadruns/{id}) with the replicas it caused on the same time axis.
 */
import { useMemo, useState } from 'preact/hooks';
import type { LoadRun, LoadRunListItem } from '../../../src/load/types.ts';
import type { AppStatus } from '../../../src/status/types.ts';
import { api, appPath } from '../api.ts';
import { TimeChart } from '../charts.tsx';
import { Empty, ErrorBox, Loading, useAsync } from '../components.tsx';
import { ago, pct } from '../format.ts';
import type { ScalePoint } from '../scalePoints.ts';

export function ScalingTab({ ns, name, points, status }: { ns: string; name: string; points: readonly ScalePoint[]; status: AppStatus | null | undefined }) {
  return (
    <>
      <LiveScaling points={points} status={status} />
      <LoadRuns ns={ns} name={name} />
    </>
  );
}

function LiveScaling({ points, status }: { points: readonly ScalePoint[]; status: AppStatus | null | undefined }) {
  const a = status?.autoscaling;
  const autoscaled = points.some((p) => p.hpaDesired !== null || p.cpu !== null) || a !== undefined;
  // The last state seen holds until now: one status event is already a (flat) line up to this moment.
  const last = points.at(-1);
  const shown = useMemo(() => (last ? [...points, { ...last, t: Math.max(last.t + 1, Date.now() / 1000) }] : []), [points, last]);
  const series = useMemo(
    () => [
      { label: 'desired', values: shown.map((p) => p.desired), color: '#2563eb', stepped: true },
      { label: 'ready', values: shown.map((p) => p.ready), color: '#15803d', stepped: true },
      ...(autoscaled
        ? [
            { label: 'HPA desired', values: shown.map((p) => p.hpaDesired), color: '#7c3aed', stepped: true, dash: [6, 4] },
            { label: 'CPU', values: shown.map((p) => p.cpu), color: '#c2410c', right: true, stepped: true },
            { label: 'CPU target', values: shown.map((p) => p.targetCpu), color: '#9a3412', right: true, stepped: true, dash: [2, 4] },
          ]
        : []),
    ],
    [shown, autoscaled],
  );
  const x = useMemo(() => shown.map((p) => p.t), [shown]);
  // At least the last minute, so a few seconds of events do not stretch into milliseconds.
  const xRange = useMemo(() => {
    const end = shown.at(-1)?.t ?? Date.now() / 1000;
    return [Math.min(shown[0]?.t ?? end, end - 60), end] as const;
  }, [shown]);
  if (status === undefined) return <Loading what="replica counts" />;
  return (
    <>
      <h2>Replicas{autoscaled ? ' and CPU' : ''} <small>(live, while this page is open)</small></h2>
      {a ? (
        <p class="muted" data-testid="hpa">
          Autoscaled {a.minReplicas}–{a.maxReplicas}: HPA wants {a.desiredReplicas ?? '—'} (has {a.currentReplicas ?? '—'}) · CPU {a.cpuUtilization ?? '—'} % of request, target {a.targetCpuUtilization ?? '—'} %{a.lastScaleTime && <> · last scaled {ago(a.lastScaleTime)}</>}
        </p>
      ) : (
        <p class="muted">Not autoscaled (no spec.autoscale): the Deployment's replicas only.</p>
      )}
      {points.length === 0 ? (
        <Empty>Charted from live updates while this page is open ({status ? `now ${status.replicas.ready}/${status.replicas.desired} ready` : 'no status'}); the next change adds a point.</Empty>
      ) : (
        <TimeChart title="Replicas (live)" unit="" unit2="%" x={x} xRange={xRange} series={series} />
      )}
      {a && a.events.length > 0 && (
        <>
          <h3>Scaling events</h3>
          <ul class="events">
            {a.events.map((ev) => (
              <li key={`${ev.at}${ev.reason}${ev.message}`}>
                <span class={`badge ${ev.reason === 'SuccessfulRescale' ? 'ok' : 'warn'}`}>{ev.reason}</span> <small>{ago(ev.at)}</small>
                <p>{ev.message}</p>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

function LoadRuns({ ns, name }: { ns: string; name: string }) {
  const list = useAsync((signal) => api<{ items: LoadRunListItem[] }>(`${appPath(ns, name)}/loadruns?limit=20`, { signal }), [ns, name]);
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  if (list.error !== undefined) return <ErrorBox error={list.error} title="Load runs" />;
  if (list.data === undefined) return <Loading what="load runs" />;
  const items = list.data.items;
  const id = chosen ?? items[0]?.id;
  return (
    <>
      <h2>Load runs</h2>
      {items.length === 0 || id === undefined ? (
        <Empty>No recorded load runs. <code>berth load {name} -n {ns} --rate 20 --duration 1m</code> records one.</Empty>
      ) : (
        <>
          <label for="loadrun">Run </label>
          <select id="loadrun" value={id} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
            {items.map((r) => (
              <option key={r.id} value={r.id}>
                {new Date(r.summary.startedAt).toLocaleString()} · {r.summary.askedRate.toFixed(0)} req/s asked · {r.passed ? 'passed' : 'failed'} · by {r.recordedBy}
              </option>
            ))}
          </select>
          <LoadRunCharts ns={ns} name={name} id={id} />
        </>
      )}
    </>
  );
}

/** Both charts on one x array (the union of the run's seconds and replica samples, seconds since its start), cursors synced. */
function LoadRunCharts({ ns, name, id }: { ns: string; name: string; id: string }) {
  const run = useAsync((signal) => api<LoadRun>(`${appPath(ns, name)}/loadruns/${encodeURIComponent(id)}`, { signal }), [ns, name, id]);
  const charts = useMemo(() => (run.data ? chartsOf(run.data) : undefined), [run.data]);
  if (run.error !== undefined) return <ErrorBox error={run.error} title="Load run" />;
  if (run.data === undefined || charts === undefined) return <Loading what="the load run" />;
  const s = run.data.summary;
  return (
    <div data-testid="loadrun">
      <p class="muted">
        {s.method} {s.target} · {(s.durationMs / 1000).toFixed(0)} s · {s.completed} completed at {s.achievedRate.toFixed(1)}/s · {pct(s.errorRatio)} errors · p99 {s.latency.p99Ms.toFixed(1)} ms{s.dropped > 0 ? ` · ${s.dropped} dropped` : ''}
      </p>
      <TimeChart title="Load run: requests per second" unit="/s" unit2="ms" relative x={charts.x} sync={`loadrun-${id}`} series={charts.load} />
      <TimeChart title="Load run: replicas and CPU" unit="" unit2="%" relative x={charts.x} sync={`loadrun-${id}`} series={charts.replicas} />
      {run.data.scalingEvents.length > 0 && (
        <ul class="events">
          {run.data.scalingEvents.map((ev) => (
            <li key={`${ev.at}${ev.reason}`}>
              <small>{ev.t >= 0 ? `+${ev.t.toFixed(0)} s` : `${ev.t.toFixed(0)} s`}</small> {ev.from ?? '?'} → {ev.to ?? '?'} <strong>{ev.reason}</strong>
              <p>{ev.message}</p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function chartsOf(run: LoadRun) {
  // Replica samples are taken on change; the last one holds until the run ended.
  const end = run.summary.durationMs / 1000;
  const lastRep = run.replicas.at(-1);
  const replicas = lastRep && lastRep.t < end ? [...run.replicas, { ...lastRep, t: end }] : run.replicas;
  const ts = [...new Set([...run.series.map((p) => p.t), ...replicas.map((p) => p.t)])].sort((a, b) => a - b);
  const sec = new Map(run.series.map((p) => [p.t, p]));
  const rep = new Map(replicas.map((p) => [p.t, p]));
  const col = <T,>(m: Map<number, T>, f: (v: T) => number | null) => ts.map((t) => {
    const v = m.get(t);
    return v === undefined ? null : f(v);
  });
  return {
    // Seconds since the run started: the load and the replicas it caused on one axis.
    x: ts,
    load: [
      { label: 'asked', values: col(sec, (p) => p.asked), color: '#64748b', bridge: true, dash: [4, 4] },
      { label: 'completed', values: col(sec, (p) => p.completed), color: '#2563eb', bridge: true },
      { label: 'errors', values: col(sec, (p) => p.errors), color: '#b91c1c', bridge: true },
      { label: 'p99', values: col(sec, (p) => p.p99Ms), color: '#a16207', bridge: true, right: true },
    ],
    replicas: [
      { label: 'desired', values: col(rep, (p) => p.desired), color: '#2563eb', stepped: true },
      { label: 'ready', values: col(rep, (p) => p.ready), color: '#15803d', stepped: true },
      { label: 'HPA desired', values: col(rep, (p) => p.hpaDesired), color: '#7c3aed', stepped: true, dash: [6, 4] },
      { label: 'CPU', values: col(rep, (p) => p.cpuUtilization), color: '#c2410c', right: true, stepped: true },
    ],
  };
}
