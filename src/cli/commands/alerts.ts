import { Option } from 'commander';
import type { AlertState } from '../../alerts/alertTypes.ts';
import type { AlertsFlags } from '../actions/alerts.ts';
import type { RegisterCommand } from '../command.ts';
import { choices, withOutput, withServer } from '../flags.ts';

const STATES = choices<AlertState>({ pending: true, firing: true, resolved: true });

/** `berth alerts`: the alerts of every app the token may see. */
export const registerAlerts: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('alerts')
    .description('List alerts (error ratio and SLO burn rate) of every app you may see, newest state first.')
    .option('-n, --namespace <ns>', 'only this namespace (default: all namespaces)')
    .addOption(new Option('--state <state>', 'only alerts in this state').choices(STATES));
  withServer(cmd);
  withOutput(cmd);
  cmd.action(async (flags: AlertsFlags) => (await import('../actions/alerts.ts')).runAlerts(flags, ctx));
};
