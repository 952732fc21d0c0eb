import { realClock, sleep } from '../../kube/clock.ts';
import type { CommandContext } from '../command.ts';
import { formatHealthTable, formatHealthView, type HealthRow } from '../healthView.ts';
import { ApiError } from '../httpTransport.ts';
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

/** Health reads in flight at once for the overview: enough to be quick, few enough not to flood the server. */
const OVERVIEW_CONCURRENCY = 8;

/**
 * `berth health` without a name: every app the caller may see (in `namespace` when given), each
 * app's health read in parallel; an app whose health cannot be read shows its error code and the
 * rest still show. With --watch, redrawn every interval.
 */
export async function runHealthOverview(namespace: string | undefined, flags: HealthFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const term = terminalOf(io);
  const client = clientFor(io, flags);
  const intervalMs = durationFlag(flags.interval, '--interval');
  const read = async (): Promise<HealthRow[]> => {
    const apps = (await client.listApps(namespace)).items;
    const rows: HealthRow[] = new Array<HealthRow>(apps.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < apps.length; i = next++) {
        const a = apps[i];
        if (!a) continue;
        try {
          rows[i] = { namespace: a.namespace, name: a.name, health: await client.health(a.namespace, a.name) };
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          rows[i] = { namespace: a.namespace, name: a.name, error: err.code };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(OVERVIEW_CONCURRENCY, apps.length) }, worker));
    return rows;
  };
  const show = (rows: HealthRow[]): string => (flags.output === 'text' ? formatHealthTable(rows, term) : '');
  const interrupt = flags.watch ? interruptSignal(io) : undefined;
  try {
    do {
      const rows = await read();
      if (flags.output !== 'text') io.stdout.write((flags.watch ? formatStreamed : formatStructured)({ items: rows }, flags.output));
      else io.stdout.write(`${flags.watch && term.tty ? '\x1b[H\x1b[2J' : ''}${show(rows)}${flags.watch && !term.tty ? '\n' : ''}`);
    } while (interrupt && (await sleep(realClock, intervalMs, interrupt.signal)));
    ctx.setExit(EXIT.OK);
  } finally {
    interrupt?.dispose();
  }
}
