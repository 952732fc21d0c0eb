import { AppsV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObjects, loadKubeConfig } from '../cluster/applyObjects.ts';
import { renderApp } from '../manifests/renderApp.ts';
import { startSandbox, type Sandbox } from '../sandbox/startSandbox.ts';
import { loadApps } from '../appspec/loadApps.ts';
import { createStatusEngine, type BerthStatusEngine } from './statusEngine.ts';
import type { AppStatus, StatusEvent } from './types.ts';

/**
 * The status engine against the sandbox cluster over HTTP, exactly as against a real cluster: apps are
 * rendered and server-side applied, and every status comes from the engine's four shared watches.
 */

let sandbox: Sandbox;
let kc: KubeConfig;
let engine: BerthStatusEngine;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, nodes: 2, timeScale: 0.02 });
  kc = loadKubeConfig(sandbox.kubeconfig);
  engine = createStatusEngine({ kubeConfig: kc, backoff: { initialMs: 100, maxMs: 1000 } });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop();
  await sandbox?.stop();
});

/** Renders an App (with its own restricted namespace) and stamps the berth revision like the deploy engine does. */
function render(namespace: string, name: string, spec: Record<string, unknown>, revision: number): KubernetesObject[] {
  const { apps } = loadApps(JSON.stringify({ apiVersion: 'berth.dev/v1alpha1', kind: 'App', metadata: { name, namespace }, spec }));
  const app = apps[0];
  if (!app) throw new Error('no app');
  return renderApp(app, { includeNamespace: true }).map((o) => {
    const obj = o as KubernetesObject;
    if (obj.kind !== 'Deployment') return obj;
    return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, 'berth.dev/revision': String(revision) } } };
  });
}

async function deploy(namespace: string, name: string, spec: Record<string, unknown>, revision: number): Promise<void> {
  await applyObjects(kc, render(namespace, name, spec, revision), { skipUnserved: true });
}

function until(namespace: string, name: string, done: (s: AppStatus) => boolean, timeoutMs = 15_000): Promise<AppStatus> {
  return engine.waitFor(namespace, name, done, { timeoutMs });
}

/** Collects every status event of one app from now on. */
function record(namespace: string, name: string): { events: StatusEvent[]; stop: () => void } {
  const events: StatusEvent[] = [];
  const stop = engine.subscribe({ namespace, name }, (e) => events.push(e));
  return { events, stop };
}

const hello = { image: 'nginx:1.27', replicas: 2, env: { MESSAGES: 'hello' } };

