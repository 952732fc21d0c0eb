import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KObject } from '../types.ts';
import { addLocalImage, LocalImageRegistry, readImagesFile } from './localImageRegistry.ts';
import { containerArgv } from './processRuntime.ts';
import { parseProcStat, parseVmRss, sampleGroups } from './procStats.ts';
import { probePort } from './probes.ts';
import { serviceEnv } from '../kubelet/serviceEnv.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-local-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('/proc parsing', () => {
  it('reads pgrp and CPU ticks after the last parenthesis of the command name', () => {
    const line = '4242 (we (ird) name) S 1 4200 4200 0 -1 4194560 500 0 0 0 37 13 0 0 20 0 7 0 100 1000000 2000 18446744073709551615';
    expect(parseProcStat(line)).toEqual({ pid: 4242, pgrp: 4200, cpuTicks: 50 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
  it('reads VmRSS in bytes, 0 without it', () => {
    expect(parseVmRss('Name:\tnode\nVmRSS:\t   75792 kB\nThreads: 7\n')).toBe(75792 * 1024);
    expect(parseVmRss('Name:\tkthreadd\n')).toBe(0);
  });
  it('sums usage per process group and ignores other groups', () => {
    const root = tmp();
    const proc = (pid: number, pgrp: number, ticks: number, rssKb: number): void => {
      mkdirSync(join(root, String(pid)));
      writeFileSync(join(root, String(pid), 'stat'), `${pid} (x) S 1 ${pgrp} ${pgrp} 0 -1 0 0 0 0 0 ${ticks} 0 0 0`);
      writeFileSync(join(root, String(pid), 'status'), `VmRSS:\t${rssKb} kB\n`);
    };
    proc(10, 10, 100, 1000);
    proc(11, 10, 20, 500);
    proc(12, 12, 999, 999);
    mkdirSync(join(root, 'self'));
    const got = sampleGroups(new Set([10]), root);
    expect([...got]).toEqual([[10, { cpuTicks: 120, rssBytes: 1500 * 1024 }]]);
  });
});

describe('container environment and argv', () => {
  const svc = (name: string, ip: string, ports: Record<string, unknown>[]): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'x' }, spec: { clusterIP: ip, ports } });
  it('gives the kubelet service variables, skipping headless Services', () => {
    const env = serviceEnv([svc('redis-master', '127.96.1.2', [{ name: 'redis', port: 6379 }]), svc('headless', 'None', [{ port: 80 }])]);
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(m).toEqual({
      REDIS_MASTER_SERVICE_HOST: '127.96.1.2',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_SERVICE_PORT_REDIS: '6379',
      REDIS_MASTER_PORT: 'tcp://127.96.1.2:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://127.96.1.2:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '127.96.1.2',
    });
  });
  it('lets command replace the image command and args follow it', () => {
    expect(containerArgv({ argv: ['node', 'a.js'], cwd: '/' }, { args: ['--x'] })).toEqual(['node', 'a.js', '--x']);
    expect(containerArgv({ argv: ['node', 'a.js'], cwd: '/' }, { command: ['sh', '-c', 'true'], args: ['y'] })).toEqual(['sh', '-c', 'true', 'y']);
    expect(containerArgv({ command: 'npm start', cwd: '/' }, {})).toEqual(['/bin/sh', '-c', 'npm start', 'sh']);
    expect(containerArgv({ command: 'npm start', cwd: '/' }, { args: ['--', 'a b'] })).toEqual(['/bin/sh', '-c', 'npm start "$@"', 'sh', '--', 'a b']);
  });
  it('resolves named probe ports', () => {
    const c = { ports: [{ name: 'http', containerPort: 8080 }] };
    expect(probePort('http', c)).toBe(8080);
    expect(probePort('9090', c)).toBe(9090);
    expect(probePort(7, c)).toBe(7);
    expect(probePort('nope', c)).toBeUndefined();
  });
});

describe('local image registry', () => {
  it('has hello built in, reads the file live, and prefers name:tag over name', () => {
    const d = tmp();
    const file = join(d, '.berth', 'images.yaml');
    const reg = new LocalImageRegistry({ file });
    expect(reg.lookup('hello', 'any')?.argv?.some((a) => a.endsWith('services/hello/dist/main.js'))).toBe(true);
    expect(reg.lookup('httpbin', '1.0.0')?.argv?.some((a) => a.endsWith('services/httpbin/dist/main.js'))).toBe(true);
    expect(reg.lookup('api', '1.0.0')?.argv?.some((a) => a.endsWith('services/api/dist/main.js'))).toBe(true);
    expect(reg.lookup('auth', '1.0.0')?.argv?.some((a) => a.endsWith('services/auth/dist/main.js'))).toBe(true);
    expect(reg.lookup('images', '1.0.0')?.argv?.some((a) => a.endsWith('services/images/dist/main.js'))).toBe(true);
    expect(reg.lookup('web', '1')).toBeUndefined();
    addLocalImage(file, 'web', { command: 'node server.js', cwd: d });
    addLocalImage(file, 'web:2', { command: 'node server2.js', cwd: d, env: { A: '1' } });
    expect(reg.lookup('web', '1')).toEqual({ command: 'node server.js', cwd: d });
    expect(reg.lookup('web', '2')).toEqual({ command: 'node server2.js', cwd: d, env: { A: '1' } });
    expect(() => addLocalImage(file, 'Bad Name', { command: 'x', cwd: d })).toThrow(/not a valid image name/);
  });
  it('resolves a relative cwd against the project directory and rejects entries without a command', () => {
    const d = tmp();
    mkdirSync(join(d, '.berth'));
    writeFileSync(join(d, '.berth', 'images.yaml'), 'images:\n  web: {command: "npm start", cwd: apps/web}\n');
    expect(readImagesFile(join(d, '.berth', 'images.yaml'))).toEqual({ web: { command: 'npm start', cwd: join(d, 'apps/web') } });
    writeFileSync(join(d, '.berth', 'images.yaml'), 'images:\n  web: {cwd: .}\n');
    expect(() => readImagesFile(join(d, '.berth', 'images.yaml'))).toThrow(/needs a command/);
    // A broken file makes its images unknown instead of failing the lookup.
    expect(new LocalImageRegistry({ file: join(d, '.berth', 'images.yaml') }).lookup('web', 'x')).toBeUndefined();
  });
});
