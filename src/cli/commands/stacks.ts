import type { SetPasswordFlags } from '../actions/setPassword.ts';
import type { RegisterCommand } from '../command.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/** `berth stacks [-n NS]`, `berth stack rotate NAME RESOURCE` and the rotation Job's `berth stack set-password`. */
export const registerStacks: RegisterCommand = (program, ctx) => {
  const list = program
    .command('stacks')
    .description("List stacks with each member's level, state, what it uses and which dependency it waits on.")
    .option('-n, --namespace <ns>', 'only this namespace (default: all namespaces)');
  withServer(list);
  withOutput(list);
  list.action(async (flags: { namespace?: string; output: 'text' | 'json' | 'yaml'; server?: string }) => (await import('../actions/stacks.ts')).runStacks(flags, ctx));

  const stack = program.command('stack').description('Operate on one stack (deploy, history, rollback, diff and delete: berth deploy/history/rollback/diff/delete with --stack or a Stack file).');
  const rotate = stack
    .command('rotate')
    .description('Generate new credentials for one resource of a stack: a PostgreSQL or Redis server takes the new password first (a Job), an S3 server restarts with it; the apps using it restart.')
    .argument('<name>', 'stack name')
    .argument('<resource>', 'resource name (spec.resources)')
    .option('--wait', 'follow the rollout until the stack is Ready (exit 0) or fails (exit 1)')
    .option('--timeout <duration>', 'how long --wait waits, e.g. 90s (default 2m; implies --wait)');
  withNamespace(rotate);
  withServer(rotate);
  withOutput(rotate);
  rotate.action(async (name: string, resource: string, flags: { namespace: string; output: 'text' | 'json' | 'yaml'; server?: string; wait?: boolean; timeout?: string }) =>
    (await import('../actions/stacks.ts')).runStackRotate(name, resource, flags, ctx),
  );

  stack
    .command('set-password')
    .description('Run by the credentials-rotation Job: log in with $BERTH_OLD_PASSWORD and change the password to $BERTH_NEW_PASSWORD (done already when only the new one works).')
    .argument('<server>', 'postgres or redis')
    .requiredOption('--host <host>', 'server address')
    .requiredOption('--port <port>', 'server port')
    .option('--user <user>', 'PostgreSQL role (its own password changes)')
    .option('--database <db>', 'PostgreSQL database to connect to')
    .action(async (server: string, flags: SetPasswordFlags) => (await import('../actions/setPassword.ts')).runSetPassword(server, flags, ctx));
};
