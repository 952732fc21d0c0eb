/** How the CLI shows a change plan and a diff: shared by `berth deploy` and `berth diff`, for apps and stacks. */
import type { ObjectChange } from '../api/types.ts';
import { formatTable, paint, type Terminal } from './output.ts';

const ACTION_STYLE = { create: 'green', update: 'yellow', prune: 'red', unchanged: 'gray' } as const;

/** "2 created, 1 updated, 5 unchanged". */
export function changeSummary(changes: readonly ObjectChange[]): string {
  const count = (a: ObjectChange['action']): number => changes.filter((c) => c.action === a).length;
  const parts = [
    [count('create'), 'created'],
    [count('update'), 'updated'],
    [count('prune'), 'pruned'],
    [count('unchanged'), 'unchanged'],
  ] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`);
  return said.length > 0 ? said.join(', ') : 'no objects';
}

export function formatChanges(changes: readonly ObjectChange[], term: Terminal, opts: { dryRun: boolean }): string {
  const verbs = opts.dryRun ? { create: 'would create', update: 'would update', prune: 'would prune', unchanged: 'unchanged' } : { create: 'created', update: 'updated', prune: 'pruned', unchanged: 'unchanged' };
  const shown = changes.filter((c) => c.action !== 'unchanged' || opts.dryRun);
  if (shown.length === 0) return '';
  return formatTable(
    ['ACTION', 'OBJECT', 'CHANGED'],
    shown.map((c) => [paint(term, ACTION_STYLE[c.action], verbs[c.action]), `${c.ref.kind.toLowerCase()}/${c.ref.name}`, c.changedPaths.join(', ') || '-']),
  );
}


/** Colours a unified diff on a terminal: additions green, removals red, hunk headers cyan. */
export function colourDiff(diff: string, term: Terminal): string {
  if (!term.color) return diff;
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? paint(term, 'bold', l) : l.startsWith('+') ? paint(term, 'green', l) : l.startsWith('-') ? paint(term, 'red', l) : l.startsWith('@@') ? paint(term, 'cyan', l) : l))
    .join('\n');
}
