import { createInterface } from 'node:readline/promises';
import { BerthError } from '../../errors.ts';
import type { RegisterCommand } from '../command.ts';
import { EXIT, type CliIO } from '../io.ts';
import { formatStructured, type OutputFormat } from '../output.ts';
import { clientFor, withNamespace, withOutput, withServer } from '../remote.ts';

interface DeleteFlags {
  readonly namespace: string;
  readonly yes?: boolean;
  readonly output: OutputFormat;
  readonly server?: string;
}

/** Asks on the terminal; anything but y/yes is no. */
async function confirm(io: CliIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** `berth delete NAME`: removes everything berth created for the app, after a confirmation. */
export const registerDelete: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('delete')
    .description('Delete an app and everything berth created for it (asks first; --yes when not on a terminal).')
    .argument('<name>', 'app name')
    .option('-y, --yes', 'do not ask for confirmation');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string, flags: DeleteFlags) => {
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
  });
};
