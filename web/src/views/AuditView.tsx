import { useState } from 'preact/hooks';
import type { AuditList, AuditRecord } from '../../../src/auth/apiTypes.ts';
import { api } from '../api.ts';
import { Empty, ErrorBox, Loading, useAsync } from '../components.tsx';

const OUTCOMES = ['allowed', 'denied', 'failed', 'succeeded'];

export function AuditView() {
  const [filter, setFilter] = useState({ actor: '', namespace: '', app: '', outcome: '' });
  const [applied, setApplied] = useState(filter);
  const [more, setMore] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const query = (c?: string): string => {
    const p = new URLSearchParams({ limit: '100' });
    for (const [k, v] of Object.entries(applied)) if (v.trim()) p.set(k, v.trim());
    if (c) p.set('cursor', c);
    return `/v1/audit?${p.toString()}`;
  };
  const page = useAsync(async (signal) => {
    const r = await api<AuditList>(query(), { signal });
    setMore([]);
    setCursor(r.nextCursor);
    return r.items;
  }, [applied]);
  const [error, setError] = useState<unknown>(undefined);
  const next = async (): Promise<void> => {
    if (!cursor) return;
    try {
      const r = await api<AuditList>(query(cursor));
      setMore([...more, ...r.items]);
      setCursor(r.nextCursor);
    } catch (e) {
      setError(e);
    }
  };
  const field = (k: keyof typeof filter, label: string) => (
    <label>{label} <input value={filter[k]} onInput={(e) => setFilter({ ...filter, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  const rows = [...(page.data ?? []), ...more];
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="filters" role="search" onSubmit={(e) => { e.preventDefault(); setApplied(filter); }}>
        {field('actor', 'Actor')}
        {field('namespace', 'Namespace')}
        {field('app', 'App')}
        <label>Outcome <select value={filter.outcome} onChange={(e) => setFilter({ ...filter, outcome: (e.target as HTMLSelectElement).value })}><option value="">any</option>{OUTCOMES.map((o) => <option key={o}>{o}</option>)}</select></label>
        <button type="submit">Filter</button>
      </form>
      {page.error !== undefined && <ErrorBox error={page.error} />}
      {error !== undefined && <ErrorBox error={error} />}
      {page.data === undefined && page.error === undefined && <Loading what="the audit log" />}
      {page.data !== undefined && rows.length === 0 && <Empty>No audit records match.</Empty>}
      {rows.length > 0 && (
        <div class="scroll-x">
          <table>
            <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>Outcome</th><th>Details</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td><time dateTime={r.time}>{new Date(r.time).toLocaleString()}</time></td>
                  <td>{r.actor} <small>{r.actorKind}{r.sourceIp ? ` · ${r.sourceIp}` : ''}</small></td>
                  <td><code>{r.action}</code></td>
                  <td>{r.namespace ? `${r.namespace}/${r.app ?? ''}` : '—'}{r.revision !== null ? ` rev ${r.revision}` : ''}</td>
                  <td><span class={`badge ${r.outcome === 'succeeded' || r.outcome === 'allowed' ? 'ok' : r.outcome === 'denied' ? 'warn' : 'bad'}`}>{r.outcome}</span>{r.count > 1 ? ` ×${r.count}` : ''}</td>
                  <td>{r.diffSummary ?? r.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && <button type="button" onClick={() => void next()}>Older records</button>}
    </section>
  );
}
