import type { RegisterCommand } from '../command.ts';
import type { DeleteFlags } from '../actions/delete.ts';
import { BerthError } from '../../errors.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';
import { appOrStack } from './appOrStack.ts';

/** `berth delete NAME`: removes everything berth created for the app, after a confirmation. */
export const registerDelete: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('delete')
    .description('Delete an app and everything berth created for it (asks first; --yes when not on a terminal).')
    .argument('[name]', 'app name')
    .option('--stack <name>', 'delete a stack (its apps, servers, Secrets and policies) instead of an app')
    .option('--purge', "with --stack: also delete the servers' data volumes (kept otherwise)")
    .option('-y, --yes', 'do not ask for confirmation');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string | undefined, flags: DeleteFlags & { stack?: string; purge?: boolean }) => {
    const stack = appOrStack('delete', name, flags.stack);
    if (stack !== undefined) return (await import('../actions/stacks.ts')).runStackDelete(stack, flags, ctx);
    if (flags.purge) throw new BerthError('BERTH_CLI_USAGE', '--purge applies to stacks only.', { hint: 'berth delete --stack NAME --purge' });
    return (await import('../actions/delete.ts')).runDelete(name ?? '', flags, ctx);
  });
};
