import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { RegisterCommand } from '../command.ts';
import { EXIT } from '../io.ts';
import { startSandbox, type Sandbox } from '../../sandbox/startSandbox.ts';
import { loadApps } from '../../spec/loadApps.ts';
import { renderApp } from '../../manifests/renderApp.ts';
import { applyObjects, loadKubeConfig } from '../../cluster/applyObjects.ts';
import type { ResolvedApp } from '../../spec/resolvedApp.ts';

const BUNDLED_EXAMPLE = fileURLToPath(new URL('../../../examples/hello.yaml', import.meta.url));
const DEFAULT_PORT = 6443;

interface UpOptions {
  port?: string;
  host: string;
  kubeconfig: string;
  file: string;
  nodes: string;
  dataDir?: string;
  once?: boolean;
  rolloutTimeout: string;
}

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

async function startOnPreferredPort(opts: UpOptions, kubeconfigPath: string, cwd: string): Promise<Sandbox> {
  const base = {
    host: opts.host,
    kubeconfigPath,
    nodes: intOption(opts.nodes, '--nodes'),
    ...(opts.dataDir ? { dataDir: resolve(cwd, opts.dataDir) } : {}),
  };
  if (opts.port !== undefined) return startSandbox({ ...base, port: intOption(opts.port, '--port') });
  try {
    return await startSandbox({ ...base, port: DEFAULT_PORT });
  } catch (e) {
    // A second `npm start` or a real cluster's tunnel may hold 6443; any free port works as well.
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return startSandbox({ ...base, port: 0 });
  }
}

/** Polls until every Deployment of the app reports all replicas updated and available. */
async function waitForRollout(kc: KubeConfig, app: ResolvedApp, timeoutMs: number): Promise<{ ready: number; desired: number }> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  let last = { ready: 0, desired: -1 };
  while (Date.now() < deadline) {
    const d = await apps.readNamespacedDeployment({ name: app.metadata.name, namespace: app.metadata.namespace });
    // With autoscaling the HPA owns the count; the rollout is done once it has scaled to its minimum.
    const desired = Math.max(d.spec?.replicas ?? 0, app.spec.autoscale?.min ?? 0);
    const available = d.status?.availableReplicas ?? 0;
    const updated = d.status?.updatedReplicas ?? 0;
    last = { ready: available, desired };
    if ((d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) && desired > 0 && available >= desired && updated >= desired) {
      return last;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`rollout of ${app.metadata.namespace}/${app.metadata.name} did not finish in ${timeoutMs} ms (${last.ready}/${last.desired} available)`);
}

/**
 * `berth up`: the main job. Starts the embedded sandbox cluster, deploys the bundled example (or
 * `--file`) into it through the same server-side apply berth uses against real clusters, waits for the
 * rollout and then serves until interrupted.
 */
export const registerUp: RegisterCommand = (program, ctx) => {
  program
    .command('up')
    .description('Start the embedded sandbox cluster and deploy an App into it.')
    .option('--port <port>', `sandbox API port (default ${DEFAULT_PORT}, or a free one when taken)`)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig <path>', 'where to write the kubeconfig', '.berth/sandbox.kubeconfig')
    .option('-f, --file <path>', 'App file to deploy', BUNDLED_EXAMPLE)
    .option('--nodes <n>', 'number of simulated nodes', '3')
    .option('--data-dir <dir>', 'keep cluster state in this directory across restarts')
    .option('--rollout-timeout <ms>', 'how long to wait for the rollout', '60000')
    .option('--once', 'exit after the rollout instead of serving until interrupted')
    .action(async (opts: UpOptions) => {
      const { io } = ctx;
      const file = resolve(io.cwd, opts.file);
      // Validate before starting anything: bad input changes nothing.
      const { apps, warnings } = loadApps(readFileSync(file, 'utf8'), { source: file });
      for (const w of warnings) io.stderr.write(`warning ${w.code}: ${w.path}: ${w.message}\n`);

      const kubeconfigPath = resolve(io.cwd, opts.kubeconfig);
      const sandbox = await startOnPreferredPort(opts, kubeconfigPath, io.cwd);
      let exit: (typeof EXIT)[keyof typeof EXIT] = EXIT.OK;
      try {
        io.stdout.write(`berth sandbox listening on ${sandbox.url}\nkubeconfig written to ${kubeconfigPath}\n`);
        const kc = loadKubeConfig(kubeconfigPath);
        for (const app of apps) {
          const objects = renderApp(app, { includeNamespace: app.metadata.namespace !== 'default' });
          const { applied, skipped } = await applyObjects(kc, objects, { skipUnserved: true });
          io.stdout.write(`\napplied ${applied.length} objects for ${app.metadata.namespace}/${app.metadata.name}:\n`);
          for (const o of applied) io.stdout.write(`  ${o.kind.toLowerCase()}/${o.name}\n`);
          for (const s of skipped) io.stdout.write(`  skipped ${s.kind.toLowerCase()}/${s.name}: ${s.reason}\n`);
          const { ready, desired } = await waitForRollout(kc, app, intOption(opts.rolloutTimeout, '--rollout-timeout'));
          io.stdout.write(`rollout complete: ${ready}/${desired} replicas available\n`);
        }
        io.stdout.write(`\nLook at it with kubectl:\n\n  export KUBECONFIG=${kubeconfigPath}\n  kubectl get deploy,pods,svc,hpa\n\n`);
        if (!opts.once) {
          io.stdout.write('Press Ctrl-C to stop.\n');
          await new Promise<void>((done) => {
            const onSignal = (): void => {
              process.off('SIGINT', onSignal);
              process.off('SIGTERM', onSignal);
              done();
            };
            process.on('SIGINT', onSignal);
            process.on('SIGTERM', onSignal);
          });
        }
      } catch (e) {
        io.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
        exit = EXIT.FAILED;
      } finally {
        io.stdout.write('stopping sandbox\n');
        await sandbox.stop();
      }
      ctx.setExit(exit);
    });
};
