import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/startSandbox.ts';
import type { Sandbox } from '../../src/sandbox/startSandbox.ts';
import { kubeConfigFor, raw, statusOf, until } from './testing/sandboxTestKit.ts';

const CM = { group: '', version: 'v1', resource: 'configmaps' };

describe('fault injection', () => {
  let sb: Sandbox;
  let core: CoreV1Api;
  beforeAll(async () => {
    sb = await startSandbox({ port: 0, controllers: false, adminFaultsPath: '/_sandbox/faults' });
    core = kubeConfigFor(sb.kubeconfig).makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await sb.stop();
  });

  it('fails the next requests with 500, 429 (Retry-After) and 503', async () => {
    sb.faults.failNext(2, 500);
    const s1 = await statusOf(() => core.listNamespace());
    expect(s1).toMatchObject({ code: 500, reason: 'InternalError' });
    await statusOf(() => core.listNamespace());
    expect((await core.listNamespace()).items.length).toBeGreaterThan(0);

    sb.faults.failNext(1, 429);
    const r = await raw(sb.url, '/api/v1/namespaces');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(r.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });

    const admin = await raw(sb.url, '/_sandbox/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'failNext', count: 1, code: 503 }) });
    expect(admin.status).toBe(200);
    expect((await raw(sb.url, '/api/v1/namespaces')).status).toBe(503);
    expect((await raw(sb.url, '/api/v1/namespaces')).status).toBe(200);
  });

  it('adds latency', async () => {
    sb.faults.setLatency(120);
    const t = Date.now();
    await core.listNamespace();
    expect(Date.now() - t).toBeGreaterThanOrEqual(100);
    sb.faults.setLatency(0);
  });

  it('drops HTTP watches but not in-process ones', async () => {
    let ended = false;
    await new Watch(kubeConfigFor(sb.kubeconfig)).watch('/api/v1/namespaces/default/configmaps', {}, () => {}, () => {
      ended = true;
    });
    const inproc: string[] = [];
    const stop = sb.client.watch(CM, { namespace: 'default' }, (ev) => inproc.push(ev.object.metadata.name ?? ''));
    await new Promise((r) => setTimeout(r, 50));
    sb.faults.dropWatches();
    await until(() => ended || undefined, 2000, 'watch closed');
    await sb.client.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-drop', namespace: 'default' } });
    await until(() => inproc.includes('after-drop') || undefined, 2000, 'in-process event');
    stop();
  });

  it('restarts on the same port keeping state and disconnecting watchers', async () => {
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survivor' } } });
    let ended = false;
    await new Watch(kubeConfigFor(sb.kubeconfig)).watch('/api/v1/namespaces/default/configmaps', {}, () => {}, () => {
      ended = true;
    });
    const before = sb.url;
    await sb.faults.restart();
    await until(() => ended || undefined, 2000, 'watch closed by restart');
    expect(sb.url).toBe(before);
    const got = await core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
    expect(got.metadata?.name).toBe('survivor');
  });
});

describe('data directory', () => {
  it('keeps objects and keeps resourceVersions increasing across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-sandbox-data-'));
    try {
      const a = await startSandbox({ port: 0, controllers: false, dataDir: dir });
      const created = await a.client.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: 'default' }, data: { x: '1' } });
      await a.client.patch(CM, 'default', 'kept', { data: { x: '1', y: '2' } }, 'merge');
      await a.stop();
      const b = await startSandbox({ port: 0, controllers: false, dataDir: dir });
      try {
        const got = await b.client.get(CM, 'default', 'kept');
        expect(got?.['data']).toEqual({ x: '1', y: '2' });
        expect(got?.metadata.uid).toBe(created.metadata.uid);
        const next = await b.client.create(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'default' } });
        expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
        // Watches cannot resume across a restart: the history is not persisted.
        expect(() => b.client.watch(CM, { resourceVersion: created.metadata.resourceVersion ?? '' }, () => {})).toThrow(/too old resource version/);
      } finally {
        await b.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
