import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObjects, loadKubeConfig } from '../cluster/applyObjects.ts';
import type { InformerTransport } from '../cluster/informer.ts';
import { createClientNodeTransport } from '../cluster/informerTransport.ts';
import { renderApp } from '../manifests/renderApp.ts';
import { startSandbox, type Sandbox } from '../sandbox/startSandbox.ts';
import { loadApps } from '../appspec/loadApps.ts';
import { createStatusEngine, type BerthStatusEngine } from './statusEngine.ts';

/**
 * The status engine limited to berth's managed namespaces, against the sandbox over HTTP with the real
 * client-node transport (only wrapped to record which paths it asks for).
 */

let sandbox: Sandbox;
let kc: KubeConfig;
let scoped: BerthStatusEngine;
let everywhere: BerthStatusEngine;
const paths: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, nodes: 1, timeScale: 0.02 });
  kc = loadKubeConfig(sandbox.kubeconfig);
  const real = createClientNodeTransport(kc);
  const recording: InformerTransport = {
    list: (path, query) => {
      paths.push(`list ${path}`);
      return real.list(path, query);
    },
    watch: (path, query, onEvent, onClose) => {
      paths.push(`watch ${path}`);
      return real.watch(path, query, onEvent, onClose);
    },
  };
  // Started before the namespaces exist: berth may be installed before the apps' namespaces are used.
  scoped = createStatusEngine({ kubeConfig: kc, transport: recording, namespaces: ['nsi-shop', 'nsi-web'], backoff: { initialMs: 100, maxMs: 1000 } });
  everywhere = createStatusEngine({ kubeConfig: kc, backoff: { initialMs: 100, maxMs: 1000 } });
  await Promise.all([scoped.start(), everywhere.start()]);
});

afterAll(async () => {
  await scoped?.stop();
  await everywhere?.stop();
  await sandbox?.stop();
});

function render(namespace: string, name: string, env: Record<string, string>, revision: number): KubernetesObject[] {
  const { apps } = loadApps(JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace }, spec: { image: 'nginx:1.27', replicas: 1, env } }));
  const app = apps[0];
  if (!app) throw new Error('no app');
  return renderApp(app, { includeNamespace: true }).map((o) => {
    const obj = o as KubernetesObject;
    if (obj.kind !== 'Deployment') return obj;
    return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, 'berth.dev/revision': String(revision) } } };
  });
}

async function deploy(namespace: string, name: string, revision: number, env: Record<string, string> = { MESSAGES: 'hi' }): Promise<void> {
  await applyObjects(kc, render(namespace, name, env, revision), { skipUnserved: true });
}

describe('status engine limited to managed namespaces, against the sandbox', () => {
  it('follows apps in its namespaces only, over namespaced list/watch paths, with 4 watches per namespace', async () => {
    await deploy('nsi-other', 'outside', 1);
    await deploy('nsi-web', 'web', 1);
    await deploy('nsi-shop', 'api', 1);
    // The cluster-wide engine proves the outside app really rolled out while the scoped one looked away.
    await everywhere.waitFor('nsi-other', 'outside', (s) => s.state === 'Available', { timeoutMs: 15_000 });
    await scoped.waitFor('nsi-web', 'web', (s) => s.state === 'Available', { timeoutMs: 15_000 });
    await scoped.waitFor('nsi-shop', 'api', (s) => s.state === 'Available', { timeoutMs: 15_000 });

    expect(scoped.get('nsi-other', 'outside')).toBeUndefined();
    expect(scoped.list().map((s) => `${s.namespace}/${s.name}`)).toEqual(['nsi-shop/api', 'nsi-web/web']);
    expect(everywhere.list().map((s) => s.namespace)).toContain('nsi-other');

    expect(paths.length).toBeGreaterThanOrEqual(24);
    expect(paths.filter((p) => !/^(list|watch) \/apis?\/[^ ]*\/namespaces\/nsi-(shop|web)\/(deployments|replicasets|pods|events|horizontalpodautoscalers)$/.test(p))).toEqual([]);
    await expect.poll(() => scoped.stats().watchConnections, { timeout: 5_000 }).toBe(12);
    expect(scoped.informerStats().map((s) => [s.resource, s.watchConnections])).toEqual([
      ['deployments', 2],
      ['replicasets', 2],
      ['pods', 2],
      ['events', 2],
      ['hpas', 2],
      ['hpaEvents', 2],
    ]);
  });

  it('recovers every per-namespace watch after dropped watches and a compacted history', async () => {
    const before = scoped.stats().reconnects;
    const relistsBefore = scoped.informerStats().reduce((n, s) => n + s.relists, 0);
    await deploy('nsi-web', 'web', 2, { MESSAGES: 'two' });
    sandbox.faults.compactHistory();
    sandbox.faults.dropWatches();
    const s = await scoped.waitFor('nsi-web', 'web', (x) => x.state === 'Available' && x.revision === 2, { timeoutMs: 15_000 });
    expect(s.message).toBe('1/1 pods of revision 2 ready');
    // The app can be Available before the last of the 12 watches has come back: wait for all of them.
    await expect.poll(() => scoped.stats().reconnects, { timeout: 5_000 }).toBeGreaterThanOrEqual(before + 12);
    await expect.poll(() => scoped.informerStats().reduce((n, x) => n + x.relists, 0), { timeout: 5_000 }).toBeGreaterThanOrEqual(relistsBefore + 12);
    await expect.poll(() => scoped.stats().watchConnections, { timeout: 5_000 }).toBe(12);
    expect(scoped.get('nsi-other', 'outside')).toBeUndefined();
  });
});
