import type { RegisterCommand } from '../command.ts';
import type { DeleteFlags } from '../actions/delete.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

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
  cmd.action(async (name: string, flags: DeleteFlags) => (await import('../actions/delete.ts')).runDelete(name, flags, ctx));
};
