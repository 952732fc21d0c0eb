import type { RegisterCommand } from '../command.ts';
import type { HealthFlags } from '../actions/health.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/**
 * `berth health NAME`: what berth's prober measured: error ratio, latency, last hour, firing alerts.
 * Without a name: one line per app the caller may see, worst first (a status page in the terminal).
 */
export const registerHealth: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('health')
    .description('Show what berth\'s prober measured for an app: error ratio, latency p50/p95/p99, the last hour per minute, firing alerts; without a name, one line per app, worst first.')
    .argument('[name]', 'app name (omit for every app: all namespaces unless -n is given)')
    .option('-w, --watch', 'refresh every few seconds until interrupted')
    .option('--interval <duration>', 'refresh interval with --watch', '5s');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string | undefined, flags: HealthFlags) => {
    const actions = await import('../actions/health.ts');
    if (name !== undefined) return actions.runHealth(name, flags, ctx);
    // -n has a default for one app; the overview filters by namespace only when -n was given.
    return actions.runHealthOverview(cmd.getOptionValueSource('namespace') === 'cli' ? flags.namespace : undefined, flags, ctx);
  });
};
