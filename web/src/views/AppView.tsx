import { useEffect, useRef, useState } from 'preact/hooks';
import type { AppDetail, DeployResponse, RenderResponse } from '../../../src/api/types.ts';
import type { SessionInfo } from '../../../src/auth/apiTypes.ts';
import type { AppStatus } from '../../../src/status/types.ts';
import { api, appPath } from '../api.ts';
import { Empty, ErrorBox, lazyView, Loading, StateBadge, useAsync } from '../components.tsx';
import { ago, REASON_HELP } from '../format.ts';
import { subscribe } from '../live.ts';
import { href } from '../router.ts';
import { scalePointOf, type ScalePoint } from '../scalePoints.ts';
import { deployOf, ScoreCard } from '../scoreCard.tsx';
import { HealthTab } from './HealthTab.tsx';
import { HistoryTab } from './HistoryTab.tsx';
import { LogsTab } from './LogsTab.tsx';

const TABS: Array<[string, string]> = [['overview', 'Overview'], ['logs', 'Logs'], ['history', 'History'], ['manifests', 'Manifests'], ['health', 'Health'], ['scaling', 'Scaling']];

/** Its own chunk: uPlot is already on the first page, but load runs and scaling are read rarely. */
const ScalingTab = lazyView(() => import('./ScalingTab.tsx').then((m) => m.ScalingTab), 'the scaling view');

export function AppView({ ns, name, tab, me }: { ns: string; name: string; tab: string; me: SessionInfo }) {
  const detail = useAsync((signal) => api<AppDetail>(appPath(ns, name), { signal }), [ns, name]);
  const [status, setStatus] = useState<AppStatus | null | undefined>(undefined);
  const [liveError, setLiveError] = useState<unknown>(undefined);
  const scale = useRef<ScalePoint[]>([]);

  useEffect(() => {
    setStatus(undefined);
    scale.current = [];
    return subscribe(
      { kind: 'status', namespace: ns, name },
      (ev, data) => {
        if (!('event' in data) || data.event.name !== name) return;
        if (ev === 'deleted') return setStatus(null);
        const s = data.event.status;
        if (!s) return;
        setStatus(s);
        scale.current = [...scale.current.slice(-719), scalePointOf(s, Date.now() / 1000)];
      },
      setLiveError,
    );
  }, [ns, name]);

  const canDeploy = me.principal.role !== 'viewer';
  return (
    <section aria-labelledby="app-title">
      <p class="crumbs"><a href={href('apps')}>Apps</a> / {ns}</p>
      <h1 id="app-title">
        {name} {status && <StateBadge state={status.state} />}
        {canDeploy && <a class="button small" href={href('deploy', ns, name)}>Edit and deploy</a>}
      </h1>
      {detail.error !== undefined && <ErrorBox error={detail.error} />}
      {liveError !== undefined && <ErrorBox error={liveError} title="Live updates" />}
      <nav class="tabs" aria-label="App sections">
        {TABS.map(([id, label]) => (
          <a key={id} href={href('apps', ns, name, id)} aria-current={tab === id ? 'page' : undefined}>{label}</a>
        ))}
      </nav>
      {tab === 'overview' && <Overview status={status} detail={detail.data} deployed={deployOf(ns, name)} />}
      {tab === 'logs' && <LogsTab ns={ns} name={name} />}
      {tab === 'history' && <HistoryTab ns={ns} name={name} canRollback={canDeploy} current={detail.data?.revision} onChanged={detail.reload} />}
      {tab === 'manifests' && <Manifests spec={detail.data?.spec} />}
      {tab === 'health' && <HealthTab ns={ns} name={name} />}
      {tab === 'scaling' && <ScalingTab ns={ns} name={name} points={scale.current} status={status} />}
    </section>
  );
}

