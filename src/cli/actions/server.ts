import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, serverContext } from '../../api/buildServer.ts';
import { ensureBootstrapToken, localTokenPath } from '../../auth/bootstrapToken.ts';
import { listen } from '../../api/server.ts';
import { applyMemoryProfile } from '../../api/memoryProfile.ts';
import { loadConfig, type BerthConfig } from '../../config/config.ts';
import { BerthError } from '../../errors.ts';
import type { CommandContext } from '../command.ts';
import { EXIT, interruptSignal, type CliIO } from '../io.ts';
import { ensurePrivateDir } from '../../store/privateFiles.ts';
import { intFlag } from '../remote.ts';

export interface ServerFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly port?: string;
  readonly host?: string;
  readonly databaseUrl?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly stateDir: string;
  readonly managedNamespaces?: string;
  readonly leaderElectionNamespace?: string;
  readonly replicaId?: string;
}

/** `--tls-cert` and `--tls-key` go together; relative paths are relative to where berth was started. */
export function tlsFlags(flags: { readonly tlsCert?: string; readonly tlsKey?: string }, cwd: string): { tls?: { certFile: string; keyFile: string } } {
  if (flags.tlsCert === undefined && flags.tlsKey === undefined) return {};
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new BerthError('BERTH_CLI_USAGE', 'Pass both --tls-cert and --tls-key (PEM files), or neither.');
  }
  return { tls: { certFile: resolve(cwd, flags.tlsCert), keyFile: resolve(cwd, flags.tlsKey) } };
}

/**
 * First start of an installation: mints the bootstrap admin token into `<stateDir>/admin.token`
 * (0600) and says WHERE it is, never what it is. A state directory that cannot be written (a
 * read-only root filesystem) is a warning, not a failure: the server still serves OIDC callers and
 * existing tokens.
 */
export async function announceBootstrapToken(app: FastifyInstance, stateDir: string, io: CliIO, label: string): Promise<void> {
  const { tokens, audit } = serverContext(app);
  const shown = relative(io.cwd, localTokenPath(stateDir)) || localTokenPath(stateDir);
  try {
    ensurePrivateDir(stateDir);
    const result = await ensureBootstrapToken({ tokens, audit, stateDir });
    if (result.status === 'created') io.stdout.write(`${label}${shown} (new admin token, mode 0600; the berth CLI on this machine uses it; "berth token create" makes others)
`);
    else if (existsSync(result.path)) io.stdout.write(`${label}${shown}
`);
  } catch (e) {
    io.stderr.write(`warning: could not write the bootstrap admin token to ${shown} (${e instanceof Error ? e.message : String(e)}); pass --state-dir with a writable directory, set BERTH_BOOTSTRAP_TOKEN (berth token generate), or use an existing token or OIDC.
`);
  }
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

function leaderElectionFlags(flags: ServerFlags, env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const identity = flags.replicaId ?? env['BERTH_REPLICA_ID'] ?? env['POD_NAME'];
  const namespace = flags.leaderElectionNamespace;
  if (namespace === undefined) return flags.replicaId !== undefined && env['BERTH_LEADER_ELECTION_NAMESPACE'] ? { leaderElection: { namespace: env['BERTH_LEADER_ELECTION_NAMESPACE'], identity: flags.replicaId } } : {};
  return { leaderElection: { namespace, ...(identity !== undefined && identity !== '' ? { identity } : {}) } };
}

/** `berth server`: the API server against a cluster from a kubeconfig (a real one, or `berth sandbox`'s). */
export async function runServer(flags: ServerFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const config = loadConfig(
    {
      ...(flags.kubeconfig !== undefined ? { kubeconfig: resolve(io.cwd, flags.kubeconfig) } : {}),
      ...(flags.context !== undefined ? { kubeContext: flags.context } : {}),
      ...(flags.port !== undefined ? { port: intFlag(flags.port, '--port') } : {}),
      ...(flags.host !== undefined ? { host: flags.host } : {}),
      ...tlsFlags(flags, io.cwd),
      ...(flags.managedNamespaces !== undefined ? { managedNamespaces: flags.managedNamespaces.split(',').map((n) => n.trim()).filter((n) => n !== '') } : {}),
      // Given here (not only below) so a PostgreSQL URL on the command line satisfies leader election's check.
      ...(flags.databaseUrl !== undefined ? { databaseUrl: absoluteDatabaseUrl(flags.databaseUrl, io.cwd) } : {}),
      ...leaderElectionFlags(flags, io.env),
    },
    io.env as NodeJS.ProcessEnv,
  );
  const databaseUrl = absoluteDatabaseUrl(flags.databaseUrl ?? config.databaseUrl, io.cwd);
  const final = databaseUrl === config.databaseUrl ? config : loadConfig({ ...config, databaseUrl }, {});
  applyMemoryProfile(final.memoryProfile);
  const app = buildServer({}, final);
  const url = await listenOrExplain(app, final);
  io.stdout.write(`berth server listening on ${url}  (API docs: ${url}/docs)\n`);
  await announceBootstrapToken(app, resolve(io.cwd, flags.stateDir), io, 'admin token file: ');
  await untilInterrupted(io);
  io.stdout.write('stopping berth server\n');
  await app.close();
  ctx.setExit(EXIT.OK);
}
