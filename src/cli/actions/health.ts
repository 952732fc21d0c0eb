import { realClock, sleep } from '../../kube/clock.ts';
import type { CommandContext } from '../command.ts';
import { formatHealthView } from '../healthView.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStreamed, formatStructured, terminalOf, type OutputFormat } from '../output.ts';
import { clientFor, durationFlag } from '../remote.ts';

export interface HealthFlags {
  readonly namespace: string;
  readonly watch?: boolean;
  readonly interval: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/**
 * `berth health NAME`: one health summary; with --watch, a new one every interval (redrawn in place
 * on a terminal; appended as JSON Lines / YAML documents with -o) until Ctrl-C.
 */
export async function runHealth(name: string, flags: HealthFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const term = terminalOf(io);
  const client = clientFor(io, flags);
  const intervalMs = durationFlag(flags.interval, '--interval');
  if (!flags.watch) {
    const h = await client.health(flags.namespace, name);
    io.stdout.write(flags.output === 'text' ? formatHealthView(flags.namespace, name, h, term) : formatStructured(h, flags.output));
    ctx.setExit(EXIT.OK);
    return;
  }
  const interrupt = interruptSignal(io);
  try {
    do {
      const h = await client.health(flags.namespace, name);
      if (flags.output !== 'text') io.stdout.write(formatStreamed(h, flags.output));
      // Home and clear on a terminal, so the view stays in place; plain appends elsewhere (logs, pipes).
      else io.stdout.write(`${term.tty ? '\x1b[H\x1b[2J' : ''}${formatHealthView(flags.namespace, name, h, term)}${term.tty ? '' : '\n'}`);
    } while (await sleep(realClock, intervalMs, interrupt.signal));
    ctx.setExit(EXIT.OK);
  } finally {
    interrupt.dispose();
  }
}
