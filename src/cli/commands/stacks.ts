import type { RegisterCommand } from '../command.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/** `berth stacks [-n NS]` and `berth stack rotate NAME RESOURCE`. */
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
    .description('Generate new credentials for one resource of a stack; its server and the apps using it restart.')
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
};
