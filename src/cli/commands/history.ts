import type { RegisterCommand } from '../command.ts';
import type { HistoryFlags } from '../actions/history.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/** `berth history NAME`: every revision, newest first: who, when, what changed, how it ended. */
export const registerHistory: RegisterCommand = (program, ctx) => {
  const cmd = program.command('history').description('List the revisions of an app, newest first.').argument('<name>', 'app name');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string, flags: HistoryFlags) => (await import('../actions/history.ts')).runHistory(name, flags, ctx));
};
