import type { RegisterCommand } from '../command.ts';
import type { StatusFlags } from '../actions/status.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/**
 * `berth status NAME`: the rollout state, pods and warnings. With --watch it follows the SSE stream
 * (one progress line per change; JSON Lines / YAML documents with -o) until Ctrl-C, the app's
 * deletion or --timeout.
 */
export const registerStatus: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('status')
    .description('Show the rollout state of an app: replicas, pods, recent warnings; --watch follows it live.')
    .argument('<name>', 'app name')
    .option('-w, --watch', 'follow status changes until interrupted (or the app is deleted)')
    .option('--timeout <duration>', 'stop watching after this long, e.g. 30s');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string, flags: StatusFlags) => (await import('../actions/status.ts')).runStatus(name, flags, ctx));
};
