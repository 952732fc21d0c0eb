import type { RegisterCommand } from '../command.ts';
import type { DeployFlags } from '../actions/deploy.ts';
import { withOutput, withServer } from '../flags.ts';

/** `berth deploy -f app.yaml`: validate locally, PUT each App, optionally follow the rollout live. */
export const registerDeploy: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('deploy')
    .description('Create or update Apps or Stacks from a file; with --wait, follow the rollout (a stack: member by member, level by level) and exit 1 when it fails.')
    .option('-f, --file <path>', 'App or Stack file (YAML or JSON, multi-document allowed); "-" reads stdin')
    .option('--wait', 'follow the rollout until it is Available (exit 0) or fails (exit 1)')
    .option('--timeout <duration>', 'how long --wait waits, e.g. 90s (default 2m; implies --wait)')
    .option('--dry-run', "server-side dry run against the cluster's admission: show what would change")
    .option('--if-match <revision>', 'only deploy when the newest revision is this one (0: the app must not exist)');
  cmd.option('-n, --namespace <ns>', 'namespace for documents that do not name one');
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (flags: DeployFlags) => (await import('../actions/deploy.ts')).runDeploy(flags, ctx));
};
