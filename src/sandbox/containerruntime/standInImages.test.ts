import { describe, expect, it } from 'vitest';
import { parseImageRef } from '../kubelet/imageCatalog.ts';
import { describeStandIn, podServerContainer, standInName } from './standInImages.ts';

describe('standInName', () => {
  it('stands berth\'s builds in for Docker Hub\'s official postgres and redis only', () => {
    expect(standInName(parseImageRef('postgres:16'))).toBe('berth.local/postgres:debian12');
    expect(standInName(parseImageRef('redis:7'))).toBe('berth.local/redis:debian12');
    expect(standInName(parseImageRef('berth.local/postgres:15'))).toBeUndefined();
    expect(standInName(parseImageRef('ghcr.io/x/postgres:16'))).toBeUndefined();
    expect(standInName(parseImageRef('nginx:1.27'))).toBeUndefined();
  });

  it('reports the image that runs by its ID and the version it really has', () => {
    const s = describeStandIn(parseImageRef('redis:7'), 'berth.local/redis:debian12', '5:7.0.15-1~deb12u10', 'abc');
    expect(s.imageId).toBe('berth.local/redis@sha256:abc');
    expect(s.message).toContain('running berth.local/redis:debian12 (redis 5:7.0.15-1~deb12u10 from Debian 12\'s packages) in its place');
  });
});

describe('podServerContainer', () => {
  const ip = '127.10.0.9';
  it('binds a server to the pod IP, last so it wins', () => {
    expect(podServerContainer('redis', { name: 'r', args: ['--requirepass', 'x', '--dir', '/data'] }, ip)['args']).toEqual(['--requirepass', 'x', '--dir', '/data', '--bind', ip]);
    expect(podServerContainer('redis', { name: 'r' }, ip)['args']).toEqual(['--protected-mode', 'no', '--bind', ip]);
    expect(podServerContainer('redis', { name: 'r', command: ['redis-server'], args: ['/etc/redis.conf'] }, ip)['args']).toEqual(['/etc/redis.conf', '--bind', ip]);
    expect(podServerContainer('postgres', { name: 'p' }, ip)['args']).toEqual(['postgres', '-c', `listen_addresses=${ip}`]);
    expect(podServerContainer('postgres', { name: 'p', args: ['-c', 'max_connections=50'] }, ip)['args']).toEqual(['-c', 'max_connections=50', '-c', `listen_addresses=${ip}`]);
    expect(podServerContainer('postgres', { name: 'p', command: ['docker-entrypoint.sh', 'postgres'] }, ip)['args']).toEqual(['-c', `listen_addresses=${ip}`]);
  });

  it('leaves clients and other images alone', () => {
    const cli = { name: 'c', command: ['redis-cli'], args: ['-h', 'db', 'ping'] };
    expect(podServerContainer('redis', cli, ip)).toBe(cli);
    const psql = { name: 'c', args: ['psql', '-h', 'db'] };
    expect(podServerContainer('postgres', psql, ip)).toBe(psql);
    const app = { name: 'a', args: ['--port', '8080'] };
    expect(podServerContainer(undefined, app, ip)).toBe(app);
    expect(podServerContainer('s3', app, ip)).toBe(app);
  });
});
