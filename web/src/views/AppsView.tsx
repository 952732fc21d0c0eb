import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { AppList, AppSummary } from '../../../src/api/types.ts';
import type { RolloutState } from '../../../src/status/types.ts';
import { api } from '../api.ts';
import { Sparkline } from '../charts.tsx';
import { Empty, ErrorBox, Loading, StateBadge } from '../components.tsx';
import { ago, pct } from '../format.ts';
import { health, type AppHealth } from '../health.ts';
import { subscribe } from '../live.ts';
import { href } from '../router.ts';

const ROW = 56;
const STATES: readonly RolloutState[] = ['Available', 'Progressing', 'Pending', 'Degraded', 'Failed'];

/** Every app the caller may see, kept current by the tab's live stream; the list renders only visible rows. */
export function AppsView() {
  const apps = useRef(new Map<string, AppSummary>());
  const [version, setVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [ns, setNs] = useState('');
  const [state, setState] = useState('');
  const [label, setLabel] = useState('');
  const [text, setText] = useState('');

  useEffect(() => {
    let refetch: ReturnType<typeof setTimeout> | undefined;
    // Events arrive in bursts (the snapshot of 1,000 apps, a rollout touching many): one render per frame.
    let frame: number | undefined;
    const changed = (): void => {
      frame ??= requestAnimationFrame(() => {
        frame = undefined;
        setVersion((v) => v + 1);
      });
    };
    const load = (): void => {
      api<AppList>('/v1/apps').then((list) => {
        const next = new Map<string, AppSummary>();
        for (const a of list.items) next.set(`${a.namespace}/${a.name}`, { ...a, status: apps.current.get(`${a.namespace}/${a.name}`)?.status ?? a.status });
        apps.current = next;
        setLoaded(true);
        setVersion((v) => v + 1);
      }, setError);
    };
    load();
    const stop = subscribe(
      { kind: 'status' },
      (name, data) => {
        if (!('event' in data)) return;
        const e = data.event;
        const key = `${e.namespace}/${e.name}`;
        const known = apps.current.get(key);
        if (name === 'deleted') apps.current.delete(key);
        else if (known && e.status) apps.current.set(key, { ...known, status: e.status, revision: Math.max(known.revision, e.status.revision ?? 0) });
        else if (!known) refetch ??= setTimeout(() => ((refetch = undefined), load()), 300);
        changed();
      },
      setError,
    );
    return () => {
      stop();
      if (refetch) clearTimeout(refetch);
      if (frame !== undefined) cancelAnimationFrame(frame);
    };
  }, []);

  const all = useMemo(() => [...apps.current.values()].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0)), [version]);
  const namespaces = useMemo(() => [...new Set(all.map((a) => a.namespace))].sort(), [all]);
  const rows = useMemo(() => {
    const [lk, lv] = label.split('=').map((s) => s.trim());
    const q = text.trim().toLowerCase();
    return all.filter(
      (a) =>
        (ns === '' || a.namespace === ns) &&
        (state === '' || (a.status?.state ?? 'Pending') === state) &&
        (!lk || (a.labels && lk in a.labels && (lv === undefined || lv === '' || a.labels[lk] === lv))) &&
        (q === '' || a.name.includes(q) || a.image.toLowerCase().includes(q)),
    );
  }, [all, ns, state, label, text]);

  return (
    <section aria-labelledby="apps-title">
      <h1 id="apps-title">Apps <small>{loaded ? `${rows.length} of ${all.length}` : ''}</small></h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Namespace <select value={ns} onChange={(e) => setNs((e.target as HTMLSelectElement).value)}><option value="">all</option>{namespaces.map((n) => <option key={n}>{n}</option>)}</select></label>
        <label>State <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value)}><option value="">all</option>{STATES.map((s) => <option key={s}>{s}</option>)}</select></label>
        <label>Label <input value={label} placeholder="team=payments" onInput={(e) => setLabel((e.target as HTMLInputElement).value)} /></label>
        <label>Search <input value={text} placeholder="name or image" onInput={(e) => setText((e.target as HTMLInputElement).value)} /></label>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
      {!loaded && error === undefined && <Loading what="apps" />}
      {loaded && all.length === 0 && <Empty>No apps yet. <a href={href('deploy')}>Deploy one</a>.</Empty>}
      {loaded && all.length > 0 && rows.length === 0 && <Empty>No app matches these filters.</Empty>}
      {loaded && rows.length > 0 && <AppRows rows={rows} />}
    </section>
  );
}

