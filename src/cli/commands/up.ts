import type { RegisterCommand } from '../command.ts';
import type { UpFlags } from '../actions/up.ts';
import { UP_SANDBOX_PORT, UP_SERVER_PORT } from '../flags.ts';

/**
 * `berth up`: everything in one process for trying berth out. The embedded sandbox cluster, the berth
 * server against it (SQLite in .berth/), and the bundled example deployed through the server's own
 * API, exactly as `berth deploy --wait` would; then it serves until Ctrl-C and shuts down in order.
 */
export const registerUp: RegisterCommand = (program, ctx) => {
  program
    .command('up')
    .description('Start the sandbox cluster and the berth server in one process, deploy the example unless the app exists already, serve until Ctrl-C.')
    .option('--port <port>', `berth server port (default ${UP_SERVER_PORT}, or a free one when taken; 0 picks a free one)`)
    .option('--host <host>', 'address the server and the sandbox listen on', '127.0.0.1')
    .option('--sandbox-port <port>', `sandbox API server port (default ${UP_SANDBOX_PORT}, or a free one when taken)`)
    .option('--kubeconfig <path>', 'where to write the sandbox kubeconfig', '.berth/sandbox.kubeconfig')
    .option('--database-url <url>', 'store (default $BERTH_DATABASE_URL, else sqlite:.berth/berth.db)')
    .option('-f, --file <path>', 'App file to deploy instead of the bundled example')
    .option('--no-example', 'do not deploy anything at start')
    .option('--nodes <n>', 'number of simulated nodes', '3')
    .option('--runtime <kind>', 'what runs images: auto (containers when podman works, else processes), containers, processes', 'auto')
    .option('--data-dir <dir>', 'keep the sandbox cluster state in this directory across restarts')
    .option('--rollout-timeout <duration>', 'how long to wait for the example to roll out', '2m')
    .option('--once', 'exit after the example rolled out instead of serving until interrupted')
    .option('--tls-cert <file>', 'serve the berth API over HTTPS with this PEM certificate; needs --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .action(async (flags: UpFlags) => (await import('../actions/up.ts')).runUp(flags, ctx));
};
