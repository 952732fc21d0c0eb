import type { RegisterCommand } from '../command.ts';
import type { AppsFlags } from '../actions/apps.ts';
import { withOutput, withServer } from '../flags.ts';

/** `berth apps`: every app (or one namespace's) with its live rollout state. */
export const registerApps: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('apps')
    .description('List apps with their revision and live rollout state.')
    .option('-n, --namespace <ns>', 'only this namespace (default: all namespaces)');
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (flags: AppsFlags) => (await import('../actions/apps.ts')).runApps(flags, ctx));
};
