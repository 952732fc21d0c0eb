import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildServer, createLogger } from '../../api/buildServer.ts';
import { applyMemoryProfile } from '../../api/memoryProfile.ts';
import { loadConfig } from '../../config/config.ts';
import { startSandbox, type Sandbox } from '../../sandbox/startSandbox.ts';
import type { AppDetail } from '../../api/types.ts';
import { apiClientFromEnv, type ApiClient } from '../apiClient.ts';
import { fetchTrustingCa } from '../caFetch.ts';
import type { CommandContext } from '../command.ts';
import { ApiError } from '../httpTransport.ts';
import { EXIT, interruptSignal, type ExitCode } from '../io.ts';
import { UP_SANDBOX_PORT, UP_SERVER_PORT } from '../flags.ts';
import { durationFlag, intFlag, readAppFile, waitForRollout, writeWarnings, type AppDocument } from '../remote.ts';
import { requireRuntime, runtimeFlag, runtimeLine } from './sandboxRuntime.ts';
import { ensurePrivateDir } from '../../store/privateFiles.ts';
import { absoluteDatabaseUrl, announceBootstrapToken, listenOrExplain, tlsFlags, untilInterrupted } from './server.ts';

const BUNDLED_EXAMPLE = fileURLToPath(new URL('../../../examples/hello.yaml', import.meta.url));

export interface UpFlags {
  readonly port?: string;
  readonly host: string;
  readonly sandboxPort?: string;
  readonly kubeconfig: string;
  readonly databaseUrl?: string;
  readonly file?: string;
  /** commander's --no-example */
  readonly example: boolean;
  readonly nodes: string;
  /** auto | containers | processes */
  readonly runtime?: string;
  readonly dataDir?: string;
  readonly rolloutTimeout: string;
  readonly once?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** True when nothing listens on host:port right now (the server then binds it a moment later). */
async function portFree(host: string, port: number): Promise<boolean> {
  const probe = createServer();
  return new Promise((done) => {
    probe.once('error', () => done(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => done(true)));
  });
}

async function startSandboxOnPreferredPort(flags: UpFlags, kubeconfigPath: string, cwd: string): Promise<{ sandbox: Sandbox; fellBack: boolean }> {
  const base = {
    host: flags.host,
    kubeconfigPath,
    nodes: intFlag(flags.nodes, '--nodes', 1),
    runtime: runtimeFlag(flags.runtime),
    ...(flags.dataDir ? { dataDir: resolve(cwd, flags.dataDir) } : {}),
  };
  if (flags.sandboxPort !== undefined) return { sandbox: await startSandbox({ ...base, port: intFlag(flags.sandboxPort, '--sandbox-port') }), fellBack: false };
  try {
    return { sandbox: await startSandbox({ ...base, port: UP_SANDBOX_PORT }), fellBack: false };
  } catch (e) {
    // A second `berth up` or a real cluster's tunnel may hold 6443; any free port works as well.
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return { sandbox: await startSandbox({ ...base, port: 0 }), fellBack: true };
  }
}

/** The stored app of `doc`, or undefined when the store has none (the only case `berth up` deploys it). */
async function existingApp(client: ApiClient, doc: AppDocument): Promise<AppDetail | undefined> {
  try {
    return await client.getApp(doc.namespace, doc.name);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'BERTH_APP_NOT_FOUND') return undefined;
    throw e;
  }
}

/** `spec.expose.ingress.host` of a raw App document, when it has one. */
function ingressHostOf(document: unknown): string | undefined {
  const host = (document as { spec?: { expose?: { ingress?: { host?: unknown } } } } | null)?.spec?.expose?.ingress?.host;
  return typeof host === 'string' ? host : undefined;
}

/**
 * `berth up`: everything in one process for trying berth out. The embedded sandbox cluster, the berth
 * server against it (SQLite in .berth/), and the bundled example deployed through the server's own
 * API, exactly as `berth deploy --wait` would; then it serves until Ctrl-C and shuts down in order.
 * An app the store already has is never redeployed: after a crash its newest revision is the
 * reconciler's to finish, and `berth up` only shows how it rolls out.
 */
