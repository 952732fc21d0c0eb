import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../api/buildServer.ts';
import { listen } from '../../api/server.ts';
import { loadConfig, type BerthConfig } from '../../config/config.ts';
import { BerthError } from '../../errors.ts';
import type { RegisterCommand } from '../command.ts';
import { EXIT, interruptSignal, type CliIO } from '../io.ts';
import { intFlag } from '../remote.ts';

interface ServerFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly port?: string;
  readonly host?: string;
  readonly databaseUrl?: string;
}

/** A sqlite:<relative file> URL is relative to the directory berth was started in, not to the process's. */
export function absoluteDatabaseUrl(url: string, cwd: string): string {
  const m = /^sqlite:(?!\/\/)(.+)$/.exec(url);
  if (!m?.[1] || m[1] === ':memory:' || m[1].startsWith('/')) return url;
  return `sqlite:${resolve(cwd, m[1])}`;
}

/** Listens, turning "address in use" into words and closing what buildServer opened when it fails. */
export async function listenOrExplain(app: FastifyInstance, config: Pick<BerthConfig, 'host' | 'port'>): Promise<string> {
  try {
    return await listen(app, config);
  } catch (e) {
    await app.close().catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new BerthError('BERTH_INTERNAL', `Cannot listen on ${config.host}:${config.port}: the address is already in use.`, {
        hint: 'Stop the other process or pass --port (0 picks a free port).',
        cause: e,
      });
    }
    throw e;
  }
}

/** Resolves when Ctrl-C, SIGTERM or the in-process io.signal asks to stop. */
export async function untilInterrupted(io: CliIO): Promise<void> {
  const interrupt = interruptSignal(io);
  try {
    if (!interrupt.signal.aborted) await new Promise((done) => interrupt.signal.addEventListener('abort', done, { once: true }));
  } finally {
    interrupt.dispose();
  }
}

/** `berth server`: the API server against a cluster from a kubeconfig (a real one, or `berth sandbox`'s). */
export const registerServer: RegisterCommand = (program, ctx) => {
  program
    .command('server')
    .description('Run the berth API server against a Kubernetes cluster (serves /docs, /openapi.json, /metrics).')
    .option('--kubeconfig <file>', 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: its current context)')
    .option('--port <port>', 'port to listen on, 0 picks a free one (default $BERTH_PORT or 7070)')
    .option('--host <host>', 'address to listen on (default $BERTH_HOST or 127.0.0.1)')
    .option('--database-url <url>', 'sqlite:<file> or postgres://… (default $BERTH_DATABASE_URL or sqlite:.berth/berth.db)')
    .action(async (flags: ServerFlags) => {
      const { io } = ctx;
      const config = loadConfig(
        {
          ...(flags.kubeconfig !== undefined ? { kubeconfig: resolve(io.cwd, flags.kubeconfig) } : {}),
          ...(flags.context !== undefined ? { kubeContext: flags.context } : {}),
          ...(flags.port !== undefined ? { port: intFlag(flags.port, '--port') } : {}),
          ...(flags.host !== undefined ? { host: flags.host } : {}),
        },
        io.env as NodeJS.ProcessEnv,
      );
      const databaseUrl = absoluteDatabaseUrl(flags.databaseUrl ?? config.databaseUrl, io.cwd);
      const final = databaseUrl === config.databaseUrl ? config : loadConfig({ ...config, databaseUrl }, {});
      const app = buildServer({}, final);
      const url = await listenOrExplain(app, final);
      io.stdout.write(`berth server listening on ${url}  (API docs: ${url}/docs)\n`);
      await untilInterrupted(io);
      io.stdout.write('stopping berth server\n');
      await app.close();
      ctx.setExit(EXIT.OK);
    });
};
