import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveExecutable } from '../../testing/requiredUnderCi.ts';
import { parseImageRef } from '../kubelet/imageCatalog.ts';
import { serverImageFor } from './serverImages.ts';
import type { ServerLaunchContext } from './serverImages.ts';
import { containerMounts, isInside, mapContainerPath } from './volumeMounts.ts';

const haveRedis = haveExecutable('the redis server image', '/usr/bin/redis-server', 'apt-get install redis-server');
const image = (raw: string) => serverImageFor(parseImageRef(raw));

function ctx(command: string[], args: string[], env: Record<string, string> = {}): ServerLaunchContext {
  return {
    podIP: '127.10.0.9',
    command,
    args,
    env: { PORT: '6379', ...env },
    hostPath: (p) => `/host${p}`,
    ownDir: () => undefined,
    runDir: (n) => `/run/${n}`,
    user: undefined,
  };
}

describe('server images', () => {
  it('knows postgres and redis of any tag and berth.local/s3, nothing else', () => {
    expect(image('postgres:16-alpine')?.name).toBe('postgres');
    expect(image('docker.io/library/redis')?.name).toBe('redis');
    expect(image('berth.local/s3:1')?.name).toBe('s3');
    expect(image('nginx')).toBeUndefined();
    expect(image('bitnami/postgresql')).toBeUndefined();
  });

  it('stops postgres with its image\'s STOPSIGNAL (a fast shutdown), the others with SIGTERM', () => {
    expect(image('postgres:16')?.stopSignal).toBe('SIGINT');
    expect(image('redis:7')?.stopSignal).toBeUndefined();
    expect(image('berth.local/s3')?.stopSignal).toBeUndefined();
  });

  it('aims exec probes at the pod: localhost is the pod, and redis-cli gets the pod IP', () => {
    expect(image('postgres')?.probeArgv(['pg_isready', '-h', 'localhost', '--host=127.0.0.1'], '127.10.0.9')).toEqual(['pg_isready', '-h', '127.10.0.9', '--host=127.10.0.9']);
    expect(image('redis')?.probeArgv(['redis-cli', 'ping'], '127.10.0.9')).toEqual(['redis-cli', '-h', '127.10.0.9', 'ping']);
    expect(image('redis')?.probeArgv(['redis-cli', '-h', 'localhost', 'ping'], '127.10.0.9')).toEqual(['redis-cli', '-h', '127.10.0.9', 'ping']);
  });

  it.skipIf(!haveRedis)('runs redis-server bound to the pod IP whatever the args say, with its data in the /data volume', () => {
    const redis = image('redis');
    if (!redis) throw new Error('no redis image');
    const l = redis.launch(ctx([], ['--appendonly', 'yes', '--bind', '0.0.0.0']));
    expect(l.argv.slice(1)).toEqual(['--appendonly', 'yes', '--bind', '0.0.0.0', '--dir', '/host/data', '--bind', '127.10.0.9', '--daemonize', 'no', '--protected-mode', 'no']);
    expect(l.cwd).toBe('/host/data');
    expect(redis.launch(ctx(['redis-server', '/etc/redis.conf'], [])).argv[1]).toBe('/host/etc/redis.conf');
  });

  it.skipIf(!haveRedis)('refuses commands other than the image server', () => {
    const redis = image('redis');
    if (!redis) throw new Error('no redis image');
    expect(() => redis.launch(ctx(['sh', '-c', 'cat /etc/shadow'], []))).toThrow('the sandbox runs only redis-server from the redis image, not "sh -c cat /etc/shadow"');
  });
});

describe('volume mounts of a process', () => {
  const vol = mkdtempSync(join(tmpdir(), 'berth-mounts-test-'));
  afterAll(() => rmSync(vol, { recursive: true, force: true }));

  it('maps claims and emptyDirs (with subPath) to host directories, the longest mount first', () => {
    const podSpec = { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }, { name: 'cfg', configMap: { name: 'x' } }] };
    const container = {
      volumeMounts: [
        { name: 'data', mountPath: '/var/lib/postgresql/data' },
        { name: 'data', mountPath: '/var/lib/postgresql/data/sub', subPath: 'nested' },
        { name: 'cfg', mountPath: '/etc/cfg' },
      ],
    };
    const mounts = containerMounts(podSpec, container, { data: `${vol}/pvc-1` }, `${vol}/pod`);
    expect(mounts).toEqual([
      { mountPath: '/var/lib/postgresql/data', hostPath: `${vol}/pvc-1` },
      { mountPath: '/var/lib/postgresql/data/sub', hostPath: `${vol}/pvc-1/nested` },
    ]);
    expect(mapContainerPath(mounts, '/var/lib/postgresql/data/pgdata')).toBe(`${vol}/pvc-1/pgdata`);
    expect(mapContainerPath(mounts, '/var/lib/postgresql/data/sub/x')).toBe(`${vol}/pvc-1/nested/x`);
    expect(mapContainerPath(mounts, '/var/lib/postgresql/database')).toBeUndefined();
    expect(() => containerMounts(podSpec, { volumeMounts: [{ name: 'data', mountPath: '/d', subPath: '../../etc' }] }, { data: `${vol}/pvc-1` }, `${vol}/pod`)).toThrow('must be a relative path inside the volume');
  });

  it('tells paths inside a root from the root itself and from escapes', () => {
    expect(isInside('/vol', '/vol/a/b')).toBe(true);
    expect(isInside('/vol', '/vol')).toBe(false);
    expect(isInside('/vol', '/vol/../etc')).toBe(false);
    expect(isInside('/vol', '/volume')).toBe(false);
  });
});
