import type { RegisterCommand } from '../command.ts';
import type { DiffFlags } from '../actions/diff.ts';
import { withOutput, withServer } from '../flags.ts';

/** `berth diff -f app.yaml`: what deploying the file would change in the cluster (live vs rendered). */
export const registerDiff: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('diff')
    .description('Show what deploying an App or Stack file would change: live objects vs rendered ones (a stack: per member).')
    .option('-f, --file <path>', 'App or Stack file (YAML or JSON); "-" reads stdin')
    .option('-n, --namespace <ns>', 'namespace for documents that do not name one');
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (flags: DiffFlags) => (await import('../actions/diff.ts')).runDiff(flags, ctx));
};
