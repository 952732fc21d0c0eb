import { resolve } from 'node:path';
import type { RegisterCommand } from '../command.ts';
import { EXIT } from '../io.ts';
import { startSandbox } from '../../sandbox/startSandbox.ts';

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** `berth sandbox`: runs the embedded cluster in the foreground until SIGINT/SIGTERM. */
export const registerSandbox: RegisterCommand = (program, ctx) => {
  program
    .command('sandbox')
    .description('Run the embedded Kubernetes-compatible sandbox cluster until interrupted.')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '6443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig <path>', 'where to write the kubeconfig', '.berth/sandbox.kubeconfig')
    .option('--nodes <n>', 'number of simulated nodes', '3')
    .option('--data-dir <dir>', 'keep cluster state in this directory across restarts')
    .action(async (opts: { port: string; host: string; kubeconfig: string; nodes: string; dataDir?: string }) => {
      const { io } = ctx;
      const kubeconfigPath = resolve(io.cwd, opts.kubeconfig);
      const sandbox = await startSandbox({
        port: intOption(opts.port, '--port'),
        host: opts.host,
        kubeconfigPath,
        nodes: intOption(opts.nodes, '--nodes'),
        ...(opts.dataDir ? { dataDir: resolve(io.cwd, opts.dataDir) } : {}),
      });
      io.stdout.write(`berth sandbox listening on ${sandbox.url}\nkubeconfig written to ${kubeconfigPath}\n\n  export KUBECONFIG=${kubeconfigPath}\n\n`);
      await new Promise<void>((done) => {
        const onSignal = (): void => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          done();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      io.stdout.write('stopping sandbox\n');
      await sandbox.stop();
      ctx.setExit(EXIT.OK);
    });
};