function AppRows({ rows }: { rows: readonly AppSummary[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useState(0);
  const virt = useMemo(
    () =>
      new Virtualizer<HTMLDivElement, HTMLDivElement>({
        count: rows.length,
        getScrollElement: () => scroller.current,
        estimateSize: () => ROW,
        overscan: 8,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => rerender((n) => n + 1),
      }),
    [],
  );
  virt.setOptions({ ...virt.options, count: rows.length });
  useLayoutEffect(() => virt._didMount(), [virt]);
  useLayoutEffect(() => virt._willUpdate());
  const items = virt.getVirtualItems();
  return (
    <div class="table apps" role="table" aria-label="Apps" aria-rowcount={rows.length + 1}>
      <div class="row head" role="row">
        <span role="columnheader">App</span>
        <span role="columnheader">State</span>
        <span role="columnheader">Ready</span>
        <span role="columnheader">Image · revision</span>
        <span role="columnheader">Deployed</span>
        <span role="columnheader">Health (1 h)</span>
      </div>
      <div class="scroller" ref={scroller} tabIndex={-1}>
        <div style={{ height: `${virt.getTotalSize()}px`, position: 'relative' }}>
          {items.map((it) => {
            const a = rows[it.index];
            return a ? <AppRow key={`${a.namespace}/${a.name}`} app={a} top={it.start} index={it.index} /> : null;
          })}
        </div>
      </div>
    </div>
  );
}

function AppRow({ app, top, index }: { app: AppSummary; top: number; index: number }) {
  const s = app.status;
  return (
    <div class="row" role="row" aria-rowindex={index + 2} style={{ transform: `translateY(${top}px)`, height: `${ROW}px` }} data-app={`${app.namespace}/${app.name}`}>
      <span role="cell" class="name">
        <a href={href('apps', app.namespace, app.name)}>{app.name}</a>
        <small>{app.namespace}</small>
      </span>
      <span role="cell" class="state">
        <StateBadge state={s?.state ?? 'Unknown'} /> <small class="reason">{s?.reason ?? ''}</small>
        <small class="msg" title={s?.message}>{s?.message ?? 'not seen in the cluster yet'}</small>
      </span>
      <span role="cell">{s ? `${s.replicas.ready}/${s.replicas.desired}` : '—'}</span>
      <span role="cell" class="image">
        <code title={app.image}>{app.image}</code>
        <small>rev {app.revision}</small>
      </span>
      <span role="cell">
        {app.updatedBy}
        <small>{ago(app.updatedAt)}</small>
      </span>
      <span role="cell"><HealthCell ns={app.namespace} name={app.name} /></span>
    </div>
  );
}

const healthCache = new Map<string, { at: number; value: AppHealth | 'absent' | 'error' }>();

function HealthCell({ ns, name }: { ns: string; name: string }) {
  const key = `${ns}/${name}`;
  const [value, setValue] = useState(healthCache.get(key)?.value);
  useEffect(() => {
    const known = healthCache.get(key);
    // A minute without asking again, but an app with no probe yet is asked again soon.
    if (known && Date.now() - known.at < (typeof known.value === 'object' && known.value.lastHour.total === 0 ? 10_000 : 60_000)) return setValue(known.value);
    // Only rows on screen ask, after a short pause: scrolling past 1,000 apps asks for none of them.
    const abort = new AbortController();
    const t = setTimeout(() => {
      health.summary(ns, name, abort.signal).then(
        (r) => {
          const v = r.kind === 'absent' ? 'absent' : r.data;
          healthCache.set(key, { at: Date.now(), value: v });
          setValue(v);
        },
        () => setValue('error'),
      );
    }, 250);
    return () => {
      clearTimeout(t);
      abort.abort();
    };
  }, [key]);
  if (value === undefined) return <small class="muted">…</small>;
  if (value === 'absent') return <small class="muted">no health data</small>;
  if (value === 'error') return <small class="muted">unavailable</small>;
  if (!value.enabled) return <small class="muted">probing off</small>;
  if (value.lastHour.total === 0) return <small class="muted">no probes yet</small>;
  return (
    <>
      <Sparkline values={value.sparkline} label={`Error ratio per minute, last hour: ${pct(value.lastHour.errorRatio)}`} />
      <small>{pct(value.lastHour.errorRatio)}</small>
      {value.firingAlerts.length > 0 && <span class="badge bad" title={value.firingAlerts.map((a) => a.summary).join('\n')}>{value.firingAlerts.length} firing</span>}
    </>
  );
}
