import { Option } from 'commander';
import { SEVERITIES } from '../../lint/types.ts';
import type { RegisterCommand } from '../command.ts';
import type { LintFlags } from '../actions/lint.ts';
import { collect } from '../flags.ts';

/** `berth lint -f FILE`: findings in Kubernetes manifests or App files (as rendered); exit 1 on errors. */
export const registerLint: RegisterCommand = (program, ctx) => {
  program
    .command('lint')
    .description('Check Kubernetes YAML or JSON (or berth App files, as rendered) for security, reliability and wiring problems (exit 1 on errors).')
    .option('-f, --filename <file>', 'manifest file or directory to lint; "-" reads stdin; repeatable', collect, [])
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--min-severity <severity>', 'hide findings below this severity').choices([...SEVERITIES]).default('info'))
    .option('--score', 'also print the 0-100 hardening score per workload and overall (docs/lint-rules.md, "Score")', false)
    .action(async (flags: LintFlags) => (await import('../actions/lint.ts')).runLint(flags, ctx));
};
