import { Option } from 'commander';
import type { RegisterCommand } from '../command.ts';
import type { LogsFlags } from '../actions/logs.ts';
import { OUTPUT_FORMATS, withNamespace, withServer } from '../flags.ts';

/** `berth logs NAME`: the lines of every pod of the app merged, following new pods with -f. */
export const registerLogs: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('logs')
    .description("Print the logs of every pod of an app, each line prefixed with its pod; -f follows new pods too.")
    .argument('<name>', 'app name')
    .option('-f, --follow', 'keep streaming, including pods that start later')
    .option('--tail <n>', 'lines per container from the end of the log')
    .option('--since <duration>', 'only lines newer than this, e.g. 10m')
    .option('-c, --container <name>', 'only this container')
    .option('-p, --previous', "the previous (crashed) container's log");
  withNamespace(cmd);
  withServer(cmd);
  cmd.addOption(new Option('-o, --output <format>', 'output format (json: one JSON object per line)').choices(OUTPUT_FORMATS.filter((f) => f !== 'yaml')).default('text'));
  cmd.action(async (name: string, flags: LogsFlags) => (await import('../actions/logs.ts')).runLogs(name, flags, ctx));
};
