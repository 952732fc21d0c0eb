import type { Command } from 'commander';
import type { DEFAULT_IMAGES_FILE } from '../../sandbox/processruntime/localImageRegistry.ts';
import type { CommandContext, RegisterCommand } from '../command.ts';
import type { ImageAddFlags, SandboxFlags } from '../actions/sandbox.ts';

// Typed by the constant it must equal: the sandbox is not loaded for --help.
const IMAGES_FILE: typeof DEFAULT_IMAGES_FILE = '.berth/images.yaml';

/** `berth sandbox image add|list`: the local image registry that `berth.local/<name>` images resolve through. */
function registerImage(sandbox: Command, ctx: CommandContext): void {
  const image = sandbox.command('image').description('Manage the local images the sandbox runs as real processes (berth.local/<name>).');
  image
    .command('add <name>')
    .description('Register berth.local/<name> (any tag, or one "name:tag") as a command run in a directory.')
    .requiredOption('--command <command>', 'shell command that starts the server (it gets PORT and BIND_ADDRESS)')
    .option('--cwd <dir>', 'working directory', '.')
    .option('--env <KEY=VALUE...>', 'extra environment (repeatable)')
    .option('--file <path>', 'the registry file', IMAGES_FILE)
    .action(async (name: string, flags: ImageAddFlags) => (await import('../actions/sandbox.ts')).runImageAdd(name, flags, ctx));
  image
    .command('list')
    .description('List the local images (built-in and registered).')
    .option('--file <path>', 'the registry file', IMAGES_FILE)
    .action(async (flags: { file: string }) => (await import('../actions/sandbox.ts')).runImageList(flags, ctx));
}

/** `berth sandbox`: runs the embedded cluster in the foreground until SIGINT/SIGTERM. */
export const registerSandbox: RegisterCommand = (program, ctx) => {
  const sandbox = program
    .command('sandbox')
    .description('Run the embedded Kubernetes-compatible sandbox cluster until interrupted.')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '6443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig <path>', 'where to write the kubeconfig', '.berth/sandbox.kubeconfig')
    .option('--nodes <n>', 'number of simulated nodes', '3')
    .option('--data-dir <dir>', 'keep cluster state in this directory across restarts')
    .option('--ingress-port <port>', 'HTTPS port of the ingress front door (default 8443, or a free one when taken)')
    .option('--ingress-http-port <port>', 'plain HTTP port of the ingress front door (default 8080, or a free one when taken)')
    .option('--runtime <kind>', 'what runs images: auto (containers when podman works, else processes), containers, processes', 'auto')
    .option('--no-processes', 'simulate every image instead of running berth.local images as processes')
    .action(async (flags: SandboxFlags) => (await import('../actions/sandbox.ts')).runSandbox(flags, ctx));
  registerImage(sandbox, ctx);
};
