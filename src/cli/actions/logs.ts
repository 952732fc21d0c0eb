import { createHash } from 'node:crypto';
import type { LogLineDto } from '../../api/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStreamed, paint, terminalOf, type OutputFormat, type Style, type Terminal } from '../output.ts';
import { clientFor, durationFlag, intFlag } from '../remote.ts';

export interface LogsFlags {
  readonly namespace: string;
  readonly follow?: boolean;
  readonly tail?: string;
  readonly since?: string;
  readonly container?: string;
  readonly previous?: boolean;
  readonly output: OutputFormat;
  readonly server?: string;
}

const POD_COLOURS: readonly Style[] = ['cyan', 'magenta', 'blue', 'green', 'yellow'];

/** `[hello-7d9c-abcde] line`, the pod in a stable colour per pod on a terminal. */
export function formatLogLine(l: LogLineDto, term: Terminal): string {
  const hash = createHash('sha1').update(l.pod).digest()[0] ?? 0;
  const style = POD_COLOURS[hash % POD_COLOURS.length] ?? 'cyan';
  return `${paint(term, style, `[${l.pod}]`)} ${l.line}\n`;
}

/** `berth logs NAME`: the lines of every pod of the app merged, following new pods with -f. */
export async function runLogs(name: string, flags: LogsFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const tail = flags.tail !== undefined ? intFlag(flags.tail, '--tail') : undefined;
  if (flags.since !== undefined) durationFlag(flags.since, '--since');
  const term = terminalOf(io);
  const interrupt = interruptSignal(io);
  try {
    const lines = clientFor(io, flags).logs(flags.namespace, name, {
      follow: flags.follow === true,
      previous: flags.previous === true,
      signal: interrupt.signal,
      ...(tail !== undefined ? { tail } : {}),
      ...(flags.since !== undefined ? { since: flags.since } : {}),
      ...(flags.container !== undefined ? { container: flags.container } : {}),
    });
    for await (const l of lines) io.stdout.write(flags.output === 'json' ? formatStreamed(l, 'json') : formatLogLine(l, term));
  } finally {
    interrupt.dispose();
  }
  ctx.setExit(EXIT.OK);
}