describe('status engine against the sandbox', () => {
  it('follows a rendered app to Available, then a rolling update through Progressing to Available with the new revision', async () => {
    const rec = record('st-roll', 'web');
    await deploy('st-roll', 'web', hello, 1);
    const first = await until('st-roll', 'web', (s) => s.state === 'Available');
    expect(first).toMatchObject({ revision: 1, reason: 'Ready', message: '2/2 pods of revision 1 ready', replicas: { desired: 2, ready: 2, available: 2, updated: 2 } });
    expect(first.pods).toHaveLength(2);
    expect(first.pods.every((p) => p.current && p.ready && p.phase === 'Running' && p.node !== null && p.ip !== null)).toBe(true);

    await deploy('st-roll', 'web', { ...hello, env: { MESSAGES: 'changed' } }, 2);
    const second = await until('st-roll', 'web', (s) => s.state === 'Available' && s.revision === 2);
    expect(second.message).toBe('2/2 pods of revision 2 ready');
    rec.stop();
    const seen = rec.events.map((e) => `${e.status?.revision}:${e.status?.state}/${e.status?.reason}`);
    const firstAvailable = seen.indexOf('1:Available/Ready');
    const rolling = seen.indexOf('2:Progressing/RollingUpdate');
    expect(firstAvailable).toBeGreaterThanOrEqual(0);
    expect(rolling).toBeGreaterThan(firstAvailable);
    expect(seen.at(-1)).toBe('2:Available/Ready');
    const progressing = rec.events.find((e) => e.status?.reason === 'RollingUpdate');
    expect(progressing?.status?.message).toMatch(/^rolling update to revision 2: \d\/2 pods of revision 2 ready, \d pod\(s\) of revision 1 left$/);
    // Ids are monotonic and nothing is emitted twice in a row unchanged.
    const ids = rec.events.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('reports a missing image as Failed/ImagePullFailed within seconds, quoting the image and the kubelet', async () => {
    const started = Date.now();
    // The sandbox's catalog accepts any tag of a known repository (nginx:doesnotexist pulls), so an unknown repository stands in.
    await deploy('st-pull', 'bad', { image: 'acme/doesnotexist:1.0', replicas: 1 }, 1);
    const s = await until('st-pull', 'bad', (x) => x.state === 'Failed', 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(s.reason).toBe('ImagePullFailed');
    expect(s.message).toMatch(/^revision 1 cannot start: image "acme\/doesnotexist:1.0" cannot be pulled: rpc error: code = NotFound .*not found$/);
    expect(s.pods[0]?.waitingReason).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(s.warnings.some((w) => w.reason === 'Failed' && w.object.startsWith('Pod/bad-'))).toBe(true);
  });

  it('reports CrashLooping with the exit code', async () => {
    await deploy('st-crash', 'crash', { image: 'berth.local/crashloop:1.0', replicas: 1 }, 1);
    const s = await until('st-crash', 'crash', (x) => x.reason === 'CrashLooping');
    expect(s.state).toBe('Failed');
    expect(s.message).toMatch(/container "app" keeps crashing: exit code 1/);
    expect(s.pods[0]?.restarts).toBeGreaterThanOrEqual(2);
    expect(s.pods[0]?.lastTermination?.exitCode).toBe(1);
  });

  it('reports a Pod Security rejection as ForbiddenByPodSecurity quoting the violated checks', async () => {
    const ns = 'st-psa';
    const labels = { 'app.kubernetes.io/managed-by': 'berth', 'app.kubernetes.io/name': 'priv', 'app.kubernetes.io/instance': 'priv' };
    await applyObjects(kc, [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'priv', namespace: ns, labels, annotations: { 'berth.dev/revision': '1' } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { 'app.kubernetes.io/instance': 'priv' } },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', securityContext: { privileged: true } }] } },
        },
      } as KubernetesObject,
    ]);
    const s = await until(ns, 'priv', (x) => x.reason === 'ForbiddenByPodSecurity');
    expect(s.state).toBe('Failed');
    expect(s.message).toMatch(/^revision 1 cannot start: pods are forbidden by Pod Security "restricted:latest": .*privileged \(container "app" must not set securityContext.privileged=true\)/);
    expect(s.warnings[0]).toMatchObject({ reason: 'FailedCreate' });
  });

  it('reports a request no node can fit as Unschedulable', async () => {
    await deploy('st-sched', 'huge', { image: 'nginx:1.27', replicas: 1, resources: { cpu: '64' } }, 1);
    const s = await until('st-sched', 'huge', (x) => x.reason === 'Unschedulable');
    expect(s.message).toBe('revision 1 cannot start: pods cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.');
  });

  it('reports a secretEnv reference to a missing Secret as ConfigError', async () => {
    await deploy('st-secret', 'app', { image: 'nginx:1.27', replicas: 1, secretEnv: { PASSWORD: { secret: 'db', key: 'password' } } }, 1);
    const s = await until('st-secret', 'app', (x) => x.reason === 'ConfigError');
    expect(s.state).toBe('Failed');
    expect(s.message).toBe('revision 1 cannot start: container "app" cannot be created: secret "db" not found');
    expect(s.pods[0]?.waitingReason).toBe('CreateContainerConfigError');
  });

  it('reports Degraded when a bad image is rolled over a healthy revision', async () => {
    await deploy('st-degraded', 'web', hello, 1);
    await until('st-degraded', 'web', (s) => s.state === 'Available');
    await deploy('st-degraded', 'web', { ...hello, image: 'acme/doesnotexist:2.0' }, 2);
    const s = await until('st-degraded', 'web', (x) => x.state === 'Degraded');
    expect(s.reason).toBe('ImagePullFailed');
    expect(s.revision).toBe(2);
    expect(s.message).toMatch(/^revision 2 cannot start: image "acme\/doesnotexist:2.0" cannot be pulled: .*; [12]\/2 pods of revision 1 still serve traffic$/);
    expect(s.pods.some((p) => !p.current && p.ready)).toBe(true);
  });

  it('survives dropped watches, a compacted history (410) and an API server restart mid-rollout', async () => {
    const ns = 'st-faults';
    await deploy(ns, 'web', hello, 1);
    await until(ns, 'web', (s) => s.state === 'Available');
    const base = engine.stats();
    const relistsBefore = engine.informerStats().reduce((n, s) => n + s.relists, 0);

    // (a) every watch connection dropped mid-rollout
    await deploy(ns, 'web', { ...hello, env: { MESSAGES: 'two' } }, 2);
    sandbox.faults.dropWatches();
    await until(ns, 'web', (s) => s.state === 'Available' && s.revision === 2);
    expect(engine.stats().reconnects).toBeGreaterThanOrEqual(base.reconnects + 4);

    // (b) history compacted, so resuming answers 410 and the informers re-list
    await deploy(ns, 'web', { ...hello, env: { MESSAGES: 'three' } }, 3);
    sandbox.faults.compactHistory();
    sandbox.faults.dropWatches();
    await until(ns, 'web', (s) => s.state === 'Available' && s.revision === 3);
    expect(engine.informerStats().reduce((n, s) => n + s.relists, 0)).toBeGreaterThanOrEqual(relistsBefore + 4);

    // (c) the API server restarts on the same port
    const beforeRestart = engine.stats().reconnects;
    await deploy(ns, 'web', { ...hello, env: { MESSAGES: 'four' } }, 4);
    await sandbox.faults.restart();
    const final = await until(ns, 'web', (s) => s.state === 'Available' && s.revision === 4);
    expect(final.message).toBe('2/2 pods of revision 4 ready');
    expect(engine.stats().reconnects).toBeGreaterThan(beforeRestart);

    // Still exactly one watch per informer: no duplicates left behind by the reconnects.
    await expect.poll(() => engine.stats().watchConnections, { timeout: 5_000 }).toBe(6);
    expect(engine.informerStats().map((s) => [s.resource, s.watchConnections])).toEqual([
      ['deployments', 1],
      ['replicasets', 1],
      ['pods', 1],
      ['events', 1],
      ['hpas', 1],
      ['hpaEvents', 1],
    ]);
  });

  it('serves 50 subscribers from the same 6 watch connections', async () => {
    const got = new Set<number>();
    const offs = Array.from({ length: 50 }, (_, i) => engine.subscribe({ namespace: 'st-many' }, () => got.add(i)));
    await deploy('st-many', 'web', { image: 'nginx:1.27', replicas: 1 }, 1);
    await until('st-many', 'web', (s) => s.state === 'Available');
    expect(got.size).toBe(50);
    expect(engine.stats()).toMatchObject({ watchConnections: 6, subscribers: 50 });
    for (const off of offs) off();
    expect(engine.stats().subscribers).toBe(0);
  });

  it('emits deleted when the app\'s Deployment is deleted', async () => {
    await deploy('st-delete', 'web', { image: 'nginx:1.27', replicas: 1 }, 1);
    await until('st-delete', 'web', (s) => s.state === 'Available');
    const rec = record('st-delete', 'web');
    await kc.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ name: 'web', namespace: 'st-delete' });
    await expect.poll(() => rec.events.some((e) => e.type === 'deleted'), { timeout: 5_000 }).toBe(true);
    rec.stop();
    expect(engine.get('st-delete', 'web')).toBeUndefined();
  });
});
