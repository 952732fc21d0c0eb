import { createInterface } from 'node:readline/promises';
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, type CliIO } from '../io.ts';
import { formatStructured, type OutputFormat } from '../output.ts';
import { clientFor } from '../remote.ts';

export interface DeleteFlags {
  readonly namespace: string;
  readonly yes?: boolean;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** Asks on the terminal; anything but y/yes is no. */
export async function confirm(io: CliIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** `berth delete NAME`: removes everything berth created for the app, after a confirmation. */
export async function runDelete(name: string, flags: DeleteFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (!flags.yes) {
    // Without a terminal nobody can answer: a script must say --yes explicitly.
    if ((io.stdin as { isTTY?: boolean }).isTTY !== true) {
      throw new BerthError('BERTH_CLI_USAGE', `Refusing to delete ${flags.namespace}/${name} without confirmation: stdin is not a terminal.`, {
        hint: `Pass --yes: berth delete ${name} -n ${flags.namespace} --yes`,
      });
    }
    if (!(await confirm(io, `Delete app ${flags.namespace}/${name} and every object berth created for it? [y/N] `))) {
      io.stderr.write('Not deleted.\n');
      ctx.setExit(EXIT.FAILED);
      return;
    }
  }
  const res = await clientFor(io, flags).deleteApp(flags.namespace, name);
  io.stdout.write(flags.output === 'text' ? `deleted ${res.namespace}/${res.name} (${res.deleted.length} object${res.deleted.length === 1 ? '' : 's'})\n` : formatStructured(res, flags.output));
  ctx.setExit(EXIT.OK);
}
