import type { AppStatus } from '../../status/types.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal } from '../io.ts';
import { formatStreamed, formatStructured, terminalOf, type OutputFormat } from '../output.ts';
import { formatHealthLine } from '../healthView.ts';
import { ProgressPrinter, formatStatusView } from '../rolloutProgress.ts';
import { clientFor, durationFlag } from '../remote.ts';

export interface StatusFlags {
  readonly namespace: string;
  readonly watch?: boolean;
  readonly timeout?: string;
  readonly output: OutputFormat;
  readonly server?: string;
}

/**
 * `berth status NAME`: the rollout state, pods and warnings. With --watch it follows the SSE stream
 * (one progress line per change; JSON Lines / YAML documents with -o) until Ctrl-C, the app's
 * deletion or --timeout.
 */
export async function runStatus(name: string, flags: StatusFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const term = terminalOf(io);
  const client = clientFor(io, flags);
  const timeoutMs = flags.timeout !== undefined ? durationFlag(flags.timeout, '--timeout') : undefined;
  if (!flags.watch) {
    // Health is a line of the view, never a reason to fail it (a server without the prober answers 404).
    const [status, app, health] = await Promise.all([client.status(flags.namespace, name), client.getApp(flags.namespace, name), client.health(flags.namespace, name).catch(() => undefined)]);
    if (flags.output === 'text') {
      io.stdout.write(formatStatusView(status, term));
      if (health !== undefined) io.stdout.write(formatHealthLine(health, term));
      // Settings weaker than Pod Security restricted are part of what the app is: say each one.
      for (const w of app.weakened ?? []) io.stdout.write(`${term.color ? '\u001b[33m' : ''}weakened:${term.color ? '\u001b[0m' : ''} ${w.description} (${w.setting})\n`);
    } else io.stdout.write(formatStructured({ ...status, weakened: app.weakened ?? [], ...(health !== undefined ? { health } : {}) }, flags.output));
    ctx.setExit(EXIT.OK);
    return;
  }
  const interrupt = interruptSignal(io);
  const abort = new AbortController();
  const timer = timeoutMs !== undefined ? setTimeout(() => abort.abort(), timeoutMs) : undefined;
  interrupt.signal.addEventListener('abort', () => abort.abort(), { once: true });
  const printer = new ProgressPrinter(io.stdout, term);
  const show = (s: AppStatus): void => {
    if (flags.output === 'text') printer.update(s);
    else io.stdout.write(formatStreamed(s, flags.output));
  };
  try {
    // The stream opens with the current status, then every change.
    const stream = client.appStatusStream(flags.namespace, name, { signal: abort.signal });
    for await (const event of stream) {
      if (event.type === 'deleted') {
        printer.finish();
        if (flags.output === 'text') io.stdout.write(`${flags.namespace}/${name} was deleted.\n`);
        else io.stdout.write(formatStreamed(event, flags.output));
        break;
      }
      if (event.status) show(event.status);
    }
    printer.finish();
    ctx.setExit(EXIT.OK);
  } finally {
    if (timer) clearTimeout(timer);
    abort.abort();
    interrupt.dispose();
  }
}
