import type { RegisterCommand } from '../command.ts';
import type { HistoryFlags } from '../actions/history.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';
import { appOrStack } from './appOrStack.ts';

/** `berth history NAME` / `berth history --stack NAME`: every revision, newest first: who, when, what changed, how it ended. */
export const registerHistory: RegisterCommand = (program, ctx) => {
  const cmd = program.command('history').description('List the revisions of an app (or, with --stack, of a stack), newest first.').argument('[name]', 'app name').option('--stack <name>', 'a stack instead of an app');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string | undefined, flags: HistoryFlags & { stack?: string }) => {
    const stack = appOrStack('history', name, flags.stack);
    if (stack !== undefined) return (await import('../actions/stacks.ts')).runStackHistory(stack, flags, ctx);
    return (await import('../actions/history.ts')).runHistory(name ?? '', flags, ctx);
  });
};
