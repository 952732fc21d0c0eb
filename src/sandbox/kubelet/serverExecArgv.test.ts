import { describe, expect, it } from 'vitest';
import { parseImageRef } from './imageCatalog.ts';
import { serverExecArgv, serverImageKind } from './serverExecArgv.ts';

describe('serverImageKind', () => {
  it('knows the official images, berth\'s own builds and nothing else', () => {
    expect(serverImageKind(parseImageRef('postgres:16'))).toBe('postgres');
    expect(serverImageKind(parseImageRef('docker.io/library/redis:7-alpine'))).toBe('redis');
    expect(serverImageKind(parseImageRef('berth.local/postgres:15'))).toBe('postgres');
    expect(serverImageKind(parseImageRef('berth.local/redis:debian12'))).toBe('redis');
    expect(serverImageKind(parseImageRef('berth.local/s3'))).toBe('s3');
    expect(serverImageKind(parseImageRef('bitnami/postgresql:16'))).toBeUndefined();
    expect(serverImageKind(parseImageRef('quay.io/x/redis:7'))).toBeUndefined();
  });
});

describe('serverExecArgv', () => {
  const ip = '127.10.3.4';
  it('aims localhost at the pod: the machine\'s own servers listen there', () => {
    expect(serverExecArgv('postgres', ['pg_isready', '-h', 'localhost', '-U', 'app'], ip)).toEqual(['pg_isready', '-h', ip, '-U', 'app']);
    expect(serverExecArgv('postgres', ['psql', '--host=127.0.0.1', '-c', 'select 1'], ip)).toEqual(['psql', `--host=${ip}`, '-c', 'select 1']);
    expect(serverExecArgv('postgres', ['pg_isready', '-hlocalhost'], ip)).toEqual(['pg_isready', `-h${ip}`]);
    // Without -h, pg_isready uses the container's socket: its own server.
    expect(serverExecArgv('postgres', ['pg_isready', '-U', 'app'], ip)).toEqual(['pg_isready', '-U', 'app']);
  });

  it('gives redis-cli the pod IP unless it names a host or URL', () => {
    expect(serverExecArgv('redis', ['redis-cli', 'ping'], ip)).toEqual(['redis-cli', '-h', ip, 'ping']);
    expect(serverExecArgv('redis', ['/usr/bin/redis-cli', '-h', 'localhost', 'ping'], ip)).toEqual(['/usr/bin/redis-cli', '-h', ip, 'ping']);
    expect(serverExecArgv('redis', ['redis-cli', '-u', 'redis://x:6379', 'ping'], ip)).toEqual(['redis-cli', '-u', 'redis://x:6379', 'ping']);
    expect(serverExecArgv('redis', ['sh', '-c', 'redis-cli ping'], ip)).toEqual(['sh', '-c', 'redis-cli ping']);
  });

  it('leaves other images\' commands as written', () => {
    expect(serverExecArgv(undefined, ['curl', 'localhost:8080'], ip)).toEqual(['curl', 'localhost:8080']);
    expect(serverExecArgv(undefined, ['redis-cli', 'ping'], ip)).toEqual(['redis-cli', 'ping']);
  });
});
