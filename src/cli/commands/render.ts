import { Option } from 'commander';
import type { RegisterCommand } from '../command.ts';
import type { RenderFlags } from '../actions/render.ts';
import { collect } from '../flags.ts';

/** `berth render -f app.yaml`: validate App files and print the hardened manifests, without a cluster. */
export const registerRender: RegisterCommand = (program, ctx) => {
  program
    .command('render')
    .description('Validate App files and print the Kubernetes manifests berth would apply.')
    .requiredOption('-f, --file <path>', 'App file (YAML or JSON, multi-document allowed); "-" reads stdin; repeatable', collect, [])
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('--namespace', 'also render the Namespace with Pod Security labels', false)
    .action(async (flags: RenderFlags) => (await import('../actions/render.ts')).runRender(flags, ctx));
};
