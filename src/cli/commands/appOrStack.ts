import { BerthError } from '../../errors.ts';

/** `berth history|rollback|delete` take an app NAME or `--stack NAME`, exactly one: the stack's name, or undefined for an app. */
export function appOrStack(command: string, name: string | undefined, stack: string | undefined): string | undefined {
  if ((name === undefined) === (stack === undefined)) {
    throw new BerthError('BERTH_CLI_USAGE', `berth ${command} needs an app NAME or --stack NAME (one of them).`, { hint: `berth ${command} NAME -n NS, or berth ${command} --stack NAME -n NS` });
  }
  return stack;
}
