import { createTwoFilesPatch } from 'diff';
import { useMemo, useState } from 'preact/hooks';
import type * as Yaml from 'yaml';
import type { DeployResponse, RevisionList, RevisionSummary } from '../../../src/api/types.ts';
import { api, appPath } from '../api.ts';
import { ConfirmButton, Empty, ErrorBox, Loading, useAsync } from '../components.tsx';
import { ago } from '../format.ts';
import { DiffView } from './DiffView.tsx';

/** Revisions, newest first, each with the diff of its spec against the one before; one-click rollback. */
export function HistoryTab({ ns, name, canRollback, current, onChanged }: { ns: string; name: string; canRollback: boolean; current: number | undefined; onChanged: () => void }) {
  const list = useAsync(async (signal) => {
    const [revs, yaml] = await Promise.all([api<RevisionList>(`${appPath(ns, name)}/revisions`, { signal }), import('yaml')]);
    return { revs: revs.items, yaml };
  }, [ns, name, current]);
  const [result, setResult] = useState<unknown>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const rollback = async (revision: number): Promise<void> => {
    setError(undefined);
    try {
      const r = await api<DeployResponse>(`${appPath(ns, name)}/rollback`, { method: 'POST', body: { revision } });
      setResult(`Rolled back to revision ${revision} as revision ${r.revision ?? '—'}; the Overview shows the rollout live.`);
      onChanged();
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  if (list.error !== undefined) return <ErrorBox error={list.error} />;
  if (list.data === undefined) return <Loading what="history" />;
  const { revs, yaml } = list.data;
  if (revs.length === 0) return <Empty>No revisions.</Empty>;
  return (
    <>
      {error !== undefined && <ErrorBox error={error} title="Rollback" />}
      {typeof result === 'string' && <p class="ok-note" role="status">{result}</p>}
      <ol class="history">
        {revs.map((r, i) => (
          <Revision key={r.revision} rev={r} prev={revs[i + 1]} yaml={yaml} newest={i === 0} canRollback={canRollback} onRollback={() => void rollback(r.revision)} />
        ))}
      </ol>
    </>
  );
}

function Revision({ rev, prev, yaml, newest, canRollback, onRollback }: { rev: RevisionSummary; prev: RevisionSummary | undefined; yaml: typeof Yaml; newest: boolean; canRollback: boolean; onRollback: () => void }) {
  const [open, setOpen] = useState(newest);
  const patch = useMemo(() => (open ? createTwoFilesPatch(`revision ${prev?.revision ?? 0}`, `revision ${rev.revision}`, prev ? yaml.stringify(prev.spec) : '', yaml.stringify(rev.spec), '', '', { context: 3 }) : ''), [open, rev, prev, yaml]);
  return (
    <li data-revision={rev.revision}>
      <div class="rev-head">
        <strong>Revision {rev.revision}</strong> <span class={`badge ${rev.outcome === 'succeeded' ? 'ok' : rev.outcome === 'failed' ? 'bad' : 'busy'}`}>{rev.outcome}</span>
        <small> {rev.action}{rev.rollbackOf !== null ? ` of ${rev.rollbackOf}` : ''} by {rev.actor} {ago(rev.createdAt)}</small>
        <span class="summary">{rev.diffSummary}</span>
        {rev.reason && <small class="muted"> {rev.reason}: {rev.message}</small>}
        <span class="actions">
          <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>{open ? 'Hide diff' : 'Show diff'}</button>
          {canRollback && !newest && <ConfirmButton label="Roll back" confirm={`Deploy revision ${rev.revision}'s spec again as a new revision?`} onConfirm={onRollback} />}
        </span>
      </div>
      {open && <DiffView patch={patch} />}
    </li>
  );
}