function Overview({ status, detail, deployed }: { status: AppStatus | null | undefined; detail: AppDetail | undefined; deployed: DeployResponse | undefined }) {
  const justDeployed = deployed?.score && (
    <ScoreCard score={deployed.score} caption={deployed.unchanged ? `unchanged: already runs revision ${deployed.revision ?? '—'}` : `of revision ${deployed.revision ?? '—'}, just deployed from the form`} />
  );
  if (status === undefined) return <>{justDeployed}<Loading what="live status" /></>;
  if (status === null) return <Empty>The app was deleted.</Empty>;
  const help = REASON_HELP[status.reason];
  const failing = status.state === 'Failed' || status.state === 'Degraded';
  const { desired, updated, ready, available } = status.replicas;
  return (
    <>
      {justDeployed}
      <div class={`status-card ${failing ? 'failing' : ''}`} role="status" aria-live="polite">
        <p class="reason"><strong data-testid="reason">{status.reason}</strong> · revision {status.revision ?? '—'}</p>
        <p data-testid="message">{status.message}</p>
        {failing && help && (
          <div class="explain" data-testid="hint">
            <p>{help.what}</p>
            <p class="hint">What to do: {help.hint}</p>
          </div>
        )}
        {status.state === 'Progressing' || status.state === 'Pending' ? (
          <div class="progress" aria-label="Rollout progress">
            <progress max={Math.max(desired, 1)} value={Math.min(updated, ready)} /> {ready}/{desired} ready · {updated} updated
          </div>
        ) : (
          <p>{ready}/{desired} ready · {available} available</p>
        )}
        {detail && <p class="muted">Image <code>{detail.image}</code> · deployed by {detail.updatedBy} {ago(detail.updatedAt)}</p>}
      </div>
      <h2>Pods</h2>
      {status.pods.length === 0 ? (
        <Empty>No pods.</Empty>
      ) : (
        <div class="scroll-x">
          <table>
            <thead><tr><th>Pod</th><th>Phase</th><th>Ready</th><th>Restarts</th><th>Waiting</th><th>Last exit</th><th>Node</th></tr></thead>
            <tbody>
              {status.pods.map((p) => (
                <tr key={p.name} class={p.current ? '' : 'old'}>
                  <td><code>{p.name}</code>{!p.current && <small> (old revision)</small>}</td>
                  <td>{p.phase}</td>
                  <td>{p.ready ? 'yes' : 'no'}</td>
                  <td>{p.restarts}</td>
                  <td>{p.waitingReason ?? ''}</td>
                  <td>{p.lastTermination ? `${p.lastTermination.exitCode}${p.lastTermination.reason ? ` (${p.lastTermination.reason})` : ''}` : ''}</td>
                  <td>{p.node ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Warning events</h2>
      {status.warnings.length === 0 ? (
        <Empty>No warnings.</Empty>
      ) : (
        <ul class="events">
          {status.warnings.map((w) => (
            <li key={`${w.object}${w.reason}${w.lastTimestamp}`}>
              <strong>{w.reason}</strong> <small>{w.object} ×{w.count} {ago(w.lastTimestamp)}</small>
              <p>{w.message}</p>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Manifests({ spec }: { spec: unknown }) {
  const render = useAsync(async (signal) => {
    if (spec === undefined) return undefined;
    const [r, yaml] = await Promise.all([api<RenderResponse>('/v1/render?lint=true', { method: 'POST', body: spec, signal }), import('yaml')]);
    return { warnings: r.warnings, lint: r.lint?.findings ?? [], score: r.lint?.score, text: r.objects.map((o) => yaml.stringify(o)).join('---\n') };
  }, [spec]);
  if (render.error !== undefined) return <ErrorBox error={render.error} />;
  if (render.data === undefined) return <Loading what="rendered manifests" />;
  return (
    <>
      <h2>Spec warnings</h2>
      {render.data.warnings.length === 0 ? (
        <Empty>No warnings for this spec.</Empty>
      ) : (
        <ul class="events">{render.data.warnings.map((w) => <li key={`${w.path}${w.code}`}><code>{w.code}</code> <code>{w.path}</code> {w.message}{w.hint && <p class="hint">{w.hint}</p>}</li>)}</ul>
      )}
      <h2>Lint findings <small>(berth lint of the rendered objects)</small></h2>
      {render.data.score && <ScoreCard score={render.data.score} caption="of the rendered objects of the newest revision" />}
      {render.data.lint.length === 0 ? (
        <Empty>No lint findings.</Empty>
      ) : (
        <ul class="events" data-testid="lint">
          {render.data.lint.map((f, i) => (
            <li key={i}>
              <span class={`badge ${f.severity === 'error' ? 'bad' : f.severity === 'warning' ? 'warn' : 'busy'}`}>{f.severity}</span> <code>{f.rule}</code> {f.object.kind}/{f.object.name}
              {f.path && <> <code>{f.path}</code></>}
              <p>{f.message}</p>
              {f.hint && <p class="hint">{f.hint}</p>}
            </li>
          ))}
        </ul>
      )}
      <h2>Rendered objects</h2>
      <pre class="code-block" tabIndex={0}>{render.data.text}</pre>
    </>
  );
}
