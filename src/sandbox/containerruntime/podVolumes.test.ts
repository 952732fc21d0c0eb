import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClient } from '../controllers/testing/fakeClient.ts';
import { RES } from '../client/resources.ts';
import { containerMounts, removeInstanceVolumes } from './podVolumes.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup(): Promise<{ client: FakeClient; podDir: string }> {
  const client = new FakeClient();
  await client.create(RES.configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' }, data: { 'app.yaml': 'a: 1', other: 'x' } });
  await client.create(RES.secrets, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'ns' }, data: { token: Buffer.from('s3cret').toString('base64') } });
  const podDir = mkdtempSync(join(tmpdir(), 'berth-vol-'));
  dirs.push(podDir);
  return { client, podDir };
}

const podSpec = {
  volumes: [
    { name: 'tmp', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'app.yaml', path: 'conf/app.yaml', mode: 0o600 }] } },
    { name: 'sec', secret: { secretName: 'sec' } },
    { name: 'host', hostPath: { path: '/etc' } },
  ],
};

describe('containerMounts', () => {
  it('materialises emptyDir, ConfigMap items and Secrets; ConfigMaps and Secrets mount read-only', async () => {
    const { client, podDir } = await setup();
    const container = {
      volumeMounts: [
        { name: 'tmp', mountPath: '/tmp' },
        { name: 'cfg', mountPath: '/etc/app' },
        { name: 'sec', mountPath: '/var/run/secret', readOnly: false },
      ],
    };
    const mounts = await containerMounts(client, { namespace: 'ns', uid: 'u' }, podSpec, container, podDir, 'i1');
    expect(mounts.map((m) => [m.containerPath, m.readOnly])).toEqual([
      ['/tmp', false],
      ['/etc/app', true],
      ['/var/run/secret', true],
    ]);
    const [tmp, cfg, sec] = mounts.map((m) => m.hostPath);
    expect(statSync(tmp ?? '').mode & 0o777).toBe(0o777);
    expect(readFileSync(join(cfg ?? '', 'conf/app.yaml'), 'utf8')).toBe('a: 1');
    expect(statSync(join(cfg ?? '', 'conf/app.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(sec ?? '', 'token'), 'utf8')).toBe('s3cret');
    removeInstanceVolumes(podDir, 'i1');
    expect(() => statSync(cfg ?? '')).toThrow();
    // The emptyDir outlives one start, as it outlives container restarts in Kubernetes.
    expect(statSync(tmp ?? '').isDirectory()).toBe(true);
  });

  it('refuses hostPath volumes and subPaths that leave the volume', async () => {
    const { client, podDir } = await setup();
    await expect(containerMounts(client, { namespace: 'ns', uid: 'u' }, podSpec, { volumeMounts: [{ name: 'host', mountPath: '/host' }] }, podDir, 'i')).rejects.toThrow('hostPath volume "host" is not mounted');
    await expect(containerMounts(client, { namespace: 'ns', uid: 'u' }, podSpec, { volumeMounts: [{ name: 'tmp', mountPath: '/x', subPath: '../../etc' }] }, podDir, 'i')).rejects.toThrow('must be a relative path inside the volume');
  });
});
