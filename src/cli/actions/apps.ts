import type { AppSummary } from '../../api/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT } from '../io.ts';
import { age, formatStructured, formatTable, paint, terminalOf, type OutputFormat, type Terminal } from '../output.ts';
import { isFailureReason } from '../rolloutProgress.ts';
import { clientFor } from '../remote.ts';

export interface AppsFlags {
  readonly namespace?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

const STATE_STYLE = { Pending: 'yellow', Progressing: 'cyan', Available: 'green', Degraded: 'yellow', Failed: 'red' } as const;

export function formatAppsTable(items: readonly AppSummary[], term: Terminal, now: number = Date.now()): string {
  if (items.length === 0) return 'No apps.\n';
  return formatTable(
    ['NAMESPACE', 'NAME', 'REVISION', 'STATE', 'READY', 'REASON', 'IMAGE', 'UPDATED'],
    items.map((a) => {
      const s = a.status;
      return [
        a.namespace,
        a.name,
        String(a.revision),
        s ? paint(term, STATE_STYLE[s.state], s.state) : '-',
        s ? `${s.replicas.ready}/${s.replicas.desired}` : '-',
        s ? (isFailureReason(s.reason) ? paint(term, 'red', s.reason) : s.reason) : '-',
        a.image,
        `${age(a.updatedAt, now)} by ${a.updatedBy}`,
      ];
    }),
  );
}

/** `berth apps`: every app (or one namespace's) with its live rollout state. */
export async function runApps(flags: AppsFlags, ctx: CommandContext): Promise<void> {
  const list = await clientFor(ctx.io, flags).listApps(flags.namespace);
  ctx.io.stdout.write(flags.output === 'text' ? formatAppsTable(list.items, terminalOf(ctx.io)) : formatStructured(list, flags.output));
  ctx.setExit(EXIT.OK);
}
