import type { RevisionSummary } from '../../api/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { age, formatStructured, formatTable, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { clientFor } from '../remote.ts';

export interface HistoryFlags {
  readonly namespace: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

const OUTCOME_STYLE = { accepted: 'yellow', applied: 'cyan', succeeded: 'green', failed: 'red', superseded: 'gray' } as const;

export function formatHistory(items: readonly RevisionSummary[], term: Terminal, now: number = Date.now()): string {
  if (items.length === 0) return 'No revisions.\n';
  return formatTable(
    ['REVISION', 'ACTION', 'OUTCOME', 'REASON', 'BY', 'AGE', 'CHANGE'],
    items.map((r) => [
      String(r.revision),
      r.action === 'rollback' && r.rollbackOf !== null ? `rollback to ${r.rollbackOf}` : r.action,
      paint(term, OUTCOME_STYLE[r.outcome], r.outcome),
      r.reason ?? '-',
      r.actor,
      age(r.createdAt, now),
      r.diffSummary || '-',
    ]),
  );
}

/** `berth history NAME`: every revision, newest first: who, when, what changed, how it ended. */
export async function runHistory(name: string, flags: HistoryFlags, ctx: CommandContext): Promise<void> {
  const list = await clientFor(ctx.io, flags).revisions(flags.namespace, name);
  ctx.io.stdout.write(flags.output === 'text' ? formatHistory(list.items, terminalOf(ctx.io)) : formatStructured(list, flags.output));
  ctx.setExit(EXIT.OK);
}
