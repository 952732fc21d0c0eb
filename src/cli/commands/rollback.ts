import type { RegisterCommand } from '../command.ts';
import type { RollbackFlags } from '../actions/rollback.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';
import { appOrStack } from './appOrStack.ts';

/** `berth rollback NAME [--to REV]`: re-applies an earlier revision's spec as a new revision. */
export const registerRollback: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('rollback')
    .description('Re-apply an earlier revision (default: the previous one) as a new revision.')
    .argument('[name]', 'app name')
    .option('--stack <name>', 'roll back a stack (all its members) instead of an app')
    .option('--to <revision>', 'revision to roll back to (see "berth history NAME" / "--stack NAME")')
    .option('--wait', 'follow the rollout until it is Available (exit 0) or fails (exit 1)')
    .option('--timeout <duration>', 'how long --wait waits, e.g. 90s (default 2m; implies --wait)');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string | undefined, flags: RollbackFlags & { stack?: string }) => {
    const stack = appOrStack('rollback', name, flags.stack);
    if (stack !== undefined) return (await import('../actions/stacks.ts')).runStackRollback(stack, flags, ctx);
    return (await import('../actions/rollback.ts')).runRollback(name ?? '', flags, ctx);
  });
};
