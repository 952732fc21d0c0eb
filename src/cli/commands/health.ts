import type { RegisterCommand } from '../command.ts';
import type { HealthFlags } from '../actions/health.ts';
import { withNamespace, withOutput, withServer } from '../flags.ts';

/** `berth health NAME`: what berth's prober measured: error ratio, latency, last hour, firing alerts. */
export const registerHealth: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('health')
    .description('Show what berth\'s prober measured for an app: error ratio, latency p50/p95/p99, the last hour per minute, firing alerts.')
    .argument('<name>', 'app name')
    .option('-w, --watch', 'refresh every few seconds until interrupted')
    .option('--interval <duration>', 'refresh interval with --watch', '5s');
  withNamespace(cmd);
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (name: string, flags: HealthFlags) => (await import('../actions/health.ts')).runHealth(name, flags, ctx));
};