export async function runUp(flags: UpFlags, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  const rolloutTimeoutMs = durationFlag(flags.rolloutTimeout, '--rollout-timeout');
  const tls = tlsFlags(flags, io.cwd);
  const serverPort = flags.port !== undefined ? intFlag(flags.port, '--port') : undefined;
  // Validate before starting anything: bad input changes nothing, not even .berth/.
  let apps: AppDocument[] = [];
  if (flags.example || flags.file !== undefined) {
    const loaded = await readAppFile(io, flags.file ?? BUNDLED_EXAMPLE, undefined);
    writeWarnings(io, loaded.warnings);
    apps = loaded.apps;
  }

  await requireRuntime(runtimeFlag(flags.runtime));
  const kubeconfigPath = resolve(io.cwd, flags.kubeconfig);
  // Before the sandbox writes its kubeconfig and data into it: tokens and the database live here.
  ensurePrivateDir(join(io.cwd, '.berth'));
  const { sandbox, fellBack } = await startSandboxOnPreferredPort(flags, kubeconfigPath, io.cwd);
  let app: FastifyInstance | undefined;
  let exit: ExitCode = EXIT.OK;
  try {
    io.stdout.write(`sandbox cluster  ${sandbox.url}${fellBack ? ` (port ${UP_SANDBOX_PORT} is taken)` : ''}\n`);
    io.stdout.write(`sandbox runtime  ${runtimeLine(sandbox)}\n`);

    const envDb = io.env['BERTH_DATABASE_URL'];
    const databaseUrl = absoluteDatabaseUrl(flags.databaseUrl ?? (envDb || 'sqlite:.berth/berth.db'), io.cwd);
    let port = serverPort ?? UP_SERVER_PORT;
    const portTaken = serverPort === undefined && !(await portFree(flags.host, UP_SERVER_PORT));
    if (portTaken) port = 0;
    const config = loadConfig(
      {
        host: flags.host,
        port,
        databaseUrl,
        kubeconfig: kubeconfigPath,
        ...tls,
        ...(io.env['BERTH_LOG_LEVEL'] ? {} : { logLevel: 'warn' }),
        // The sandbox's ClusterIPs are real loopback listeners: apps are probed as in-cluster callers reach them.
        prober: { network: 'cluster' },
        // Without uid isolation a sandbox image's command override runs as berth's own user: admins only.
        ...(sandbox.processIsolation !== undefined ? { sandboxIsolation: sandbox.processIsolation } : {}),
      },
      io.env as NodeJS.ProcessEnv,
    );
    // Server logs go to stderr so stdout stays the human-readable story of `berth up`.
    // The sandbox shares this process: its heap is sized the same way.
    applyMemoryProfile(config.memoryProfile);
    const logger = createLogger(config, pino.destination({ fd: 2, sync: true }));
    const built = buildServer({ logger }, config);
    const url = await listenOrExplain(built, config); // closes `built` itself when it fails
    app = built;
    io.stdout.write(`berth server     ${url}${portTaken ? ` (port ${UP_SERVER_PORT} is taken)` : ''}\n`);
    io.stdout.write(`dashboard        ${url}/ (sign in with the admin token)\n`);
    io.stdout.write(`API docs         ${url}/docs\n`);
    io.stdout.write(`kubeconfig       ${relative(io.cwd, kubeconfigPath) || kubeconfigPath}\n`);
    if (sandbox.ingress) io.stdout.write(`ingress          ${sandbox.ingress.httpUrl} (HTTP) and ${sandbox.ingress.httpsUrl} (HTTPS), routed by Host header\n`);
    const stateDir = join(io.cwd, '.berth');
    await announceBootstrapToken(built, stateDir, io, 'admin token      ');

    // The example goes through the authenticated API like any client's deploy, with the local token.
    const selfSigned = tls.tls !== undefined && !io.env['BERTH_CA_FILE'] ? { fetch: fetchTrustingCa(readFileSync(tls.tls.certFile)) } : {};
    const client = apiClientFromEnv(io.env, url, { stateDir, ...selfSigned });
    const interrupt = interruptSignal(io);
    try {
      for (const doc of apps) {
        const existing = await existingApp(client, doc);
        if (existing !== undefined) {
          // A restart after a crash: what the store holds (maybe a revision the reconciler is resuming
          // right now) is newer than this file. Deploying the file would supersede it.
          io.stdout.write(
            `\n${doc.namespace}/${doc.name} already exists (revision ${existing.revision}, by ${existing.updatedBy}): left as it is, not redeployed from ${flags.file ?? 'the bundled example'}. Change it with "berth deploy".\n`,
          );
          const result = await waitForRollout(client, io, { namespace: doc.namespace, name: doc.name, revision: existing.revision }, { timeoutMs: rolloutTimeoutMs, progress: true, signal: interrupt.signal });
          // Not this run's change: its state is reported, and berth up serves on so it can be fixed.
          if (!result.ok && !result.interrupted) io.stderr.write(`revision ${existing.revision} of ${doc.namespace}/${doc.name} is not rolled out; see "berth status ${doc.name}${doc.namespace === 'default' ? '' : ` -n ${doc.namespace}`}".\n`);
          if (result.interrupted) {
            // Ctrl-C while waiting: stop, as during a deploy of the example.
            exit = EXIT.FAILED;
            break;
          }
          continue;
        }
        // If-Match 0: should the app appear in between, this refuses instead of superseding it.
        const res = await client.deploy(doc.namespace, doc.name, doc.document, { ifMatch: 0 });
        io.stdout.write(`\ndeploying ${res.namespace}/${res.name} (revision ${res.revision})\n`);
        const result = await waitForRollout(client, io, res, { timeoutMs: rolloutTimeoutMs, progress: true, signal: interrupt.signal });
        if (!result.ok) {
          exit = EXIT.FAILED;
          break;
        }
      }
    } finally {
      interrupt.dispose();
    }
    if (exit === EXIT.OK) {
      const berthUrl = url === `http://127.0.0.1:${UP_SERVER_PORT}` ? '' : `  export BERTH_URL=${url}\n`;
      const first = apps[0];
      const watch = first ? `  npx berth status ${first.name}${first.namespace === 'default' ? '' : ` -n ${first.namespace}`} --watch\n` : '';
      // No DNS here: the sandbox ingress routes on the Host header, so curl sets it explicitly.
      const curls = sandbox.ingress
        ? apps.flatMap((a) => {
            const host = ingressHostOf(a.document);
            return host ? [`  curl -H 'Host: ${host}' ${sandbox.ingress?.httpUrl ?? ''}/\n`] : [];
          })
        : [];
      io.stdout.write(
        `\nTry it:\n\n${berthUrl}  npx berth apps\n${watch}${curls.join('')}\nLook at the cluster with kubectl:\n\n  export KUBECONFIG=${kubeconfigPath}\n  kubectl get deploy,pods,svc,hpa\n\n`,
      );
      if (!flags.once) {
        io.stdout.write('Press Ctrl-C to stop.\n');
        await untilInterrupted(io);
      }
    }
  } finally {
    io.stdout.write('stopping berth server and sandbox\n');
    // Server first (its informers and rollout tracking talk to the sandbox), then the cluster.
    if (app) await app.close();
    await sandbox.stop();
  }
  ctx.setExit(exit);
}
